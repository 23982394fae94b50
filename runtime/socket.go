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

	"github.com/karl-app/karl/runtime/presence"
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
	// joined is the library socket "connection" last fired for: a check behind
	// the handshake tells from it whether the library dropped the socket instead.
	joined atomic.Pointer[socket.Socket]
	ext    any // the generated socket type, from Service.Wrap

	limiter *rate.Limiter
	perEvt  map[string]*rate.Limiter // only touched from the socket's own event queue

	mu        sync.Mutex
	connected bool
	pending   [][2]any // emits made before the client joined the namespace
	data      any
	rec       *recorder                  // set while an idempotent handler runs: its emits are recorded
	presence  map[string]presence.Member // typed room key -> the socket's membership (rooms.go)
}

func newSocket(srv *Server, svc *Service, sock *socket.Socket) *Socket {
	s := &Socket{srv: srv, svc: svc}
	s.cur.Store(sock)
	s.limiter = srv.opts.EventLimit.limiter()
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
// Names in the key space of typed rooms are refused (and logged): only the
// generated JoinChat-style methods reach those.
func (s *Socket) Join(rooms ...string) {
	free := rooms[:0:0]
	for _, r := range rooms {
		if typedRoom(r) {
			s.srv.log.Warn("join: a free room name may not start with NUL (the typed rooms' key space)", "socket", s.ID())
			continue
		}
		free = append(free, r)
	}
	s.lib().Join(toRooms(free)...)
}

// Leave removes the socket from a room (a free name, as for Join).
func (s *Socket) Leave(room string) {
	if !typedRoom(room) {
		s.lib().Leave(socket.Room(room))
	}
}

// InRoom reports whether the socket is in room.
func (s *Socket) InRoom(room string) bool { return s.lib().Rooms().Has(socket.Room(room)) }

// Disconnect closes the socket's connection.
func (s *Socket) Disconnect() { s.lib().Disconnect(true) }

// Emit sends an event to this socket. Emits made while the handshake is still
// running (from Connect) are sent right after the client joined.
func (s *Socket) Emit(event string, m Message) error {
	raw := json.RawMessage(m.AppendJSON(nil))
	s.mu.Lock()
	if s.rec != nil { // an idempotent handler runs: its answer replays this
		s.rec.add(event, raw)
	}
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
	return s.freeBroadcast(event, m, rooms, false)
}

// BroadcastVolatile is Broadcast for a volatile event.
func (s *Socket) BroadcastVolatile(event string, m Message, rooms ...string) error {
	return s.freeBroadcast(event, m, rooms, true)
}

// freeBroadcast is Broadcast with free room names: names in the typed rooms' key
// space are left out, and rooms all left out reach nobody (not everyone).
func (s *Socket) freeBroadcast(event string, m Message, rooms []string, volatile bool) error {
	if len(rooms) > 0 {
		if rooms = freeRooms(rooms); len(rooms) == 0 {
			return nil
		}
	}
	return s.broadcast(event, m, rooms, volatile)
}

func (s *Socket) broadcast(event string, m Message, rooms []string, volatile bool) error {
	if !s.srv.viaAdapter() {
		s.srv.obs.Delivered(event, fanOut(s.lib().Nsp(), rooms, []string{s.ID()}, event, m, volatile))
		return nil
	}
	s.srv.obs.Delivered(event, -1)
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
		c := &Call{Event: name, Socket: s}
		c.argsErr = c.splitArgs(args) // before the interceptors, which read Meta (traceparent)
		reply, err := s.srv.dispatch(s.srv.ctx, c)
		if err != nil {
			err = s.srv.clientError(err, s.srv.shortName(name), s.ID(), s.svc.Events[name].Codes) // an interceptor's own error
		}
		s.respond(name, ack, reply, err, start)
	})
}

func (s *Socket) handle(ctx context.Context, c *Call) (reply Message, err error, declared []Code) {
	name := c.Event
	ev, ok := s.svc.Events[name]
	if !ok {
		return nil, &Error{Code: CodeUnknownEvent, Message: "unknown event " + quoteString(s.srv.shortName(name))}, nil
	}
	if !s.allow(name) {
		return nil, &Error{Code: CodeRateLimited, Message: "too many events, slow down"}, ev.Codes
	}
	if c.argsErr != nil {
		return nil, c.argsErr, ev.Codes
	}
	if ev.Idempotent && c.Meta["idempotencyKey"] != nil {
		key, err := readIdempotencyKey(c.Meta["idempotencyKey"])
		if err != nil {
			return nil, err, ev.Codes
		}
		reply, err := s.dispatchIdempotent(ctx, name, &ev, c.Payload, key)
		return reply, err, ev.Codes
	}
	reply, err = s.run(ctx, name, &ev, c.Payload)
	return reply, err, ev.Codes
}

// run runs the handler of a client event within its deadline, turning a panic
// into an error and a reply that breaks the schema into internal.
func (s *Socket) run(ctx context.Context, name string, ev *Event, arg any) (reply Message, err error) {
	srv := s.srv
	srv.active.Add(1)
	defer srv.active.Add(-1)
	if srv.closing.Load() {
		return nil, &Error{Code: CodeInternal, Message: "server shutting down"}
	}
	ctx, cancel := context.WithTimeout(ctx, srv.eventTimeout(ev))
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
// runs the handler again. Errors are returned as the client will see them.
func (s *Socket) dispatchIdempotent(ctx context.Context, name string, ev *Event, payload any, key string) (Message, error) {
	srv := s.srv
	internal := &Error{Code: CodeInternal, Message: "internal error"}
	req, err := newIdemRequest(name, key, payload)
	if err != nil {
		return nil, err
	}
	timeout := srv.eventTimeout(ev)
	deadline := time.Now().Add(timeout)
	for wait := 20 * time.Millisecond; ; wait = min(2*wait, 250*time.Millisecond) {
		state, sealed, err := srv.opts.Idempotency.Claim(ctx, req.key, req.fingerprint, time.Now(), 2*timeout, srv.opts.IdempotencyWindow)
		switch {
		case err != nil:
			srv.log.Error("idempotency store: claim failed", "event", name, "socket", s.ID(), "err", err)
			return nil, internal
		case state == ClaimConflict:
			return nil, &Error{Code: CodeIdempotencyConflict, Message: "this idempotency key was used for another request"}
		case state == ClaimDone:
			return s.replay(name, req, sealed)
		case state == ClaimRunning && time.Now().Add(wait).Before(deadline):
			time.Sleep(wait) // the first request is still running, maybe on another node
			continue
		case state == ClaimRunning:
			return nil, internal
		}
		break
	}
	rec := &recorder{}
	s.mu.Lock()
	s.rec = rec
	s.mu.Unlock()
	reply, herr := s.run(ctx, name, ev, payload)
	s.mu.Lock()
	s.rec = nil
	s.mu.Unlock()
	answer := recordedAnswer{Emits: rec.emits}
	if herr != nil {
		e := srv.clientError(herr, name, s.ID(), ev.Codes)
		if e.Code == CodeInternal {
			if err := srv.opts.Idempotency.Release(ctx, req.key); err != nil {
				srv.log.Error("idempotency store: release failed", "event", name, "err", err)
			}
			return nil, e
		}
		herr = e
		answer.Error = &recordedError{Code: string(e.Code), Message: e.Message, Path: e.Path}
	} else if reply != nil {
		answer.Data = json.RawMessage(reply.AppendJSON(nil))
	}
	sealed, err := req.seal(answer)
	if err == nil {
		err = srv.opts.Idempotency.Complete(ctx, req.key, sealed)
	}
	if err != nil { // the effect happened; the answer is not kept, a retry may run again
		srv.log.Error("idempotency store: complete failed", "event", name, "socket", s.ID(), "err", err)
	}
	return reply, herr
}

// replay re-sends a recorded answer: the emits to the socket, then the answer.
func (s *Socket) replay(name string, req *idemRequest, sealed []byte) (Message, error) {
	rec, err := req.open(sealed)
	if err != nil {
		s.srv.log.Error("idempotency store: recorded answer unreadable", "event", name, "err", err)
		return nil, &Error{Code: CodeInternal, Message: "internal error"}
	}
	for _, e := range rec.Emits {
		if err := s.lib().Emit(e.Event, s.srv.toSocket(e.Payload)); err != nil {
			s.srv.log.Warn("replay emit failed", "event", e.Event, "socket", s.ID(), "err", err)
		}
	}
	if rec.Error != nil {
		return nil, &Error{Code: Code(rec.Error.Code), Message: rec.Error.Message, Path: rec.Error.Path}
	}
	if rec.Data != nil {
		return rawReply(rec.Data), nil
	}
	return nil, nil
}

// eventTimeout is the handler deadline of ev: its own, or Options.EventTimeout.
func (s *Server) eventTimeout(ev *Event) time.Duration {
	if ev.Timeout > 0 {
		return ev.Timeout
	}
	return s.opts.EventTimeout
}

// rawReply is a recorded reply, written as it was.
type rawReply json.RawMessage

func (r rawReply) AppendJSON(b []byte) []byte { return append(b, r...) }

// splitArgs sets Payload and Meta from the event's arguments: the payload,
// then an optional request metadata object.
func (c *Call) splitArgs(args []any) error {
	switch len(args) {
	case 0:
	case 1:
		c.Payload = args[0]
	case 2:
		c.Payload = args[0]
		meta, ok := args[1].(map[string]any)
		if !ok && args[1] != nil {
			return invalid("the argument after the payload must be a request metadata object")
		}
		c.Meta = meta
	default:
		return invalid("expected a payload and a metadata object, got %d arguments", len(args))
	}
	return nil
}

// allow applies the socket's event limit and the event's own, if it has one.
func (s *Socket) allow(name string) bool {
	if l, ok := s.srv.opts.EventLimits[name]; ok {
		if s.perEvt == nil {
			s.perEvt = map[string]*rate.Limiter{}
		}
		lim := s.perEvt[name]
		if lim == nil {
			lim = l.limiter()
			s.perEvt[name] = lim
		}
		if !lim.Allow() {
			return false
		}
	}
	return s.limiter.Allow()
}

var okEnvelope = json.RawMessage(`{"ok":true}`)

// respond answers the ack, or reports a failure with request-error, and logs the outcome.
func (s *Socket) respond(name string, ack socket.Ack, reply Message, err error, start time.Time) {
	log := s.srv.log
	if err == nil {
		if ack != nil {
			out := okEnvelope
			if reply != nil {
				b := append(make([]byte, 0, 64), `{"ok":true,"data":`...)
				out = append(reply.AppendJSON(b), '}')
			}
			ack([]any{out}, nil)
		}
		if log.Enabled(context.Background(), slog.LevelDebug) { // the arguments allocate even when nothing is logged
			log.Debug("event", "event", name, "socket", s.ID(), "duration", time.Since(start), "outcome", "ok")
		}
		return
	}
	name = s.srv.shortName(name) // the client chose it: echo and log a bounded prefix
	e := err.(*Error)            // dispatch's errors went through clientError
	if ack != nil {
		ack([]any{json.RawMessage(appendErrorEnvelope(nil, e))}, nil)
	} else {
		_ = s.lib().Emit(RequestErrorEvent, s.srv.toSocket(appendRequestError(nil, name, e)))
	}
	args := []any{"event", name, "socket", s.ID(), "duration", time.Since(start), "outcome", string(e.Code), "path", e.Path}
	switch e.Code {
	case CodeInvalidPayload, CodeUnknownEvent, CodeRateLimited: // the client's doing: one line a second per socket and code
		s.srv.sampled.log(log, slog.LevelInfo, s.ID()+"\x00"+string(e.Code), "event", args...)
	default:
		log.Info("event", args...)
	}
}

// shortName returns a name the client chose cut to Options.MaxEchoedName
// bytes, on a rune boundary, with "..." marking the cut: schema event names
// are short, a client's invented ones may be huge.
func (s *Server) shortName(name string) string {
	max := s.opts.MaxEchoedName
	if len(name) <= max {
		return name
	}
	cut := max
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
	b = appendString(b, event)
	b = appendErrorFields(append(b, ','), e)
	return append(b, '}')
}

func appendErrorFields(b []byte, e *Error) []byte {
	b = append(b, `"code":`...)
	b = appendString(b, string(e.Code))
	b = append(b, `,"message":`...)
	b = appendString(b, e.Message)
	if e.Path != "" {
		b = append(b, `,"path":`...)
		b = appendString(b, e.Path)
	}
	return b
}

func stack() string { return string(debug.Stack()) }
