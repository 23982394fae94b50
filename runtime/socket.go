package runtime

import (
	"context"
	"encoding/json"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/zishang520/socket.io/servers/socket/v3"
	"golang.org/x/time/rate"
)

// Socket is one client connection, as generated code sees it.
type Socket struct {
	srv *Server
	svc *Service
	// cur is the library's socket; a recovered connection brings a new one
	// for the same client (see Server.recover), so it is swapped, not fixed.
	cur atomic.Pointer[socket.Socket]
	ext any // the generated socket type, from Service.Wrap

	limiter *rate.Limiter
	perEvt  map[string]*rate.Limiter // only touched from the socket's own event queue

	mu        sync.Mutex
	connected bool
	pending   [][2]any // emits made before the client joined the namespace
	data      any
	rec       *recorder // set while an idempotent handler runs: its emits are recorded
}

func newSocket(srv *Server, svc *Service, sock *socket.Socket) *Socket {
	s := &Socket{srv: srv, svc: svc}
	s.cur.Store(sock)
	s.limiter = rate.NewLimiter(srv.opts.EventLimit.Rate, srv.opts.EventLimit.Burst)
	if svc.Wrap != nil {
		s.ext = svc.Wrap(s)
	}
	return s
}

// lib returns the library's socket the client is connected through now.
func (s *Socket) lib() *socket.Socket { return s.cur.Load() }

// Ext returns the generated socket type wrapping s.
func (s *Socket) Ext() any { return s.ext }

// ID returns the Socket.IO id of the socket.
func (s *Socket) ID() string { return string(s.lib().Id()) }

// RemoteAddr returns the client's address as the server saw it.
func (s *Socket) RemoteAddr() string { return s.lib().Handshake().Address }

// Data returns the value the application attached with SetData.
func (s *Socket) Data() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// SetData attaches an application value to the socket.
func (s *Socket) SetData(v any) {
	s.mu.Lock()
	s.data = v
	s.mu.Unlock()
}

// Join adds the socket to rooms.
func (s *Socket) Join(rooms ...string) { s.lib().Join(toRooms(rooms)...) }

// Leave removes the socket from a room.
func (s *Socket) Leave(room string) { s.lib().Leave(socket.Room(room)) }

// InRoom reports whether the socket is in room.
func (s *Socket) InRoom(room string) bool { return s.lib().Rooms().Has(socket.Room(room)) }

// Disconnect closes the socket's connection.
func (s *Socket) Disconnect() { s.lib().Disconnect(true) }

// Emit sends an event to this socket. Emits made while the handshake is still
// running (from Connect) are sent right after the client joined.
func (s *Socket) Emit(event string, m Message) error {
	raw := json.RawMessage(m.AppendJSON(nil))
	if rec := s.recording(); rec != nil { // an idempotent handler: its answer replays this
		rec.add(event, raw)
	}
	s.mu.Lock()
	if !s.connected {
		s.pending = append(s.pending, [2]any{event, raw})
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	return s.lib().Emit(event, s.srv.toSocket(raw))
}

// EmitVolatile is Emit for a volatile event: dropped when the client cannot take it
// now (not connected yet, or its transport is busy writing).
func (s *Socket) EmitVolatile(event string, m Message) error {
	if !s.isConnected() {
		return nil
	}
	return s.lib().Volatile().Emit(event, s.srv.toSocket(json.RawMessage(m.AppendJSON(nil))))
}

// Broadcast sends an event to every other socket of the namespace, or, with rooms,
// to the other sockets in those rooms (socket.broadcast / socket.to(room) in Node).
func (s *Socket) Broadcast(event string, m Message, rooms ...string) error {
	return s.broadcast(event, m, rooms, false)
}

// BroadcastVolatile is Broadcast for a volatile event.
func (s *Socket) BroadcastVolatile(event string, m Message, rooms ...string) error {
	return s.broadcast(event, m, rooms, true)
}

func (s *Socket) broadcast(event string, m Message, rooms []string, volatile bool) error {
	if !s.srv.viaAdapter() {
		fanOut(s.lib().Nsp(), rooms, []string{s.ID()}, event, m, volatile)
		return nil
	}
	v := s.srv.broadcast(m)
	op := s.lib().Broadcast()
	if len(rooms) > 0 {
		op = s.lib().To(toRooms(rooms)...)
	}
	if volatile {
		op = op.Volatile()
	}
	return op.Emit(event, v)
}

// isConnected reports whether the client joined the namespace (after Connect).
func (s *Socket) isConnected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected
}

func (s *Socket) markConnected() {
	s.mu.Lock()
	pending := s.pending
	s.pending = nil
	s.connected = true
	s.mu.Unlock()
	for _, p := range pending {
		if err := s.lib().Emit(p[0].(string), s.srv.toSocket(p[1].(json.RawMessage))); err != nil {
			s.srv.log.Warn("emit after connect failed", "socket", s.ID(), "event", p[0], "err", err)
		}
	}
}

// onEvent is the socket's middleware: the library calls it from the socket's
// sequential queue, so events of one socket are handled one at a time, in order.
// It handles the event itself and never calls next.
func (s *Socket) onEvent(args []any, _ func(error)) {
	name, _ := args[0].(string)
	args = args[1:]
	var ack socket.Ack
	if n := len(args); n > 0 {
		if fn, ok := args[n-1].(func([]any, error)); ok {
			ack = fn
			args = args[:n-1]
		}
	}
	s.srv.runOnWorker(func() {
		start := time.Now()
		s.respond(name, ack, s.dispatch(name, args), start)
	})
}

// splitArgs reads a client event's arguments: its payload (nil when absent), then
// optionally the request metadata object.
func splitArgs(args []any) (payload any, meta requestMeta, err error) {
	switch len(args) {
	case 0:
		return nil, meta, nil
	case 1:
		return args[0], meta, nil
	case 2:
		meta, err = readMeta(args[1])
		return args[0], meta, err
	}
	return nil, meta, Invalid("expected a payload and request metadata, got %d arguments", len(args))
}

// dispatch runs a client event and returns its answer. An idempotent event with a
// key is answered from the store when the key was seen before.
func (s *Socket) dispatch(name string, args []any) answer {
	ev, ok := s.svc.Events[name]
	if !ok {
		return s.answerOf(name, nil, &Error{Code: CodeUnknownEvent, Message: "unknown event " + quoteString(shortName(name))}, nil)
	}
	if !s.allow(name) {
		return s.answerOf(name, nil, &Error{Code: CodeRateLimited, Message: "too many events, slow down"}, ev.Codes)
	}
	payload, meta, err := splitArgs(args)
	if err != nil {
		return s.answerOf(name, nil, err, ev.Codes)
	}
	if ev.Idempotent && meta.idempotencyKey != "" {
		return s.dispatchIdempotent(name, &ev, payload, meta.idempotencyKey)
	}
	reply, err := s.handle(name, &ev, payload)
	return s.answerOf(name, reply, err, ev.Codes)
}

func (s *Socket) handle(name string, ev *Event, arg any) (reply Message, err error) {
	srv := s.srv
	srv.active.Add(1)
	defer srv.active.Add(-1)
	if srv.closing.Load() {
		return nil, &Error{Code: CodeInternal, Message: "server shutting down"}
	}
	timeout := ev.Timeout
	if timeout == 0 {
		timeout = srv.opts.EventTimeout
	}
	ctx, cancel := context.WithTimeout(srv.ctx, timeout)
	defer cancel()
	err = srv.protect(func() error {
		var herr error
		reply, herr = ev.Handle(ctx, s, arg)
		if herr == nil && reply != nil {
			if v, ok := reply.(interface{ Validate() error }); ok {
				if verr := v.Validate(); verr != nil {
					srv.log.Error("reply does not match the schema", "event", name, "socket", s.ID(), "err", verr)
					return &Error{Code: CodeInternal, Message: "internal error"}
				}
			}
		}
		return herr
	})
	return reply, err
}

// dispatchIdempotent answers a repeated key with the recorded answer (replaying
// the events the first run emitted to its socket), and otherwise runs the handler
// while recording them, then keeps the answer for the idempotency window. A run
// that ends in "internal" (a failure, a panic, a timeout) is not kept: the retry
// runs the handler again.
func (s *Socket) dispatchIdempotent(name string, ev *Event, payload any, key string) answer {
	srv := s.srv
	req, err := newIdemRequest(name, key, payload)
	if err != nil {
		return s.answerOf(name, nil, err, ev.Codes)
	}
	ctx := srv.ctx
	timeout := ev.Timeout
	if timeout == 0 {
		timeout = srv.opts.EventTimeout
	}
	deadline := time.Now().Add(timeout)
	for wait := 20 * time.Millisecond; ; wait = min(2*wait, 250*time.Millisecond) {
		state, sealed, err := srv.opts.Idempotency.Claim(ctx, req.key, req.fingerprint, time.Now(), 2*timeout, srv.opts.IdempotencyWindow)
		switch {
		case err != nil:
			srv.log.Error("idempotency store: claim failed", "event", name, "socket", s.ID(), "err", err)
			return s.answerOf(name, nil, &Error{Code: CodeInternal, Message: "internal error"}, ev.Codes)
		case state == ClaimConflict:
			return s.answerOf(name, nil, &Error{Code: CodeIdempotencyConflict,
				Message: "this idempotency key was used for another request"}, ev.Codes)
		case state == ClaimDone:
			return s.replay(name, req, sealed, ev.Codes)
		case state == ClaimRunning && time.Now().Add(wait).Before(deadline):
			time.Sleep(wait) // the first request is still running, maybe on another node
			continue
		case state == ClaimRunning:
			return s.answerOf(name, nil, &Error{Code: CodeInternal, Message: "internal error"}, ev.Codes)
		}
		break
	}
	rec := &recorder{}
	s.mu.Lock()
	s.rec = rec
	s.mu.Unlock()
	reply, herr := s.handle(name, ev, payload)
	s.mu.Lock()
	s.rec = nil
	s.mu.Unlock()
	a := s.answerOf(name, reply, herr, ev.Codes)
	if a.err != nil && a.err.Code == CodeInternal {
		if err := srv.opts.Idempotency.Release(ctx, req.key); err != nil {
			srv.log.Error("idempotency store: release failed", "event", name, "err", err)
		}
		return a
	}
	sealed, err := req.seal(recordedAnswer{Emits: rec.emits, Envelope: a.envelope, Request: a.requestError})
	if err == nil {
		err = srv.opts.Idempotency.Complete(ctx, req.key, sealed)
	}
	if err != nil { // the effect happened; the answer is not kept, a retry may run again
		srv.log.Error("idempotency store: complete failed", "event", name, "socket", s.ID(), "err", err)
	}
	return a
}

// replay re-sends a recorded answer: the emits to the socket, then the answer.
func (s *Socket) replay(name string, req *idemRequest, sealed []byte, declared []Code) answer {
	rec, err := req.open(sealed)
	if err != nil {
		s.srv.log.Error("idempotency store: recorded answer unreadable", "event", name, "err", err)
		return s.answerOf(name, nil, &Error{Code: CodeInternal, Message: "internal error"}, declared)
	}
	for _, e := range rec.Emits {
		if err := s.lib().Emit(e.Event, s.srv.toSocket(e.Payload)); err != nil {
			s.srv.log.Warn("replay emit failed", "event", e.Event, "socket", s.ID(), "err", err)
		}
	}
	return answer{envelope: rec.Envelope, requestError: rec.Request, replayed: true}
}

// recording returns the recorder of the idempotent handler running on s, if any.
func (s *Socket) recording() *recorder {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rec
}

// allow applies the socket's event limit and the event's own, if it has one.
func (s *Socket) allow(name string) bool {
	if l, ok := s.srv.opts.EventLimits[name]; ok {
		if s.perEvt == nil {
			s.perEvt = map[string]*rate.Limiter{}
		}
		lim := s.perEvt[name]
		if lim == nil {
			lim = rate.NewLimiter(l.Rate, l.Burst)
			s.perEvt[name] = lim
		}
		if !lim.Allow() {
			return false
		}
	}
	return s.limiter.Allow()
}

var okEnvelope = json.RawMessage(`{"ok":true}`)

// answer is the answer to a client event as it goes on the wire: the ack envelope,
// and the request-error payload for a failure sent without ack.
type answer struct {
	envelope     json.RawMessage
	requestError json.RawMessage // nil on success
	err          *Error          // what the client sees; nil on success
	replayed     bool            // from the idempotency store
}

// answerOf renders the answer of a handler's reply or error: declared codes and
// runtime codes pass; anything else is logged and becomes "internal".
func (s *Socket) answerOf(name string, reply Message, err error, declared []Code) answer {
	if err == nil {
		out := okEnvelope
		if reply != nil {
			b := append(make([]byte, 0, 64), `{"ok":true,"data":`...)
			out = append(reply.AppendJSON(b), '}')
		}
		return answer{envelope: out}
	}
	name = shortName(name) // the client chose it: echo and log a bounded prefix
	e := s.srv.clientError(err, name, s.ID(), declared)
	return answer{envelope: appendErrorEnvelope(nil, e), requestError: appendRequestError(nil, name, e), err: e}
}

// respond sends an answer with the ack, or a failure as request-error, and logs the outcome.
func (s *Socket) respond(name string, ack socket.Ack, a answer, start time.Time) {
	log := s.srv.log
	failed := a.requestError != nil
	switch {
	case ack != nil:
		ack([]any{a.envelope}, nil)
	case failed:
		_ = s.lib().Emit(RequestErrorEvent, s.srv.toSocket(a.requestError))
	}
	if !failed {
		if log.Enabled(context.Background(), slog.LevelDebug) { // the arguments allocate even when nothing is logged
			log.Debug("event", "event", name, "socket", s.ID(), "duration", time.Since(start), "outcome", "ok", "replayed", a.replayed)
		}
		return
	}
	name = shortName(name)
	code, path := CodeInternal, ""
	if a.err != nil {
		code, path = a.err.Code, a.err.Path
	}
	args := []any{"event", name, "socket", s.ID(), "duration", time.Since(start), "outcome", string(code), "path", path}
	switch code {
	case CodeInvalidPayload, CodeUnknownEvent, CodeRateLimited: // the client's doing: one line a second per socket and code
		s.srv.sampled.log(log, slog.LevelInfo, s.ID()+"\x00"+string(code), "event", args...)
	default:
		log.Info("event", args...)
	}
}

// maxEchoedName bounds the event names the runtime repeats in answers and
// logs: schema event names are short, a client's invented ones may be huge.
const maxEchoedName = 64

// shortName returns name cut to maxEchoedName bytes, on a rune boundary, with
// "..." marking the cut.
func shortName(name string) string {
	if len(name) <= maxEchoedName {
		return name
	}
	cut := maxEchoedName
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut] + "..."
}

// appendErrorEnvelope renders {"ok":false,"error":{"code","message","path"}}.
func appendErrorEnvelope(b []byte, e *Error) []byte {
	b = append(b, `{"ok":false,"error":`...)
	b = appendErrorFields(append(b, '{'), e)
	return append(b, "}}"...)
}

// appendRequestError renders {"event","code","message","path"}.
func appendRequestError(b []byte, event string, e *Error) []byte {
	b = append(b, `{"event":`...)
	b = AppendString(b, event)
	b = appendErrorFields(append(b, ','), e)
	return append(b, '}')
}

func appendErrorFields(b []byte, e *Error) []byte {
	b = append(b, `"code":`...)
	b = AppendString(b, string(e.Code))
	b = append(b, `,"message":`...)
	b = AppendString(b, e.Message)
	if e.Path != "" {
		b = append(b, `,"path":`...)
		b = AppendString(b, e.Path)
	}
	return b
}

func stack() string { return string(debug.Stack()) }

// Empty is the payload of events without fields: {}.
var Empty Message = emptyMessage{}

type emptyMessage struct{}

func (emptyMessage) AppendJSON(b []byte) []byte { return append(b, "{}"...) }
