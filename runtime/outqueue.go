package runtime

import (
	"sync/atomic"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	engine "github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// boundQueue bounds the outgoing bytes an Engine.IO connection holds in
// memory. The engine keeps, per connection, a write buffer that every packet
// enters (its "packetCreate" event) and that it hands to the transport whole
// once the transport is writable again ("flush"). A client that stops
// reading keeps its WebSocket write blocked in the kernel, so the buffer
// only grows: each broadcast to its rooms adds a copy. Counting bytes in at
// packetCreate and out at flush gives the buffer's size without touching the
// library; past MaxQueuedBytes the connection's socket is disconnected.
func (s *Server) boundQueue(conn engine.Socket) {
	max := s.opts.MaxQueuedBytes
	if max <= 0 {
		return
	}
	var queued atomic.Int64
	var over atomic.Bool
	_ = conn.On("packetCreate", func(args ...any) {
		if n := queued.Add(packetSize(args)); n > max && over.CompareAndSwap(false, true) {
			go s.overflow(conn, n) // we are inside the engine's write path
		}
	})
	_ = conn.On("flush", func(args ...any) {
		if len(args) > 0 {
			if wbuf, ok := args[0].([]*packet.Packet); ok {
				var n int64
				for _, p := range wbuf {
					n += dataLen(p)
				}
				queued.Add(-n)
			}
		}
	})
}

func packetSize(args []any) int64 {
	if len(args) == 0 {
		return 0
	}
	p, _ := args[0].(*packet.Packet)
	return dataLen(p)
}

// dataLen is a packet's payload size; the engine has not read it yet at
// packetCreate and flush (each connection gets its own copy of a broadcast).
func dataLen(p *packet.Packet) int64 {
	if p == nil {
		return 0
	}
	if b, ok := p.Data.(types.BufferInterface); ok {
		return int64(b.Len())
	}
	return 0
}

// overflow disconnects the socket of a connection over its queue bound: it
// leaves every room at once (broadcasts stop adding to its queue), the
// Socket.IO disconnect packet is queued behind the backlog (a client that
// reads again sees "io server disconnect" and closes the connection), and the
// connection is cut after Options.OverflowGrace if it is still open (a client that
// still does not read then sees "transport close" or a ping timeout).
func (s *Server) overflow(conn engine.Socket, queued int64) {
	socketID := ""
	if v, ok := s.byConn.Load(conn.Id()); ok {
		rs := v.(*Socket)
		socketID = rs.ID()
		rs.lib().Disconnect(false)
	}
	s.log.Warn("disconnected a client that does not read: outgoing queue over the limit",
		"socket", socketID, "remote", conn.RemoteAddress(), "queued", queued, "max", s.opts.MaxQueuedBytes)
	// Not conn.Close(false): the engine closes the transport once the buffer
	// is handed to it, not written, which would drop the disconnect packet.
	// The stock client closes the connection itself on "io server disconnect".
	time.AfterFunc(s.opts.OverflowGrace, func() {
		if conn.ReadyState() != "closed" {
			conn.Close(true)
		}
	})
}
