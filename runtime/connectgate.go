package runtime

import (
	"sync"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	engine "github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// connectGate works around a race in zishang520/socket.io v3.0.6: a namespace
// connection writes the CONNECT packet to the client (socket._onconnect) before it
// registers the socket with its client (client.nsps.Store). A client that emits
// as soon as it is connected, as most apps do, can have that event read in the
// gap; the library then sees an event for an unknown namespace and closes the
// whole connection. Node's socket.io cannot hit this: it is single-threaded.
//
// The gate holds back the packets that follow a CONNECT on one Engine.IO
// connection until the runtime's "connection" handler ran, which the library
// calls after the registration, or until the CONNECT is refused (the library
// writes connect_error and registers nothing). It closes again at every
// CONNECT read: a client that leaves the namespace and joins again on the same
// connection has the same gap, for its next event or its next DISCONNECT (a
// DISCONNECT read in the gap is a packet for an unknown namespace: the library
// closes the connection). The faster the answer to CONNECT reaches the client,
// the likelier the gap: the runtime's WebSocket transport writes it on the
// spot. It costs one mutex and a non-blocking channel check per incoming
// packet once open.
type connectGate struct {
	timeout time.Duration
	mu      sync.Mutex
	open    map[string]*gateState // by Engine.IO connection id
}

type gateState struct {
	ch      chan struct{} // closed: open
	pending bool          // ch is not closed yet
}

func newConnectGate(timeout time.Duration) *connectGate {
	return &connectGate{timeout: timeout, open: map[string]*gateState{}}
}

// install puts the gate's listener in front of the library's on every new
// Engine.IO connection. It must be called after the socket.io server bound the
// engine, so that the library's own "data" listener is already registered.
func (g *connectGate) install(eio engine.BaseServer) {
	_ = eio.On("connection", func(args ...any) {
		conn, ok := args[0].(engine.Socket)
		if !ok {
			return
		}
		st := &gateState{ch: make(chan struct{}), pending: true}
		id := conn.Id()
		g.mu.Lock()
		g.open[id] = st
		g.mu.Unlock()
		listeners := conn.Listeners("data")
		conn.RemoveAllListeners("data")
		_ = conn.On("data", func(args ...any) { g.wait(id, args) })
		_ = conn.On("data", listeners...)
		// connect_error written: the CONNECT is over, nothing was registered.
		_ = conn.On("packetCreate", func(args ...any) {
			if len(args) > 0 && isConnectErrorPacket(args[0]) {
				g.release(id)
			}
		})
		_ = conn.Once("close", func(...any) { g.forget(id) })
	})
}

// wait blocks a packet other than CONNECT until the gate is open; a CONNECT
// closes it.
func (g *connectGate) wait(id string, args []any) {
	connect := len(args) > 0 && isConnectPacket(args[0])
	g.mu.Lock()
	st, ok := g.open[id]
	if !ok {
		g.mu.Unlock()
		return
	}
	if connect {
		if !st.pending {
			st.ch, st.pending = make(chan struct{}), true
		}
		g.mu.Unlock()
		return
	}
	ch := st.ch
	g.mu.Unlock()
	if len(args) == 0 {
		return
	}
	select {
	case <-ch:
	case <-time.After(g.timeout):
	}
}

func isConnectPacket(data any) bool {
	switch d := data.(type) {
	case string:
		return len(d) > 0 && d[0] == '0'
	case *types.StringBuffer:
		b := d.Bytes()
		return len(b) > 0 && b[0] == '0'
	}
	return false // binary attachments follow their header, which waited already
}

func isConnectErrorPacket(p any) bool {
	pk, ok := p.(*packet.Packet)
	if !ok || pk.Type != packet.MESSAGE {
		return false
	}
	b, ok := pk.Data.(*types.StringBuffer)
	return ok && b.Len() > 0 && b.Bytes()[0] == '4'
}

// release opens the gate of a connection (its namespace connection is
// complete, or refused).
func (g *connectGate) release(id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if st, ok := g.open[id]; ok && st.pending {
		st.pending = false
		close(st.ch)
	}
}

// forget opens the gate of a closed connection and drops it.
func (g *connectGate) forget(id string) {
	g.release(id)
	g.mu.Lock()
	delete(g.open, id)
	g.mu.Unlock()
}
