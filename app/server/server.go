// Package server wires the KARL app into an HTTP server: the store, the
// Socket.IO runtime with its limits, the app's handlers, /healthz and the
// static demo page. app/cmd/karl-server turns flags into a Config and runs it.
package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/karl-app/karl/app/imagecheck"
	"github.com/karl-app/karl/app/karl"
	"github.com/karl-app/karl/app/store"
	"github.com/karl-app/karl/app/store/postgres"
	"github.com/karl-app/karl/app/store/sqlite"
	"github.com/karl-app/karl/runtime"
	"github.com/karl-app/karl/runtime/metrics"
	"github.com/karl-app/karl/runtime/presence"
	"github.com/karl-app/karl/runtime/tracing"
)

// Config is everything karl-server can be told.
type Config struct {
	DB              string // a postgres:// (or postgresql://) URL, else an SQLite file path
	TokenTTL        time.Duration
	CleanupInterval time.Duration
	MaxImageBytes   int
	AllowedOrigins  []string
	AllowedHosts    []string // Host names answered besides IP literals and localhost (runtime.Options.AllowedHosts)
	MaxQueuedBytes  int64    // outgoing bytes waiting per connection (runtime.Options.MaxQueuedBytes)
	Transport       string   // WebSocket transport: karl or library (runtime.Options.Transport)
	// IdempotencyWindow is how long the answer of an idempotent event is kept for
	// its retries [24h]; the records live in the store, shared by every node.
	IdempotencyWindow time.Duration
	Static            string // directory served at /, e.g. the demo page; empty: none
	// RecoveryWindow: how long a dropped client may come back and get what it
	// missed (runtime.Options.RecoveryWindow); 0 turns recovery off.
	RecoveryWindow time.Duration

	EventLimit     runtime.Limit // per socket
	UploadLimit    runtime.Limit // upload-profile-image, on top of EventLimit
	HandshakeLimit runtime.Limit // per client IP
	Now            func() time.Time

	// OpenStore opens the store named by DB; nil is server.OpenStore. Tests plug in here.
	OpenStore func(ctx context.Context, db string, log *slog.Logger) (store.Store, error)
	// Metrics, when set, receives the runtime's and the store's Prometheus
	// collectors (see runtime/metrics); nil: no metrics.
	Metrics prometheus.Registerer
	// Tracer, when set, traces every handshake and event and their store calls
	// (see runtime/tracing); nil: no spans.
	Tracer trace.TracerProvider
	// Adapter replaces Socket.IO's in-memory adapter (Redis for several nodes).
	Adapter runtime.Adapter
	// Presence keeps who is in the chat rooms: nil is this node's memory; with
	// Redis, multinode's store shared by the nodes, beating every PresenceHeartbeat [5s].
	Presence          presence.Store
	PresenceHeartbeat time.Duration
	// PingInterval and PingTimeout are Engine.IO's [25s, 20s]: a client that
	// vanished without a goodbye is noticed after at most their sum.
	PingInterval, PingTimeout time.Duration
	// ConnectTimeout, EventTimeout, OverflowGrace, LogSampleInterval and
	// MaxEchoedName are the runtime.Options of the same names (0: their defaults).
	ConnectTimeout, EventTimeout     time.Duration
	OverflowGrace, LogSampleInterval time.Duration
	MaxEchoedName                    int
	// MaxImageWidth and MaxImageHeight bound a photo's size in pixels
	// (imagecheck.Limits; 0: 2048); ImageChecks, the checks run at once
	// (karl.Config.ImageChecks; 0: 2 per processor).
	MaxImageWidth, MaxImageHeight, ImageChecks int
	// HealthTimeout bounds /healthz's database check [2s]: over it, 503.
	HealthTimeout time.Duration
}

// Server is a running KARL server without its listener.
type Server struct {
	App     *karl.App
	store   store.Store
	rt      *runtime.Server
	handler http.Handler
	log     *slog.Logger
	// unhealthy: the last health check failed (logged once per outage).
	unhealthy atomic.Bool
}

// New opens the store (applying migrations) and builds the server.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	open := cfg.OpenStore
	if open == nil {
		open = OpenStore
	}
	st, err := open(ctx, cfg.DB, log)
	if err != nil {
		return nil, err
	}
	if cfg.Metrics != nil || cfg.Tracer != nil {
		st = observeStore(st, cfg.Metrics, cfg.Tracer)
	}
	limits := imagecheck.Limits{MaxBytes: cfg.MaxImageBytes, MaxWidth: cfg.MaxImageWidth, MaxHeight: cfg.MaxImageHeight}
	opts := runtime.Options{
		Logger: log,
		// The largest message is a photo: its base64 text plus the packet's few framing bytes.
		MaxHTTPBufferSize: int64(imagecheck.MaxEncodedLen(limits)) + 4<<10,
		AllowedOrigins:    cfg.AllowedOrigins,
		AllowedHosts:      cfg.AllowedHosts,
		MaxQueuedBytes:    cfg.MaxQueuedBytes,
		Transport:         cfg.Transport,
		EventLimit:        cfg.EventLimit,
		EventLimits:       map[string]runtime.Limit{"upload-profile-image": cfg.UploadLimit},
		HandshakeLimit:    cfg.HandshakeLimit,
		Idempotency:       st,
		IdempotencyWindow: cfg.IdempotencyWindow,
		RecoveryWindow:    cfg.RecoveryWindow,
		Presence:          cfg.Presence,
		PresenceHeartbeat: cfg.PresenceHeartbeat,
		PingInterval:      cfg.PingInterval,
		PingTimeout:       cfg.PingTimeout,
		ConnectTimeout:    cfg.ConnectTimeout,
		EventTimeout:      cfg.EventTimeout,
		OverflowGrace:     cfg.OverflowGrace,
		LogSampleInterval: cfg.LogSampleInterval,
		MaxEchoedName:     cfg.MaxEchoedName,
	}
	if cfg.UploadLimit == (runtime.Limit{}) {
		opts.EventLimits = map[string]runtime.Limit{"upload-profile-image": {PerSecond: 1, Burst: 5}}
	}
	opts.Adapter = cfg.Adapter
	if cfg.Tracer != nil {
		opts.Interceptors = append(opts.Interceptors, tracing.Interceptor(cfg.Tracer))
	}
	if cfg.Metrics != nil { // outermost: it sees the codes the tracing interceptor passes on
		m := metrics.New(cfg.Metrics)
		opts.Interceptors = append([]runtime.Interceptor{m.Interceptor()}, opts.Interceptors...)
		opts.Observer = m
	}
	rt := runtime.NewServer(opts)
	app := karl.New(st, karl.Config{TokenTTL: cfg.TokenTTL, CleanupInterval: cfg.CleanupInterval, Image: limits, ImageChecks: cfg.ImageChecks, Now: cfg.Now}, log)
	app.Register(rt)
	s := &Server{App: app, store: st, rt: rt, log: log}
	s.handler = s.routes(cfg)
	return s, nil
}

// OpenStore opens PostgreSQL when db is a postgres:// or postgresql:// URL,
// which several nodes can share, else the SQLite file at path db.
func OpenStore(ctx context.Context, db string, log *slog.Logger) (store.Store, error) {
	if IsPostgresURL(db) {
		return postgres.Open(ctx, db, log) // its errors name the URL without its password
	}
	return OpenSQLite(ctx, db, log)
}

// IsPostgresURL reports whether --db names a PostgreSQL database rather than an SQLite file.
func IsPostgresURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// OpenSQLite opens the embedded SQLite store at path.
func OpenSQLite(ctx context.Context, path string, log *slog.Logger) (store.Store, error) {
	st, err := sqlite.Open(ctx, path, log)
	if err != nil {
		return nil, fmt.Errorf("open store %q: %w", path, err)
	}
	return st, nil
}

func (s *Server) routes(cfg Config) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", s.rt.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), cmp.Or(cfg.HealthTimeout, 2*time.Second))
		defer cancel()
		if err := s.store.Ping(ctx); err != nil {
			if s.unhealthy.CompareAndSwap(false, true) { // once per outage: balancers poll every second
				s.log.Error("health check failed", "err", err)
			}
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		if s.unhealthy.CompareAndSwap(true, false) {
			s.log.Info("health check passes again")
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	if cfg.Static != "" {
		mux.Handle("/", http.FileServer(http.Dir(cfg.Static)))
	}
	return mux
}

// Handler returns the HTTP handler: Socket.IO, /healthz and the static files.
func (s *Server) Handler() http.Handler { return s.handler }

// Shutdown lets running handlers finish (until ctx ends), disconnects every
// socket, and closes the store. Stop the HTTP listener first.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.rt.Shutdown(ctx)
	if cerr := s.store.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close store: %w", cerr))
	}
	return err
}

// SplitList splits a comma-separated flag value, dropping empty items.
func SplitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
