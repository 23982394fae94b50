package runtime

import (
	"sync"
	"time"

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
// The gate holds back the packets that follow CONNECT on one Engine.IO
// connection until the runtime's "connection" handler ran, which the library
// calls after the registration. It costs one non-blocking channel check per
// incoming packet once open.
type connectGate struct {
	timeout time.Duration
	mu      sync.Mutex
	open    map[string]chan struct{} // by Engine.IO connection id
}

func newConnectGate(timeout time.Duration) *connectGate {
	return &connectGate{timeout: timeout, open: map[string]chan struct{}{}}
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
		ch := make(chan struct{})
		id := conn.Id()
		g.mu.Lock()
		g.open[id] = ch
		g.mu.Unlock()
		listeners := conn.Listeners("data")
		conn.RemoveAllListeners("data")
		_ = conn.On("data", func(args ...any) { g.wait(ch, args) })
		_ = conn.On("data", listeners...)
		_ = conn.Once("close", func(...any) { g.release(id) })
	})
}

// wait blocks a packet other than CONNECT until the gate is open.
func (g *connectGate) wait(ch chan struct{}, args []any) {
	select {
	case <-ch:
		return
	default:
	}
	if len(args) == 0 || isConnectPacket(args[0]) {
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

// release opens the gate of a connection (when its namespace connection is
// complete, or when it closes) and forgets it.
func (g *connectGate) release(id string) {
	g.mu.Lock()
	ch, ok := g.open[id]
	delete(g.open, id)
	g.mu.Unlock()
	if ok {
		close(ch)
	}
}
