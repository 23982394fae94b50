package server

import (
	"errors"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// HTTPTimeouts bound how long one client may hold a connection without
// finishing a request. A hijacked WebSocket is not affected: net/http clears
// the deadlines when it hands the connection over.
type HTTPTimeouts struct {
	// Header bounds reading a request's headers [10s].
	Header time.Duration
	// Read bounds reading one whole request, body included (a polling POST
	// dribbled a byte at a time); long-polling GETs, which the server holds
	// until it has something to send, are exempt (runtime.Server.Handler).
	Read time.Duration
	// Idle bounds a keep-alive connection waiting for its next request.
	Idle time.Duration
}

// NewHTTPServer returns the http.Server karl-server runs: header, read and
// idle timeouts set, and net/http's own error lines ("http: Accept error: too
// many open files", TLS handshake errors) sent to log, rate-limited, instead
// of the standard logger's unformatted stderr.
func NewHTTPServer(h http.Handler, t HTTPTimeouts, log *slog.Logger) *http.Server {
	if t.Header <= 0 {
		t.Header = 10 * time.Second
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.Header,
		ReadTimeout:       t.Read,
		IdleTimeout:       t.Idle,
		ErrorLog:          newErrorLog(log),
	}
}

// newErrorLog adapts net/http's *log.Logger to slog, at most a line a second
// (bursts of 5); the lines it drops are counted in the next one it writes.
func newErrorLog(l *slog.Logger) *log.Logger {
	return log.New(&rateLimitedWriter{log: l, limit: newLogBudget(5)}, "", 0)
}

type rateLimitedWriter struct {
	log     *slog.Logger
	limit   *logBudget
	dropped atomic.Int64
}

func (w *rateLimitedWriter) Write(p []byte) (int, error) {
	if !w.limit.Allow() {
		w.dropped.Add(1)
		return len(p), nil
	}
	msg := strings.TrimSpace(string(p))
	if n := w.dropped.Swap(0); n > 0 {
		w.log.Error("http server", "err", msg, "suppressed", n)
	} else {
		w.log.Error("http server", "err", msg)
	}
	return len(p), nil
}

// LimitConnsPerIP returns a listener that closes, as soon as it is accepted,
// a connection from an address that already holds max open connections, so one
// client cannot take every file descriptor. max <= 0 disables the limit.
// Refusals are logged at most once a second per listener.
func LimitConnsPerIP(ln net.Listener, max int, log *slog.Logger) net.Listener {
	if max <= 0 {
		return ln
	}
	return &perIPListener{Listener: ln, max: max, log: log, byIP: map[string]int{}, warn: newLogBudget(1)}
}

type perIPListener struct {
	net.Listener
	max     int
	log     *slog.Logger
	mu      sync.Mutex
	byIP    map[string]int
	warn    *logBudget
	refused atomic.Int64 // since the last warning
}

func (l *perIPListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c.RemoteAddr())
		l.mu.Lock()
		n := l.byIP[ip]
		if n < l.max {
			l.byIP[ip] = n + 1
		}
		l.mu.Unlock()
		if n < l.max {
			return &countedConn{Conn: c, release: func() { l.release(ip) }}, nil
		}
		_ = c.Close()
		refused := l.refused.Add(1)
		if l.warn.Allow() {
			l.refused.Add(-refused)
			l.log.Warn("connection refused: too many open connections from this address",
				"ip", ip, "max", l.max, "refused", refused)
		}
	}
}

func (l *perIPListener) release(ip string) {
	l.mu.Lock()
	if l.byIP[ip] <= 1 {
		delete(l.byIP, ip)
	} else {
		l.byIP[ip]--
	}
	l.mu.Unlock()
}

// countedConn gives its slot back once, on the first Close.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// SyscallConn passes the TCP connection's descriptor through: without it
// runtime/wstransport cannot make its non-blocking writes and falls back to a
// blocking write on a goroutine of its own for every flush.
func (c *countedConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.ErrUnsupported
}

// CloseWrite passes the half-close through, with which runtime/wstransport
// sends its close frame and a FIN, then waits for the client's answer.
func (c *countedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

func remoteIP(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// logBudget allows a log line a second on average, in bursts of up to burst
// lines: the token bucket of x/time/rate, in the few lines a logger needs.
type logBudget struct {
	mu     sync.Mutex
	burst  float64
	tokens float64
	last   time.Time
}

func newLogBudget(burst int) *logBudget {
	return &logBudget{burst: float64(burst), tokens: float64(burst)}
}

// Allow takes a token if there is one.
func (b *logBudget) Allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if !b.last.IsZero() {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds())
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
