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
func (c *Cork) Release() {
	if len(c.held) == 0 {
		return
	}
	queue(c.held...)
	clear(c.held)
	c.held = c.held[:0]
}

// Defer corks tr, as Add, and hands it to the flushers at once: what is
// written to it before a flusher gets to it is held and written then, in
// one system call. For a loop the caller does not own (the library's
// adapter calls a listener per recipient before writing to it), where no
// Release can follow the loop: when the flushers are idle one may write tr
// before the frame reaches it (then the frame is written at once, as
// without Defer); when they are behind, the frame waits for them.
func Defer(tr transports.Transport) {
	if t, ok := tr.(*transport); ok && t.cork() {
		queue(t)
	}
}

// flushChunk is how many transports a flusher takes at a time, so that the
// recipients of one large broadcast are shared among the flushers.
const flushChunk = 64

// flushq is the corked transports waiting for a flusher. A transport is in
// it at most once (cork fails while it is corked), so it holds at most one
// entry per connection.
var flushq struct {
	once sync.Once
	mu   sync.Mutex
	cond sync.Cond
	ts   []*transport // ts[head:] are waiting, oldest first
	head int
	idle int // flushers waiting on cond
}

func queue(ts ...*transport) {
	flushq.once.Do(startFlushers)
	flushq.mu.Lock()
	flushq.ts = append(flushq.ts, ts...)
	n, idle := len(flushq.ts)-flushq.head, flushq.idle
	flushq.mu.Unlock()
	switch {
	case idle == 0:
	case n > flushChunk:
		flushq.cond.Broadcast()
	default:
		flushq.cond.Signal()
	}
}

// startFlushers starts one flusher per processor, for the life of the
// process: their stacks stay grown, and an idle one costs a parked goroutine.
func startFlushers() {
	flushq.cond.L = &flushq.mu
	for range runtime.GOMAXPROCS(0) {
		go flusher()
	}
}

func flusher() {
	var batch []*transport
	for {
		flushq.mu.Lock()
		for flushq.head == len(flushq.ts) {
			flushq.idle++
			flushq.cond.Wait()
			flushq.idle--
		}
		// Oldest first, so that under a steady load no connection waits behind
		// the ones corked after it.
		end := min(len(flushq.ts), flushq.head+flushChunk)
		batch = append(batch[:0], flushq.ts[flushq.head:end]...)
		clear(flushq.ts[flushq.head:end])
		flushq.head = end
		switch {
		case flushq.head == len(flushq.ts):
			flushq.ts, flushq.head = flushq.ts[:0], 0
		case flushq.head > len(flushq.ts)/2: // keep the array from growing under a steady load
			n := copy(flushq.ts, flushq.ts[flushq.head:])
			clear(flushq.ts[n:])
			flushq.ts, flushq.head = flushq.ts[:n], 0
		}
		more := flushq.head < len(flushq.ts) && flushq.idle > 0
		flushq.mu.Unlock()
		if more {
			flushq.cond.Signal()
		}
		uncorkAll(batch)
		clear(batch)
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
	if t.closed || t.closeSent || (t.closeReq && !t.writing) { // as submit: the close frame is next
		t.mu.Unlock()
		putBatch(b)
		return
	}
	t.writeLocked(b, false)
}
