package wstransport

import (
	"runtime"
	"sync"

	"github.com/zishang520/socket.io/servers/engine/v3/transports"
)

// A Cork holds the frames a broadcast writes to many connections, so that
// they are written by flusher goroutines instead of the broadcaster, one
// system call per connection for whatever reached it meanwhile. Without it a
// broadcast to a room of 1,000 is 1,000 system calls on the broadcaster's
// goroutine, each with a single packet, and the handler that broadcast waits
// for all of them; with it the broadcaster encodes the frames and goes on,
// and when broadcasts come faster than the flushers write, a connection's
// frames of several broadcasts go out together (as the library's transport
// does by accident, its write goroutine lagging behind the engine's buffer).
//
//	var c wstransport.Cork
//	for each recipient { c.Add(engineSocket.Transport()); write the packet }
//	c.Release()
//
// A connection's frames keep their order: those written while it is corked
// are kept in order and written before anything sent after the cork is
// released. Control frames (pongs) are not held; a close frame is written
// after the held frames.
type Cork struct{ held []*transport }

// Add corks tr if it is this package's transport (the library's transports,
// polling and compressed connections are left alone) and no other Cork holds
// it already; then Release hands it to a flusher.
func (c *Cork) Add(tr transports.Transport) {
	if t, ok := tr.(*transport); ok && t.cork() {
		c.held = append(c.held, t)
	}
}

// Release hands the corked transports to the flushers and returns at once.
// When the flushers are that far behind, the caller writes them itself.
func (c *Cork) Release() {
	if len(c.held) == 0 {
		return
	}
	flushers.once.Do(startFlushers)
	select {
	case flushers.work <- c.held:
	default:
		uncorkAll(c.held)
	}
	c.held = nil
}

var flushers struct {
	once sync.Once
	work chan []*transport
}

// startFlushers starts one flusher per processor, for the life of the
// process: their stacks stay grown, and an idle one costs a parked goroutine.
func startFlushers() {
	n := runtime.GOMAXPROCS(0)
	flushers.work = make(chan []*transport, 4*n)
	for range n {
		go func() {
			for ts := range flushers.work {
				uncorkAll(ts)
			}
		}()
	}
}

func uncorkAll(ts []*transport) {
	for _, t := range ts {
		t.uncork()
	}
}

// cork makes Send keep frames in t.held until uncork. It reports whether this
// call corked t (false: not corkable now, or corked already by another Cork,
// whose uncork writes these frames too).
func (t *transport) cork() bool {
	if t.deflate() {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.corked || t.closed || t.closeReq || t.closeSent {
		return false
	}
	t.corked = true
	return true
}

// uncork writes the frames held since cork (or queues them behind the write
// in flight).
func (t *transport) uncork() {
	t.mu.Lock()
	b := t.held
	t.held, t.corked = nil, false
	if b == nil {
		t.mu.Unlock()
		return
	}
	if t.closed || t.closeSent {
		t.mu.Unlock()
		putBatch(b)
		return
	}
	t.writeLocked(b, false)
}
