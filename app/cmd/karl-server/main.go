// Command karl-server runs the KARL app: Socket.IO on /socket.io/, GET /healthz,
// and (with --static) the demo page, with its data in an SQLite file or, for
// several nodes, in PostgreSQL (--db postgres://...) with their broadcasts
// relayed through Redis (--redis redis://...).
//
// Every flag can also be set with an environment variable: --token-ttl is
// KARL_TOKEN_TTL. Flags given on the command line win.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/karl-app/karl/app/imagecheck"
	"github.com/karl-app/karl/app/karl"
	"github.com/karl-app/karl/app/multinode"
	"github.com/karl-app/karl/app/server"
	"github.com/karl-app/karl/app/store/postgres"
	"github.com/karl-app/karl/runtime"
)

type flags struct {
	addr, tlsCert, tlsKey, logLevel, logFormat, origins string
	redis, hosts, metricsAddr, debugAddr                string
	shutdownTimeout                                     time.Duration
	maxConnsPerIP                                       int
	httpTimeouts                                        server.HTTPTimeouts
	eventRate, uploadRate, handshakeRate                float64
	eventBurst, uploadBurst, handshakeBurst             int
	cfg                                                 server.Config
}

func parseFlags(args []string, getenv func(string) string) (*flags, error) {
	f := &flags{}
	fs := f.flagSet()
	var envErr error
	fs.VisitAll(func(fl *flag.Flag) {
		if v := getenv(envName(fl.Name)); v != "" {
			if err := fl.Value.Set(v); err != nil {
				envErr = errors.Join(envErr, fmt.Errorf("%s: %w", envName(fl.Name), err))
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if f.cfg.Transport != "karl" && f.cfg.Transport != "library" {
		return nil, fmt.Errorf("--transport: %q is not karl or library", f.cfg.Transport)
	}
	for name, d := range map[string]time.Duration{"header-timeout": f.httpTimeouts.Header, "health-timeout": f.cfg.HealthTimeout, "connect-timeout": f.cfg.ConnectTimeout, "event-timeout": f.cfg.EventTimeout, "overflow-grace": f.cfg.OverflowGrace} {
		if d <= 0 {
			return nil, fmt.Errorf("--%s: %v is not a positive duration", name, d)
		}
	}
	if f.httpTimeouts.Read < 0 || f.httpTimeouts.Idle < 0 || f.maxConnsPerIP < 0 {
		return nil, errors.New("--read-timeout, --idle-timeout and --max-conns-per-ip cannot be negative (0 turns each off)")
	}
	if f.cfg.LogSampleInterval == 0 {
		return nil, errors.New("--log-sample-interval: 0 is not an interval (a negative one writes every line)")
	}
	if f.cfg.MaxEchoedName <= 0 || f.cfg.MaxImageWidth <= 0 || f.cfg.MaxImageHeight <= 0 || f.cfg.ImageChecks < 0 {
		return nil, errors.New("--max-echoed-name, --max-image-width and --max-image-height must be positive, --image-checks 0 or more")
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	f.cfg.AllowedOrigins = server.SplitList(f.origins)
	f.cfg.AllowedHosts = server.SplitList(f.hosts)
	f.cfg.EventLimit = runtime.Limit{PerSecond: f.eventRate, Burst: f.eventBurst}
	f.cfg.UploadLimit = runtime.Limit{PerSecond: f.uploadRate, Burst: f.uploadBurst}
	f.cfg.HandshakeLimit = runtime.Limit{PerSecond: f.handshakeRate, Burst: f.handshakeBurst}
	return f, nil
}

// envName is the environment variable that sets a flag: KARL_ and its name
// in capitals, dashes as underscores (--max-conns-per-ip: KARL_MAX_CONNS_PER_IP).
func envName(flagName string) string {
	return "KARL_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// flagSet declares every flag into f, with its default.
func (f *flags) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("karl-server", flag.ContinueOnError)
	fs.StringVar(&f.addr, "addr", ":3000", "address to listen on")
	fs.StringVar(&f.cfg.DB, "db", "karl.db", "SQLite database file, or a postgres:// URL the nodes share")
	fs.StringVar(&f.redis, "redis", "", "redis:// URL: relay broadcasts to the other nodes (Socket.IO Redis adapter)")
	fs.DurationVar(&f.cfg.TokenTTL, "token-ttl", karl.DefaultTokenTTL, "lifetime of a reconnect token")
	fs.DurationVar(&f.cfg.CleanupInterval, "cleanup-interval", time.Hour, "how often expired tokens are deleted")
	fs.IntVar(&f.cfg.MaxImageBytes, "max-image-bytes", 256<<10, "largest profile photo, decoded, in bytes")
	fs.StringVar(&f.origins, "allowed-origins", "", "comma-separated browser origins allowed to connect besides the server's own (empty: same origin only; * for any)")
	fs.StringVar(&f.hosts, "allowed-hosts", "", "comma-separated host names the server answers to besides IP addresses and localhost, e.g. the public name behind a proxy (* for any)")
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "address of a separate listener serving Prometheus metrics on /metrics, e.g. 127.0.0.1:9464 (empty: no metrics)")
	fs.StringVar(&f.debugAddr, "debug-addr", "", "address of a separate listener serving net/http/pprof on /debug/pprof/, e.g. 127.0.0.1:6060 (empty: none)")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate file (serves HTTPS/WSS with --tls-key)")
	fs.StringVar(&f.tlsKey, "tls-key", "", "TLS key file")
	fs.StringVar(&f.cfg.Static, "static", "", "directory served at / (the demo page)")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&f.logFormat, "log-format", "text", "text or json")
	fs.Float64Var(&f.eventRate, "event-rate", 20, "events per second per socket")
	fs.IntVar(&f.eventBurst, "event-burst", 40, "burst of events per socket")
	fs.Float64Var(&f.uploadRate, "upload-rate", 1, "photo uploads per second per socket")
	fs.IntVar(&f.uploadBurst, "upload-burst", 5, "burst of photo uploads per socket")
	fs.Float64Var(&f.handshakeRate, "handshake-rate", 5, "new connections per second per client IP")
	fs.IntVar(&f.handshakeBurst, "handshake-burst", 20, "burst of new connections per client IP")
	fs.DurationVar(&f.cfg.IdempotencyWindow, "idempotency-window", 24*time.Hour, "how long the answer of an idempotent event (set-username, upload-profile-image, send-message) is kept for retries with its key")
	fs.Int64Var(&f.cfg.MaxQueuedBytes, "max-queued-bytes", 1<<20, "outgoing bytes a client that does not read may have waiting; over it its socket is disconnected (-1: no limit)")
	fs.StringVar(&f.cfg.Transport, "transport", "karl", "WebSocket transport: karl (runtime/wstransport: one write per flush, broadcasts written by flusher goroutines) or library (zishang520's, for comparison and as a fallback)")
	fs.IntVar(&f.maxConnsPerIP, "max-conns-per-ip", 1024, "open TCP connections per client IP, over it new ones are closed at once (0: no limit)")
	fs.DurationVar(&f.httpTimeouts.Read, "read-timeout", 30*time.Second, "time to read one HTTP request, body included (long-polling GETs and WebSockets exempt; 0: none)")
	fs.DurationVar(&f.httpTimeouts.Header, "header-timeout", 10*time.Second, "time to read one HTTP request's headers")
	fs.DurationVar(&f.cfg.HealthTimeout, "health-timeout", 2*time.Second, "how long /healthz waits for the database before answering 503")
	fs.DurationVar(&f.httpTimeouts.Idle, "idle-timeout", 30*time.Second, "how long an idle keep-alive HTTP connection is kept (0: the read timeout)")
	fs.DurationVar(&f.cfg.RecoveryWindow, "recovery-window", 2*time.Minute, "how long a client whose connection dropped may come back and get the events it missed (0: off)")
	fs.DurationVar(&f.cfg.PresenceHeartbeat, "presence-heartbeat", 5*time.Second, "with --redis, how often a node tells the others it is alive; the members of a node silent for 3 beats are gone within 4")
	fs.DurationVar(&f.cfg.PingInterval, "ping-interval", 25*time.Second, "Engine.IO ping interval: how often the server checks a client is there")
	fs.DurationVar(&f.cfg.PingTimeout, "ping-timeout", 20*time.Second, "Engine.IO ping timeout: a client that does not answer a ping within it is disconnected")
	fs.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long running handlers get on SIGTERM")
	fs.DurationVar(&f.cfg.ConnectTimeout, "connect-timeout", 10*time.Second, "time a client has to join the namespace after the Engine.IO handshake")
	fs.DurationVar(&f.cfg.EventTimeout, "event-timeout", 5*time.Second, "deadline of one event's handler when the schema sets none (over it: internal)")
	fs.DurationVar(&f.cfg.OverflowGrace, "overflow-grace", 5*time.Second, "how long a client disconnected for --max-queued-bytes may take to read its backlog before its connection is cut")
	fs.DurationVar(&f.cfg.LogSampleInterval, "log-sample-interval", time.Second, "shortest time between two log lines of one kind a client causes (bad payloads, unknown events, rate limits, refused hosts); the others are counted (-1ns: every line)")
	fs.IntVar(&f.cfg.MaxEchoedName, "max-echoed-name", 64, "bytes of a client-chosen name (unknown event, refused Host or Origin) repeated in answers and logs; longer ones are cut")
	fs.IntVar(&f.cfg.MaxImageWidth, "max-image-width", imagecheck.DefaultMaxWidth, "widest profile photo, in pixels (width x height bounds the memory of a check)")
	fs.IntVar(&f.cfg.MaxImageHeight, "max-image-height", imagecheck.DefaultMaxHeight, "tallest profile photo, in pixels")
	fs.IntVar(&f.cfg.ImageChecks, "image-checks", 0, "photo checks run at once (each costs up to ~0.2 s of CPU and ~32 MiB at 2048x2048, growing with width x height); the others wait (0: 2 per processor)")
	return fs
}

func newLogger(level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: %q is not text or json", format)
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "karl-server:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	f, err := parseFlags(args, os.Getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	log, err := newLogger(f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	var reg *prometheus.Registry
	if f.metricsAddr != "" {
		reg = newRegistry()
		f.cfg.Metrics = reg
	}
	tp, stopTracing, err := newTracerProvider(ctx, os.Getenv)
	if err != nil {
		return err
	}
	if tp != nil {
		f.cfg.Tracer = tp
		defer func() { // flush the last spans
			c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = stopTracing(c)
		}()
	}
	if f.redis != "" {
		rds, err := multinode.OpenRedis(ctx, f.redis, log)
		if err != nil {
			return err
		}
		defer rds.Close() // after srv.Shutdown closed the adapter
		f.cfg.Adapter = rds.Adapter(f.cfg.RecoveryWindow > 0)
		f.cfg.Presence = rds.Presence(f.cfg.PresenceHeartbeat)
		if reg != nil {
			reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "karl_redis_reconnects_total", Help: "Times the Redis adapter's subscriber connected again after errors.",
			}, func() float64 { return float64(rds.Reconnects()) }))
		}
	}
	srv, err := server.New(ctx, f.cfg, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		_ = srv.Shutdown(context.Background())
		return err
	}
	ln = server.LimitConnsPerIP(ln, f.maxConnsPerIP, log)
	var side []*http.Server // metrics and pprof, stopped with the main listener
	for _, l := range []struct {
		what, addr string
		h          func() http.Handler
	}{{"metrics", f.metricsAddr, func() http.Handler { return metricsMux(reg) }}, {"debug", f.debugAddr, debugMux}} {
		if l.addr == "" {
			continue
		}
		hs, err := serveSide(l.what, l.addr, l.h(), log)
		if err != nil {
			_ = ln.Close()
			_ = srv.Shutdown(context.Background())
			return err
		}
		side = append(side, hs)
	}
	defer func() {
		for _, hs := range side {
			_ = hs.Close()
		}
	}()
	httpSrv := server.NewHTTPServer(srv.Handler(), f.httpTimeouts, log)
	scheme := "http"
	if f.tlsCert != "" {
		scheme = "https"
	}
	db := f.cfg.DB
	if server.IsPostgresURL(db) {
		db = postgres.Redact(db)
	}
	log.Info("listening", "addr", ln.Addr().String(), "url", fmt.Sprintf("%s://%s", scheme, ln.Addr()),
		"db", db, "redis", multinode.Redact(f.redis))

	cleanupCtx, stopCleanup := context.WithCancel(ctx)
	defer stopCleanup()
	go srv.App.RunCleanup(cleanupCtx)

	errc := make(chan error, 1)
	go func() {
		if f.tlsCert != "" {
			errc <- httpSrv.ServeTLS(ln, f.tlsCert, f.tlsKey)
		} else {
			errc <- httpSrv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		_ = srv.Shutdown(context.Background())
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), f.shutdownTimeout)
	defer cancel()
	_ = httpSrv.Shutdown(shutdownCtx) // stop accepting; hijacked WebSockets are closed by srv.Shutdown
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Error("shutdown", "err", err)
	}
	log.Info("stopped")
	return nil
}
