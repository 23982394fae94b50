// Package wstransport is a WebSocket transport for zishang520's Engine.IO
// server (github.com/zishang520/socket.io/servers/engine/v3), registered
// through ServerOptions.SetTransports in place of the library's own. The
// engine still upgrades the HTTP request (with gorilla/websocket) and hands
// the connection over; the engine, the Socket.IO layer, rooms and adapters
// are the library's. Only the transport's write path differs, and the read
// path's edges:
//
//   - One write system call per Send, however many packets it carries: the
//     packets the engine queued while the previous write was in flight (its
//     write buffer, bounded by the runtime's MaxQueuedBytes) go out together,
//     as Node's cork does. The library writes every packet with its own
//     system call.
//   - No goroutine per connection for writing: Send makes one non-blocking
//     writev on the caller's goroutine (the engine's flush). Only when the
//     kernel does not take it all (a slow reader) does a goroutine finish the
//     write, blocking, and exit. The library hands every Send to a queue
//     whose goroutine (started for each burst of writes) does the writing.
//   - A broadcast does not make its recipients' system calls: the runtime's
//     fan-out corks each recipient (Cork, cork.go), the frames are held, and
//     flusher goroutines (one per processor) write them, so that the
//     broadcaster goes on and a connection's frames of several broadcasts go
//     out together when broadcasts come faster than the flushers write.
//     Defer does the same for one recipient of a loop the runtime does not
//     own (the Redis adapters').
//   - No per-connection write buffer: frames are assembled in pooled
//     buffers, returned once written; payloads of refMin bytes or more (and
//     every WsPreEncodedFrame of that size, shared by the recipients of a
//     broadcast) are not copied but referenced by the writev.
//   - Frames written by hand (server frames are not masked), so gorilla's
//     write path (its NextWriter, its buffer) is not used; gorilla still
//     reads: fragmented messages, masking and control frames are its.
//
// At the edges it behaves as the library's transport or as Node's: a message
// over MaxMessageSize gets close 1009 (as gorilla's read limit does), pings
// get pongs and a client's close gets the close echoed (gorilla's default
// handlers, here written through the batch so they never land inside one),
// binary and text frames as encoded, and a server-side close sends the
// frames queued, then a close frame (no status, as Node's ws.close()), then
// half-closes and waits up to closeLinger for the client's close before the
// connection goes, so that the client reads the last packets instead of a
// reset. With permessage-deflate configured (ServerOptions
// SetPerMessageDeflate) and offered by the client, data frames go through
// gorilla's compressing writer, one per packet, on a goroutine per busy
// period, as the library does.
package wstransport

import (
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	ws "github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/parsers/engine/v3/parser"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

const (
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xA

	// refMin is the payload size from which a batch references the payload
	// instead of copying it next to the frame's header.
	refMin = 1024
	// maxPooled bounds the buffer a batch keeps when it goes back to the pool.
	maxPooled = 64 << 10
	// closeFlush is how long the frames still queued when the transport is
	// closed may take to go out; closeLinger how long the client has to answer
	// the close frame before the connection is cut.
	closeFlush  = time.Second
	closeLinger = time.Second
	// controlWait bounds a control frame written by gorilla (deflate mode).
	controlWait = time.Second
)

// Options configures the transport.
type Options struct {
	// MaxMessageSize bounds one incoming message in bytes: over it the
	// connection is closed with 1009 (message too big). Give the engine's
	// MaxHttpBufferSize. <= 0: no bound.
	MaxMessageSize int64
}

type builder struct{ opts Options }

// New returns the transport's constructor, to register with the engine:
//
//	so.SetTransports(types.NewSet[transports.TransportCtor](engine.Polling, wstransport.New(o)))
//
// Polling and its upgrade to WebSocket stay the library's.
func New(o Options) transports.TransportCtor { return &builder{opts: o} }

func (*builder) Name() string          { return transports.WEBSOCKET }
func (*builder) HandlesUpgrades() bool { return true }
func (*builder) UpgradesTo() []string  { return nil }
func (b *builder) New(ctx *types.HttpContext) transports.Transport {
	return newTransport(ctx, b.opts)
}

type transport struct {
	transports.Transport // the library's base: state, parser, events, Close

	opts    Options
	idle    time.Duration
	ws      *types.WebSocketConn
	nc      net.Conn
	rw      *rawWriter // under mu
	offered bool       // the client offered permessage-deflate

	mu        sync.Mutex
	writing   bool     // a goroutine is writing; frames wait in queue
	queue     []*batch // frames for that goroutine, in order
	gq        []*packet.Packet
	drains    int  // Sends written by that goroutine whose "drain" is owed
	closeReq  bool // DoClose ran: no more data frames
	closeSent bool // a close frame is written or queued
	closed    bool
	reading   bool   // the reader goroutine runs
	lingering bool   // the reader waits for the client's close
	corked    bool   // a Cork holds the frames of Send (cork.go)
	held      *batch // those frames, written by uncork
}

func newTransport(ctx *types.HttpContext, o Options) *transport {
	t := &transport{Transport: transports.MakeTransport(), opts: o}
	t.Prototype(t)
	t.Construct(ctx)
	return t
}

// Construct sets the transport up over the connection the engine upgraded.
func (t *transport) Construct(ctx *types.HttpContext) {
	t.Transport.Construct(ctx)
	t.idle = ctx.IdleTimeout
	t.ws = ctx.Websocket
	t.nc = t.ws.NetConn()
	t.rw = newRawWriter(t.nc)
	for _, v := range ctx.Request().Header.Values("Sec-WebSocket-Extensions") {
		if strings.Contains(v, "permessage-deflate") {
			t.offered = true
		}
	}
	// The bound is applied while reading (so that the 1009 goes through the
	// batch); gorilla's own limit would write its close frame itself.
	t.ws.SetReadLimit(0)
	t.ws.SetPingHandler(func(data string) error {
		t.control(opPing, []byte(data))
		return nil
	})
	t.ws.SetCloseHandler(func(code int, _ string) error {
		var msg []byte
		if code != ws.CloseNoStatusReceived {
			msg = ws.FormatCloseMessage(code, "")
		}
		t.control(opClose, msg)
		return nil
	})

	_ = t.ws.On("error", func(errs ...any) {
		var err error
		if len(errs) > 0 {
			err, _ = errs[0].(error)
		}
		t.OnError("websocket error", err)
	})
	_ = t.ws.Once("close", func(...any) { t.OnClose() })

	t.SetWritable(true)
	t.SetPerMessageDeflate(nil)

	transports.StartReader(t, ctx.TransportReadPermission(), t.read)
}

func (t *transport) Name() string          { return transports.WEBSOCKET }
func (t *transport) HandlesUpgrades() bool { return true }

// deflate reports whether data frames are compressed (through gorilla). The
// engine sets PerMessageDeflate right after constructing the transport,
// before anything is sent.
func (t *transport) deflate() bool { return t.offered && t.PerMessageDeflate() != nil }

// ---- reading

func (t *transport) read() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.reading = true
	t.mu.Unlock()
	defer func() { _ = t.ws.Close() }() // emits "close": OnClose
	max := t.opts.MaxMessageSize
	for {
		t.mu.Lock()
		lingering := t.lingering
		t.mu.Unlock()
		if t.idle > 0 && !lingering {
			_ = t.ws.SetReadDeadline(time.Now().Add(t.idle))
		}
		mt, r, err := t.ws.NextReader()
		if err != nil {
			t.readError(err)
			return
		}
		var buf types.BufferInterface
		if mt == ws.BinaryMessage {
			buf = types.NewBytesBuffer(nil)
		} else {
			buf = types.NewStringBuffer(nil)
		}
		src := r
		if max > 0 {
			src = io.LimitReader(r, max+1)
		}
		if _, err := buf.ReadFrom(src); err != nil {
			t.readError(err)
			return
		}
		if max > 0 && int64(buf.Len()) > max {
			t.tooBig()
			return
		}
		if lingering {
			continue
		}
		t.OnData(buf)
	}
}

// readError reports err as the library's transport does: a close from the
// client or a closed connection is a close, anything else an error first.
func (t *transport) readError(err error) {
	t.mu.Lock()
	quiet := t.lingering || t.closeReq
	t.mu.Unlock()
	if quiet || ws.IsUnexpectedCloseError(err) || errors.Is(err, net.ErrClosed) {
		return // the deferred close
	}
	t.ws.Emit("error", err)
}

// tooBig answers a message over MaxMessageSize: close 1009, the error
// gorilla's read limit gives, then what the client still sends is read and
// dropped until it closes (or closeLinger), so that it reads the 1009.
func (t *transport) tooBig() {
	t.control(opClose, ws.FormatCloseMessage(ws.CloseMessageTooBig, ""))
	t.ws.Emit("error", ws.ErrReadLimit)
	t.halfClose()
	_ = t.nc.SetReadDeadline(time.Now().Add(closeLinger))
	_, _ = io.Copy(io.Discard, t.nc)
}

// ---- writing

// Send writes packets: one writev, on the caller's goroutine, if the kernel
// takes it all (then "drain" now, and the transport stays writable);
// otherwise the transport is not writable (the engine keeps what comes next
// in its buffer) until a goroutine has written the rest, then "drain" and
// "ready" (the engine flushes its buffer, in one Send).
func (t *transport) Send(packets []*packet.Packet) {
	if t.deflate() {
		t.sendDeflate(packets)
		return
	}
	if t.hold(packets) {
		return
	}
	b := getBatch()
	for _, p := range packets {
		if err := t.encode(b, p); err != nil {
			putBatch(b)
			t.ws.Emit("error", err)
			t.Emit("drain")
			return
		}
	}
	t.submit(b, true)
}

// hold appends the frames of packets to t.held when a Cork holds t, and
// reports whether it did. The Send is done for the engine then ("drain").
func (t *transport) hold(packets []*packet.Packet) bool {
	t.mu.Lock()
	if !t.corked {
		t.mu.Unlock()
		return false
	}
	if t.held == nil {
		t.held = getBatch()
	}
	var err error
	for _, p := range packets {
		if err = t.encode(t.held, p); err != nil {
			break
		}
	}
	t.mu.Unlock()
	if err != nil {
		t.ws.Emit("error", err)
	}
	t.Emit("drain")
	return true
}

// encode appends p's frame to b.
func (t *transport) encode(b *batch, p *packet.Packet) error {
	if p.Options != nil && p.Options.WsPreEncodedFrame != nil {
		// A broadcast's packet, encoded once for all its recipients.
		f := p.Options.WsPreEncodedFrame
		op := byte(opBinary)
		if _, ok := f.(*types.StringBuffer); ok {
			op = opText
		}
		b.add(op, 0, f.Bytes())
		return nil
	}
	if t.Protocol() == 4 {
		if typ, ok := parser.PACKET_TYPES[p.Type]; ok {
			switch d := p.Data.(type) {
			case nil:
				b.add(opText, typ, nil)
				return nil
			case *types.StringBuffer:
				b.add(opText, typ, d.Bytes())
				return nil
			case *types.BytesBuffer:
				if t.SupportsBinary() {
					b.add(opBinary, 0, d.Bytes())
					return nil
				}
			}
		}
	}
	data, err := t.Parser().EncodePacket(p, t.SupportsBinary())
	if err != nil {
		return err
	}
	op := byte(opBinary)
	if _, ok := data.(*types.StringBuffer); ok {
		op = opText
	}
	b.add(op, 0, data.Bytes())
	return nil
}

// control writes a control frame, behind the frames queued.
func (t *transport) control(op byte, payload []byte) {
	if op == opPing {
		op = opPong // the answer to a ping
	}
	t.mu.Lock()
	if t.closed || t.closeSent {
		t.mu.Unlock()
		return
	}
	if op == opClose {
		t.mu.Unlock()
		t.uncork() // the frames held go before the close
		t.mu.Lock()
		if t.closed || t.closeSent {
			t.mu.Unlock()
			return
		}
		t.closeSent = true
	}
	t.mu.Unlock()
	if t.deflate() {
		mt := ws.PongMessage
		if op == opClose {
			mt = ws.CloseMessage
		}
		_ = t.ws.WriteControl(mt, payload, time.Now().Add(controlWait))
		return
	}
	b := getBatch()
	b.add(op, 0, payload)
	t.submitControl(b)
}

func (t *transport) submitControl(b *batch) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		putBatch(b)
		return
	}
	t.writeLocked(b, false)
}

// submit writes b (a Send's frames) or queues it behind the write in flight.
func (t *transport) submit(b *batch, fromSend bool) {
	t.mu.Lock()
	if t.closed || t.closeSent || (t.closeReq && !t.writing) {
		t.mu.Unlock()
		putBatch(b)
		if fromSend {
			t.Emit("drain")
		}
		return
	}
	t.writeLocked(b, fromSend)
}

// writeLocked is called with t.mu held and releases it.
func (t *transport) writeLocked(b *batch, fromSend bool) {
	if t.writing {
		t.queue = append(t.queue, b)
		if fromSend {
			t.drains++
		}
		t.mu.Unlock()
		return
	}
	iov := b.vec()
	n := 0
	if b.size > 0 {
		n, _ = t.rw.try(iov)
	}
	if n == b.size {
		t.mu.Unlock()
		putBatch(b)
		if fromSend {
			t.Emit("drain")
		}
		return
	}
	// The kernel's buffer is full (or this is not a plain TCP connection):
	// a goroutine writes the rest, blocking, and what comes meanwhile.
	// Not writable meanwhile, even for a control frame (a pong to a client
	// that pings and does not read): what the engine sends next waits in its
	// buffer, which MaxQueuedBytes bounds, not in this queue.
	b.skip(n)
	t.writing = true
	t.queue = append(t.queue, b)
	if fromSend {
		t.drains++
	}
	t.SetWritable(false)
	t.mu.Unlock()
	go t.writeLoop()
}

// writeLoop writes the queue until it is empty, then gives the transport
// back to the engine (or finishes a close requested meanwhile).
func (t *transport) writeLoop() {
	var iov net.Buffers
	for {
		t.mu.Lock()
		q := t.queue
		t.queue = nil
		if len(q) == 0 {
			t.writing = false
			drains := t.drains
			t.drains = 0
			closing, closed := t.closeReq, t.closed
			t.mu.Unlock()
			if closed {
				return
			}
			if closing {
				t.finishClose()
				return
			}
			for range drains {
				t.Emit("drain")
			}
			t.SetWritable(true)
			t.Emit("ready")
			return
		}
		t.mu.Unlock()
		iov = iov[:0]
		for _, b := range q {
			iov = append(iov, b.vec()...)
		}
		// No write deadline but DoClose's: gorilla sets none (it writes no
		// control frame here), and clearing one here could race DoClose's.
		_, err := iov.WriteTo(t.nc)
		clear(iov[:cap(iov)])
		for _, b := range q {
			putBatch(b)
		}
		if err != nil {
			t.mu.Lock()
			for _, b := range t.queue {
				putBatch(b)
			}
			t.queue = nil
			t.writing = false
			quiet := t.closeReq || t.closed
			t.mu.Unlock()
			if !quiet && !errors.Is(err, net.ErrClosed) {
				t.ws.Emit("error", err)
			}
			_ = t.ws.Close()
			return
		}
	}
}

// sendDeflate writes packets through gorilla's compressing writer, on a
// goroutine for as long as packets come.
func (t *transport) sendDeflate(packets []*packet.Packet) {
	t.mu.Lock()
	if t.closed || t.closeSent {
		t.mu.Unlock()
		t.Emit("drain")
		return
	}
	t.gq = append(t.gq, packets...)
	t.gq = append(t.gq, nil) // a Send's end: one "drain"
	t.SetWritable(false)
	if t.writing {
		t.mu.Unlock()
		return
	}
	t.writing = true
	t.mu.Unlock()
	go t.deflateLoop()
}

func (t *transport) deflateLoop() {
	for {
		t.mu.Lock()
		q := t.gq
		t.gq = nil
		if len(q) == 0 {
			t.writing = false
			closing, closed := t.closeReq, t.closed
			t.mu.Unlock()
			if closed {
				return
			}
			if closing {
				t.finishClose()
				return
			}
			t.SetWritable(true)
			t.Emit("ready")
			return
		}
		t.mu.Unlock()
		for _, p := range q {
			if p == nil {
				t.Emit("drain")
				continue
			}
			if err := t.writeDeflate(p); err != nil {
				if !errors.Is(err, net.ErrClosed) {
					t.ws.Emit("error", err)
				}
				_ = t.ws.Close()
				return
			}
		}
	}
}

func (t *transport) writeDeflate(p *packet.Packet) error {
	compress := p.Options == nil || p.Options.Compress == nil || *p.Options.Compress
	data, err := t.Parser().EncodePacket(p, t.SupportsBinary())
	if err != nil {
		return err
	}
	if data.Len() < t.PerMessageDeflate().Threshold {
		compress = false
	}
	mt := ws.BinaryMessage
	if _, ok := data.(*types.StringBuffer); ok {
		mt = ws.TextMessage
	}
	t.ws.EnableWriteCompression(compress)
	return t.ws.WriteMessage(mt, data.Bytes())
}

// ---- closing

// DoClose closes the transport (the engine's Close): the frames queued go
// out first (within closeFlush), then a close frame.
func (t *transport) DoClose(fn types.Callable) {
	t.uncork() // the frames a Cork holds are queued frames too
	t.mu.Lock()
	if t.closeReq {
		t.mu.Unlock()
		if fn != nil {
			fn()
		}
		return
	}
	t.closeReq = true
	writing := t.writing
	t.mu.Unlock()
	if fn != nil {
		fn()
	}
	if writing {
		_ = t.nc.SetWriteDeadline(time.Now().Add(closeFlush))
		return // writeLoop finishes
	}
	t.finishClose()
}

// finishClose writes the close frame, half-closes, and leaves the reader
// closeLinger to see the client's answer; without a reader it closes now.
func (t *transport) finishClose() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	sent := t.closeSent
	t.closeSent = true
	t.lingering = true
	reading := t.reading
	ok := true
	if !sent && !t.deflate() {
		b := getBatch()
		b.add(opClose, 0, nil)
		n, _ := t.rw.try(b.vec())
		ok = n == b.size
		putBatch(b)
	}
	t.mu.Unlock()
	if !sent && t.deflate() {
		ok = t.ws.WriteControl(ws.CloseMessage, nil, time.Now().Add(controlWait)) == nil
	}
	if !ok || !reading {
		_ = t.ws.Close()
		return
	}
	t.halfClose()
	_ = t.nc.SetReadDeadline(time.Now().Add(closeLinger))
}

func (t *transport) halfClose() {
	if cw, ok := t.nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}

// OnClose runs once the connection is closed, whoever closed it.
func (t *transport) OnClose() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.Transport.OnClose()
	_ = t.ws.Close()
}

// ---- batches

// batch is the frames of one write: headers and small payloads in buf,
// payloads of refMin bytes or more referenced in place.
type batch struct {
	buf   []byte
	mark  int      // start of buf's part not yet in segs
	segs  [][]byte // buf's parts and referenced payloads, in order
	built bool     // vec has run: segs is the write vector, skip advances it
	size  int      // bytes in the vector
}

var batches = sync.Pool{New: func() any { return &batch{buf: make([]byte, 0, 512)} }}

func getBatch() *batch { return batches.Get().(*batch) }

func putBatch(b *batch) {
	if cap(b.buf) > maxPooled {
		return
	}
	clear(b.segs[:cap(b.segs)]) // drop the references to payloads
	b.buf, b.segs, b.mark, b.built, b.size = b.buf[:0], b.segs[:0], 0, false, 0
	batches.Put(b)
}

// add appends a final frame: the header, prefix (an Engine.IO packet type,
// if not 0) and payload.
func (b *batch) add(op byte, prefix byte, payload []byte) {
	n := len(payload)
	if prefix != 0 {
		n++
	}
	b.buf = appendHeader(b.buf, op, n)
	if prefix != 0 {
		b.buf = append(b.buf, prefix)
	}
	if len(payload) >= refMin {
		b.cut()
		b.segs = append(b.segs, payload)
	} else {
		b.buf = append(b.buf, payload...)
	}
}

// cut closes buf's current part as a segment. Its capacity ends with it, so
// later appends to buf do not write into it (and if buf moves, the segment
// keeps the old array, unchanged).
func (b *batch) cut() {
	if b.mark < len(b.buf) {
		b.segs = append(b.segs, b.buf[b.mark:len(b.buf):len(b.buf)])
		b.mark = len(b.buf)
	}
}

// vec returns the write vector: what remains to be written.
func (b *batch) vec() [][]byte {
	if !b.built {
		b.cut()
		b.built = true
		b.size = 0
		for _, s := range b.segs {
			b.size += len(s)
		}
	}
	return b.segs
}

// skip drops the first n bytes of the vector (written).
func (b *batch) skip(n int) {
	b.vec()
	b.size -= n
	for n > 0 && len(b.segs) > 0 {
		if n < len(b.segs[0]) {
			b.segs[0] = b.segs[0][n:]
			return
		}
		n -= len(b.segs[0])
		b.segs[0] = nil
		b.segs = b.segs[1:]
	}
}

func appendHeader(b []byte, op byte, n int) []byte {
	b = append(b, 0x80|op)
	switch {
	case n < 126:
		return append(b, byte(n))
	case n <= 0xffff:
		return append(b, 126, byte(n>>8), byte(n))
	default:
		u := uint64(n)
		return append(b, 127, byte(u>>56), byte(u>>48), byte(u>>40), byte(u>>32),
			byte(u>>24), byte(u>>16), byte(u>>8), byte(u))
	}
}
