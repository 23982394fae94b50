package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/karl-app/karl/internal/codes"
	"github.com/karl-app/karl/runtime/presence"
	"github.com/karl-app/karl/runtime/wstransport"
	engine "github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
	"golang.org/x/time/rate"
)

// Limit is a token-bucket rate: PerSecond events a second on average, in bursts of up to Burst.
type Limit struct {
	PerSecond float64
	Burst     int
}

func (l Limit) limiter() *rate.Limiter { return rate.NewLimiter(rate.Limit(l.PerSecond), l.Burst) }

// Options configures a Server. Zero values take the defaults in brackets.
type Options struct {
	Logger *slog.Logger // [slog.Default()]

	// MaxHTTPBufferSize bounds one message (and one HTTP long-polling body) in bytes [1 MB].
	MaxHTTPBufferSize int64
	// AllowedOrigins lists the Origin header values allowed to connect besides the
	// server's own, e.g. "https://karl.example"; "*" allows every origin. Requests
	// from other origins get 403, WebSocket upgrades included (CORS alone does not
	// protect WebSockets). Requests without an Origin header (native apps, servers)
	// are always allowed: origins protect browsers' users, not the server.
	AllowedOrigins []string
	// AllowedHosts lists the Host header values (names, without port) the server
	// answers to besides IP literals and localhost; "*" allows every name. A
	// request for another name gets 403: a page on a rebinding domain
	// (evil.example resolving to this server) is same-origin with itself, so
	// only the Host tells it apart. Behind a proxy, list the public name(s).
	AllowedHosts   []string
	PingInterval   time.Duration // [25s]
	PingTimeout    time.Duration // [20s]
	ConnectTimeout time.Duration // time a client has to join the namespace after the handshake [10s]

	EventTimeout time.Duration    // deadline of one handler when the schema sets none [5s]
	EventLimit   Limit            // events per socket [20/s, burst 40]
	EventLimits  map[string]Limit // stricter limits for some events, on top of EventLimit
	// HandshakeLimit bounds new connections per client IP [5/s, burst 20], and,
	// separately, namespace CONNECTs (which run Connect, e.g. a token lookup) per
	// client IP and per Engine.IO connection: a client cannot reconnect to the
	// namespace over and over on one connection to get around it.
	HandshakeLimit Limit

	// MaxQueuedBytes bounds the outgoing bytes one connection may have waiting
	// in memory (a client that stops reading); over it the socket is
	// disconnected [1 MiB]. Negative: no bound.
	MaxQueuedBytes int64
	// OverflowGrace is how long a connection over MaxQueuedBytes may take to
	// read its backlog and the disconnect packet before it is cut [5s].
	OverflowGrace time.Duration

	// LogSampleInterval is the shortest time between two log lines of one kind
	// that may repeat fast: those a client causes (its invalid payloads,
	// unknown events, rate limits: per socket and code; refused hosts, origins
	// and CONNECTs: per IP) and a failing presence heartbeat [1s]; the lines
	// dropped meanwhile are counted in the next one. Negative: every line is
	// written.
	LogSampleInterval time.Duration
	// MaxEchoedName bounds, in bytes, the names a client chose (an unknown
	// event's, a refused Host or Origin) that the runtime repeats in answers
	// and logs; longer ones are cut on a rune boundary and end in "..." [64].
	MaxEchoedName int

	// Transport chooses the WebSocket transport: "karl" (runtime/wstransport:
	// one write per flush; a broadcast's writes made by flusher goroutines,
	// see docs/BENCHMARKS.md) or "library" (zishang520's own, for comparison
	// and as a fallback) [karl]. Polling and its upgrade are the library's.
	Transport string

	// Interceptors wrap every event dispatch and handshake, the first outermost
	// (see Interceptor); the metrics and tracing packages provide some.
	Interceptors []Interceptor
	// Observer hears of connections, refusals and broadcasts, for metrics [none].
	Observer Observer

	// Adapter replaces the in-memory adapter, e.g. with the Redis adapter for
	// several nodes (app/multinode builds one). With RecoveryWindow it must keep
	// sessions and packets (the Redis streams adapter).
	Adapter Adapter

	// Idempotency records the answers of idempotent events [in memory: one node,
	// lost on restart]; IdempotencyWindow is how long an answer is kept [24h].
	Idempotency       IdempotencyStore
	IdempotencyWindow time.Duration

	// RecoveryWindow turns on Socket.IO's connection-state recovery: a client
	// whose connection dropped (not one that disconnected on purpose) and that
	// comes back within the window gets the events sent to it meanwhile, in
	// order, its rooms and the same socket, Data included. The application sees
	// one socket: neither Disconnect nor Connect runs for the gap; Disconnect
	// runs when the window ends without the client. A client that comes back
	// through a node that does not hold its socket (several nodes) gets its
	// events and rooms, and Connect runs for it. 0: off.
	RecoveryWindow time.Duration

	// Presence keeps the members of typed rooms whose kind declares presence
	// [in memory, this node only]. A store shared by several nodes implements
	// presence.Heartbeater: it beats every PresenceHeartbeat [5s], and removes
	// the members of a node that stopped beating (see its documentation).
	Presence          presence.Store
	PresenceHeartbeat time.Duration
}

// Adapter relays broadcasts between the nodes of a cluster (Options.Adapter).
// It wraps a Socket.IO library adapter so that the library's types stay out of
// the runtime's API: SocketIOAdapter returns the zishang520
// socket.AdapterConstructor (NewServer panics on anything else).
type Adapter interface {
	SocketIOAdapter() any
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Observer == nil {
		o.Observer = noObserver{}
	}
	if o.Idempotency == nil {
		o.Idempotency = newMemIdempotency()
	}
	if o.Presence == nil {
		o.Presence = presence.NewMemory()
	}
	if o.PresenceHeartbeat <= 0 {
		o.PresenceHeartbeat = 5 * time.Second
	}
	if o.IdempotencyWindow <= 0 {
		o.IdempotencyWindow = 24 * time.Hour
	}
	if o.MaxHTTPBufferSize == 0 {
		o.MaxHTTPBufferSize = 1 << 20
	}
	if o.PingInterval == 0 {
		o.PingInterval = 25 * time.Second
	}
	if o.PingTimeout == 0 {
		o.PingTimeout = 20 * time.Second
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.EventTimeout <= 0 {
		o.EventTimeout = 5 * time.Second
	}
	if o.EventLimit == (Limit{}) {
		o.EventLimit = Limit{PerSecond: 20, Burst: 40}
	}
	if o.MaxQueuedBytes == 0 {
		o.MaxQueuedBytes = 1 << 20
	}
	if o.OverflowGrace <= 0 {
		o.OverflowGrace = 5 * time.Second
	}
	if o.LogSampleInterval == 0 {
		o.LogSampleInterval = time.Second
	}
	if o.MaxEchoedName <= 0 {
		o.MaxEchoedName = 64
	}
	if o.Transport == "" {
		o.Transport = "karl"
	}
	if o.HandshakeLimit == (Limit{}) {
		o.HandshakeLimit = Limit{PerSecond: 5, Burst: 20}
	}
}

// Server is a Socket.IO server that dispatches decoded events to generated services.
type Server struct {
	io         *socket.Server
	handler    http.Handler
	opts       Options
	log        *slog.Logger
	ctx        context.Context // parent of every handler context; cancelled when shutdown gives up waiting
	cancel     context.CancelFunc
	active     atomic.Int64 // handlers running
	closing    atomic.Bool
	handshakes *ipLimiter // Engine.IO handshakes per client IP
	connects   *ipLimiter // namespace CONNECTs per client IP (each may look a token up)
	connectsBy *ipLimiter // namespace CONNECTs per Engine.IO connection
	sampled    *logSampler
	byConn     sync.Map // Engine.IO connection id -> *Socket, for the queue bound
	parked     sync.Map // socket id -> *parkedSocket: dropped, may come back (RecoveryWindow)
	gate       *connectGate
	work       chan func() // handlers for the workers; see runOnWorker
	dispatch   Handler     // Options.Interceptors around serveCall
	obs        Observer
	node       string   // this node's id, for presence
	local      sync.Map // presence members of this node's sockets: localKey -> presence.Member
	kinds      sync.Map // room kind -> the namespace of the service that declares it
	untracks   sync.Map // presence removals the store failed to take: localKey -> presence.Member
}

// NewServer creates a server; register a generated service on it, then serve Handler.
func NewServer(opts Options) *Server {
	opts.defaults()
	so := socket.DefaultServerOptions()
	so.SetMaxHttpBufferSize(opts.MaxHTTPBufferSize)
	so.SetPingInterval(opts.PingInterval)
	so.SetPingTimeout(opts.PingTimeout)
	so.SetConnectTimeout(opts.ConnectTimeout)
	so.SetServeClient(false)
	so.SetParser(newWireParser())
	// Handler has already refused foreign origins; let the engine reflect the rest
	// (its default would refuse every cross-origin WebSocket).
	so.SetCors(&types.Cors{Origin: true, Credentials: true})
	if opts.Transport != "library" {
		so.SetTransports(types.NewSet[transports.TransportCtor](engine.Polling,
			wstransport.New(wstransport.Options{MaxMessageSize: opts.MaxHTTPBufferSize})))
	}
	if opts.RecoveryWindow > 0 {
		csr := socket.DefaultConnectionStateRecovery()
		csr.SetMaxDisconnectionDuration(opts.RecoveryWindow.Milliseconds())
		// The runtime's middleware runs for a recovered socket too: it skips
		// Connect when this node holds the socket (see recover), and runs it
		// when the client came back through another node.
		csr.SetSkipMiddlewares(false)
		csr.SetSessionCleanupInterval(min(opts.RecoveryWindow, time.Minute))
		so.SetConnectionStateRecovery(csr)
		if opts.Adapter == nil {
			so.SetAdapter(&sessionAdapterBuilder{window: opts.RecoveryWindow})
		}
	}
	if opts.Adapter != nil {
		ac, ok := opts.Adapter.SocketIOAdapter().(socket.AdapterConstructor)
		if !ok {
			panic(fmt.Sprintf("runtime: Options.Adapter: %T is not a socket.AdapterConstructor", opts.Adapter.SocketIOAdapter()))
		}
		so.SetAdapter(ac)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{opts: opts, log: opts.Logger, ctx: ctx, cancel: cancel, handshakes: newIPLimiter(opts.HandshakeLimit),
		connects: newIPLimiter(opts.HandshakeLimit), connectsBy: newIPLimiter(opts.HandshakeLimit), sampled: newLogSampler(opts.LogSampleInterval)}
	s.dispatch = s.chain(opts.Interceptors)
	s.obs = opts.Observer
	s.io = socket.NewServer(nil, so)
	s.handler = s.io.ServeHandler(so)
	s.gate = newConnectGate(opts.ConnectTimeout)
	s.gate.install(s.io.Engine())
	_ = s.io.Engine().On("connection", func(args ...any) {
		if conn, ok := args[0].(engine.Socket); ok {
			s.boundQueue(conn)
		}
	})
	s.node = newMemberID()
	if hb, ok := opts.Presence.(presence.Heartbeater); ok {
		go s.heartbeat(hb)
	}
	s.work = make(chan func())
	for range 4 * goruntime.GOMAXPROCS(0) {
		go s.worker()
	}
	return s
}

// runOnWorker runs fn on one of the server's long-lived workers and waits for
// it, so a socket's events stay in order. zishang520 runs a socket's events
// on a goroutine it starts afresh whenever the socket's queue was idle, so
// every event of a client that waits for its acks grows a new stack through
// the handler (the SQLite driver's frames are large) and copies it several
// times; a worker's stack has grown already (see W2-1 in docs/BENCHMARKS.md).
// With every worker busy, fn runs on the caller's goroutine, as before.
func (s *Server) runOnWorker(fn func()) {
	done := make(chan struct{})
	task := func() {
		defer close(done)
		defer func() { // as the library's queue does for the goroutine it would have run fn on
			if v := recover(); v != nil {
				s.log.Error("event dispatch panicked", "panic", v, "stack", stack())
			}
		}()
		fn()
	}
	select {
	case s.work <- task:
		<-done
	default:
		fn()
	}
}

func (s *Server) worker() {
	for {
		select {
		case fn := <-s.work:
			fn()
		case <-s.ctx.Done():
			return
		}
	}
}

// ServerSideEmit sends an event to the other nodes of the cluster (through
// the adapter), not to clients: e.g. "log this session out everywhere".
// Without an adapter there are no other nodes and it does nothing.
func (s *Server) ServerSideEmit(namespace, event string, args ...any) error {
	if s.opts.Adapter == nil {
		return nil
	}
	return s.io.Of(namespace, nil).ServerSideEmit(event, args...)
}

// OnServerSideEmit runs fn for each event ServerSideEmit sends from another node.
func (s *Server) OnServerSideEmit(namespace, event string, fn func(args ...any)) {
	_ = s.io.Of(namespace, nil).On(event, fn)
}

// Handler serves Socket.IO on /socket.io/ with the origin and handshake checks.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hostAllowed(r.Host) {
			s.obs.Refused("host")
			s.sampled.log(s.log, slog.LevelWarn, "host:"+clientIP(r), "host refused", "host", s.shortName(r.Host), "remote", r.RemoteAddr)
			http.Error(w, "host not allowed", http.StatusForbidden)
			return
		}
		if origin := r.Header.Get("Origin"); !s.originAllowed(origin, r) {
			s.obs.Refused("origin")
			s.sampled.log(s.log, slog.LevelWarn, "origin:"+clientIP(r), "origin refused", "origin", s.shortName(origin), "remote", r.RemoteAddr)
			http.Error(w, "origin not allowed", http.StatusForbidden)
			return
		}
		if r.URL.Query().Get("sid") == "" { // a new Engine.IO session
			if s.closing.Load() {
				s.obs.Refused("shutting-down")
				http.Error(w, "shutting down", http.StatusServiceUnavailable)
				return
			}
			if !s.handshakes.allow(clientIP(r)) {
				s.obs.Refused("rate-limited")
				s.sampled.log(s.log, slog.LevelWarn, "handshake:"+clientIP(r), "handshake rate limited", "remote", r.RemoteAddr)
				http.Error(w, "too many connections", http.StatusTooManyRequests)
				return
			}
		}
		if r.Header.Get("Upgrade") != "" {
			w = &detachingWriter{w: w}
		} else if r.Method == http.MethodGet {
			if r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
				// Engine.IO's GETs have no body; one that announces a body
				// would, with the read deadline lifted below, hold the
				// connection while dribbling it.
				http.Error(w, "a GET has no body", http.StatusBadRequest)
				return
			}
			// A long-polling GET is held until the server has something to send
			// (a ping at the latest): the server's read timeout, meant for slow
			// request bodies, must not cancel it.
			_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
		}
		s.handler.ServeHTTP(w, r)
	})
}

// originAllowed reports whether a request from origin may connect: a listed
// origin, or the server's own (scheme, host and port). "null" (sandboxed
// frames, file: pages) is never allowed, "*" included: the engine would
// reflect it with credentials.
func (s *Server) originAllowed(origin string, r *http.Request) bool {
	switch {
	case origin == "":
		return true
	case origin == "null":
		return false
	case slices.Contains(s.opts.AllowedOrigins, origin) || slices.Contains(s.opts.AllowedOrigins, "*"):
		return true
	}
	u, err := url.Parse(origin)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return err == nil && u.Scheme == scheme && strings.EqualFold(u.Host, r.Host) && u.Path == "" // same origin
}

// hostAllowed reports whether the server answers to the Host header host: IP
// literals and localhost always, other names when listed in AllowedHosts.
func (s *Server) hostAllowed(host string) bool {
	name, _, err := net.SplitHostPort(host)
	if err != nil {
		name = host
	}
	name = strings.ToLower(strings.TrimSuffix(strings.Trim(name, "[]"), "."))
	if net.ParseIP(name) != nil || name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return true
	}
	for _, h := range s.opts.AllowedHosts {
		if h == "*" || strings.EqualFold(h, name) {
			return true
		}
	}
	return false
}

// Shutdown stops new connections, waits for running handlers (until ctx ends, then
// cancels their contexts), and disconnects every socket.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var err error
wait:
	for s.active.Load() > 0 {
		select {
		case <-ctx.Done():
			err = ctx.Err()
			break wait
		case <-tick.C:
		}
	}
	s.cancel()
	done := make(chan struct{})
	s.io.Close(func(error) { close(done) })
	select {
	case <-done:
	case <-time.After(time.Second):
	}
	s.unparkAll()
	return err
}

// Service is what generated code registers for one namespace.
type Service struct {
	Namespace string
	// Wrap returns the generated socket type around a runtime socket; called once per socket.
	Wrap func(*Socket) any
	// Connect decodes the handshake auth and runs the application's Connect.
	Connect func(ctx context.Context, s *Socket, auth any) error
	// ConnectCodes are the error codes the schema declares for the handshake; Connect
	// returning another one refuses the handshake with "internal" (and a log line).
	ConnectCodes []Code
	// Disconnect runs the application's Disconnect.
	Disconnect func(s *Socket, reason string)
	// Events maps client event names to their handlers.
	Events map[string]Event
	// Rooms lists the room kinds the schema declares.
	Rooms []string
}

// Event is one client event of a Service.
type Event struct {
	Timeout time.Duration // 0: Options.EventTimeout
	Codes   []Code        // error codes the schema declares for it
	// Idempotent events are answered from Options.Idempotency when the request
	// metadata carries a key seen before (see dispatchIdempotent).
	Idempotent bool
	// Handle decodes arg (nil when the client sent no payload) and runs the handler;
	// reply is nil for events without a reply.
	Handle func(ctx context.Context, s *Socket, arg any) (reply Message, err error)
}

// Serve registers a generated service on its namespace.
func (s *Server) Serve(svc Service) {
	for _, kind := range svc.Rooms {
		s.kinds.Store(kind, svc.Namespace)
	}
	nsp := s.io.Of(svc.Namespace, nil)
	nsp.Use(func(sock *socket.Socket, next func(*socket.ExtendedError)) {
		if sock.Recovered() && s.recover(sock) {
			afterNext(sock, func() { next(nil) }, func() {
				rs, ok := sock.Data().(*Socket)
				switch {
				case ok && rs.joined.Load() != sock: // as below: the client hung up again already
					s.disconnect(&svc, rs, "transport close")
				case ok && sock.Connected():
					s.restorePresence(rs)
				}
			})
			return
		}
		refused := s.connect(&svc, sock)
		if refused != nil {
			next(refused)
			return
		}
		// The library drops a socket whose client hung up while Connect ran, on
		// the socket's queue after next, and fires neither "connection" nor
		// "disconnect". Connect succeeded, so the application must hear of the end.
		afterNext(sock, func() { next(nil) }, func() {
			if rs, ok := sock.Data().(*Socket); ok && rs.joined.Load() != sock {
				s.disconnect(&svc, rs, "transport close")
			}
		})
	})
	_ = nsp.On("connection", func(args ...any) {
		sock, ok := args[0].(*socket.Socket)
		if !ok {
			return
		}
		rs, ok := sock.Data().(*Socket)
		if !ok {
			return
		}
		sock.Use(rs.onEvent)
		if s.opts.Adapter != nil {
			// The adapter's broadcasts are its own loop over the recipients, which
			// the runtime's cork (writeAll) does not reach; it tells each
			// recipient's outgoing listeners before writing to it.
			_ = sock.OnAnyOutgoing(func(...any) { wstransport.Defer(sock.Conn().Transport()) })
		}
		connID := sock.Conn().Id()
		s.gate.release(connID)
		s.byConn.Store(connID, rs)
		s.obs.Connected(1)
		// The library may fire "disconnect" twice for one socket: a client's
		// DISCONNECT packet and its transport closing reach it on two goroutines,
		// and both pass its connected check before either clears it.
		var ended atomic.Bool
		end := func(reason string, mayPark bool) {
			if !ended.CompareAndSwap(false, true) {
				return
			}
			s.obs.Connected(-1)
			s.byConn.CompareAndDelete(connID, rs)
			if mayPark && s.opts.RecoveryWindow > 0 && socket.RECOVERABLE_DISCONNECT_REASONS.Has(reason) {
				left := s.park(&svc, rs, sock, reason) // before the leaves go out: a client back at once finds it
				s.endPresence(rs)
				left()
				return
			}
			s.endPresence(rs)
			s.disconnect(&svc, rs, reason)
		}
		_ = sock.On("disconnect", func(args ...any) {
			reason, _ := args[0].(string)
			end(reason, true)
		})
		rs.joined.Store(sock)
		rs.markConnected()
		// The transport may have closed while the library connected the socket: after
		// its check that the connection is open, either before the client listed the
		// socket (no "disconnect" ever comes: sock stays connected) or before the
		// listener above existed (the "disconnect" went to no one: sock is not
		// connected any more). The library kept no session for either.
		if !sock.Connected() || sock.Conn().ReadyState() != "open" {
			end("transport close", false)
			sock.Disconnect(false) // takes it out of the namespace, if the library has not
		}
	})
}

// afterNext calls next, which makes the library enqueue the rest of the
// handshake on sock's queue, and enqueues check right behind that task. The
// library's task may close the queue (a client gone during Connect): a task
// enqueued after that is dropped, and one enqueued before runs. So the queue
// is held by a first task until check is in; next enqueues synchronously (the
// runtime's is the namespace's only middleware).
func afterNext(sock *socket.Socket, next, check func()) {
	hold := make(chan struct{})
	sock.Enqueue(func() { <-hold })
	next()
	sock.Enqueue(check)
	close(hold)
}

// connect runs the application's Connect in the namespace middleware, so that an
// error refuses the connection with connect_error {code, message}.
func (s *Server) connect(svc *Service, sock *socket.Socket) *socket.ExtendedError {
	rs := newSocket(s, svc, sock)
	ip := hostOf(sock.Handshake().Address)
	if !s.connects.allow(ip) || !s.connectsBy.allow(sock.Conn().Id()) {
		s.obs.Refused("connect-rate-limited")
		s.sampled.log(s.log, slog.LevelWarn, "connect:"+ip, "connect rate limited", "remote", ip)
		e := &Error{Code: CodeRateLimited, Message: "too many connections, slow down"}
		return socket.NewExtendedError(e.Message, map[string]any{"code": string(e.Code), "message": e.Message})
	}
	start := time.Now()
	c := &Call{Event: "connect", Handshake: true, Socket: rs, Payload: sock.Handshake().Auth}
	c.Meta, _ = c.Payload.(map[string]any)
	_, err := s.dispatch(s.ctx, c)
	if err == nil {
		sock.SetData(rs)
		s.log.Debug("connect", "socket", rs.ID(), "duration", time.Since(start))
		return nil
	}
	e := s.clientError(err, "connect", rs.ID(), svc.ConnectCodes)
	s.log.Info("connect refused", "socket", rs.ID(), "code", e.Code, "path", e.Path, "duration", time.Since(start))
	data := map[string]any{"code": string(e.Code), "message": e.Message}
	if e.Path != "" { // the auth field at fault, as an ack's error names the payload field
		data["path"] = e.Path
	}
	return socket.NewExtendedError(e.Message, data)
}

// runConnect runs the service's Connect, the innermost handler of a handshake.
func (s *Server) runConnect(ctx context.Context, rs *Socket, auth any) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.EventTimeout)
	defer cancel()
	err := s.protect(func() error { return rs.svc.Connect(ctx, rs, auth) })
	if err != nil {
		return s.clientError(err, "connect", rs.ID(), rs.svc.ConnectCodes)
	}
	return nil
}

func (s *Server) disconnect(svc *Service, rs *Socket, reason string) {
	s.log.Debug("disconnect", "socket", rs.ID(), "reason", reason)
	if svc.Disconnect == nil {
		return
	}
	if err := s.protect(func() error { svc.Disconnect(rs, reason); return nil }); err != nil {
		s.log.Error("disconnect handler failed", "socket", rs.ID(), "err", err)
	}
}

// errPanic marks an error recovered from a panic.
type errPanic struct{ v any }

func (e errPanic) Error() string { return "panic" }

// protect runs fn and turns a panic into an error, logging it with its stack.
func (s *Server) protect(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("handler panicked", "panic", v, "stack", stack())
			err = errPanic{v}
		}
	}()
	return fn()
}

// clientError turns a handler error into what the client may see: declared codes
// and runtime codes pass; anything else is logged and becomes "internal".
func (s *Server) clientError(err error, event, socketID string, declared []Code) *Error {
	var e *Error
	if errors.As(err, &e) {
		if codes.IsRuntime(string(e.Code)) || slices.Contains(declared, e.Code) {
			return e
		}
		s.log.Error("handler returned an undeclared error code", "event", event, "socket", socketID, "code", e.Code, "err", err)
	} else if _, panicked := err.(errPanic); !panicked {
		s.log.Error("handler failed", "event", event, "socket", socketID, "err", err)
	}
	return &Error{Code: CodeInternal, Message: "internal error"}
}

// broadcast encodes m once for a broadcast. Adapters that relay packets to other
// nodes (Redis) serialize them with msgpack, which would turn pre-encoded JSON
// into binary; they get a plain decoded value instead.
func (s *Server) broadcast(m Message) any {
	raw := json.RawMessage(m.AppendJSON(nil))
	if s.opts.Adapter == nil {
		return raw
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return raw
	}
	return v
}

// viaAdapter reports whether broadcasts must go through the adapter: it
// relays them to other nodes, or keeps them for recovery.
func (s *Server) viaAdapter() bool { return s.opts.Adapter != nil || s.opts.RecoveryWindow > 0 }

// toSocket is what Socket.Emit hands the library for one socket's event. With
// recovery on, the library sends it through the adapter so that it is kept,
// and a Redis adapter keeps it with msgpack: it gets a decoded value then,
// as broadcasts do, not JSON bytes that would come back as binary.
func (s *Server) toSocket(raw json.RawMessage) any {
	if s.opts.Adapter == nil || s.opts.RecoveryWindow <= 0 {
		return raw
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return raw
	}
	return v
}

// EmitAll sends an event to every socket of a namespace, on every node.
func (s *Server) EmitAll(namespace, event string, m Message) error {
	return s.emitRooms(namespace, nil, event, m, false)
}

// EmitAllVolatile is EmitAll for a volatile event: sockets that cannot take it now miss it.
func (s *Server) EmitAllVolatile(namespace, event string, m Message) error {
	return s.emitRooms(namespace, nil, event, m, true)
}

// EmitRooms sends an event to the sockets in any of rooms, on every node.
// Names in the typed rooms' key space are left out (see Socket.Join).
func (s *Server) EmitRooms(namespace string, rooms []string, event string, m Message) error {
	if rooms = freeRooms(rooms); len(rooms) == 0 { // no rooms would mean everyone
		return nil
	}
	return s.emitRooms(namespace, rooms, event, m, false)
}

// EmitRoomsVolatile is EmitRooms for a volatile event.
func (s *Server) EmitRoomsVolatile(namespace string, rooms []string, event string, m Message) error {
	if rooms = freeRooms(rooms); len(rooms) == 0 {
		return nil
	}
	return s.emitRooms(namespace, rooms, event, m, true)
}

func (s *Server) emitRooms(namespace string, rooms []string, event string, m Message, volatile bool) error {
	nsp := s.io.Of(namespace, nil)
	if !s.viaAdapter() {
		s.obs.Delivered(event, fanOut(nsp, rooms, nil, event, m, volatile))
		return nil
	}
	s.obs.Delivered(event, -1)
	op := nsp.To(toRooms(rooms)...)
	if volatile {
		op = op.Volatile()
	}
	return op.Emit(event, s.broadcast(m))
}

func toRooms(rooms []string) []socket.Room {
	out := make([]socket.Room, len(rooms))
	for i, r := range rooms {
		out[i] = socket.Room(r)
	}
	return out
}

// ipLimiter bounds new connections per client IP.
type ipLimiter struct {
	limit Limit
	mu    sync.Mutex
	byIP  map[string]*rate.Limiter
	swept time.Time
}

func newIPLimiter(l Limit) *ipLimiter { return &ipLimiter{limit: l, byIP: map[string]*rate.Limiter{}} }

func (l *ipLimiter) allow(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Sub(l.swept) > time.Minute { // forget full buckets so the map stays small
		for k, lim := range l.byIP {
			if lim.TokensAt(now) >= float64(l.limit.Burst) {
				delete(l.byIP, k)
			}
		}
		l.swept = now
	}
	lim, ok := l.byIP[ip]
	if !ok {
		lim = l.limit.limiter()
		l.byIP[ip] = lim
	}
	return lim.AllowN(now, 1)
}

func clientIP(r *http.Request) string { return hostOf(r.RemoteAddr) }

// hostOf returns the IP of an "ip:port" address.
func hostOf(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return strings.TrimPrefix(host, "::ffff:")
}
