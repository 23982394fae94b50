// Package multinode lets several karl-server processes serve one app behind a
// load balancer. The nodes share one PostgreSQL database (app/store/postgres)
// and relay Socket.IO broadcasts through Redis with the zishang520 Redis
// adapters, the Go ports of @socket.io/redis-streams-adapter and
// @socket.io/redis-adapter: an event a handler sends to every socket or to a
// room on one node reaches the matching sockets on every node.
//
// With connection-state recovery (the server's default) it is the streams
// adapter: broadcasts go through one Redis stream that every node reads in
// order from where it stopped, and a dropped client's session is kept in
// Redis, so it can be recovered on any node. Without, it is the pub/sub
// adapter: a message reaches the nodes subscribed when it is published, at
// most once, and nothing replays it. Either way a broadcast a node sends
// while it cannot reach Redis reaches only that node's own sockets.
package multinode

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/adapters/redis/v3"
	"github.com/zishang520/socket.io/adapters/redis/v3/adapter"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/karl-app/karl/runtime"
)

// Timeouts for talking to Redis. A broadcast publishes from the handler that
// sends it, so a Redis that is down or unreachable must cost it little: one
// dial attempt, no retries (its own sockets get the event anyway).
const (
	dialTimeout = time.Second
	ioTimeout   = time.Second
	// Without traffic, a vanished Redis (no FIN, e.g. a failover that moved
	// its address) shows only through TCP keepalives; Go's default would
	// notice after about 2.5 minutes, these after about 20 seconds.
	keepAliveIdle     = 5 * time.Second
	keepAliveInterval = 5 * time.Second
	keepAliveCount    = 3
)

// Redis is a node's connection to Redis for the Socket.IO adapter: one
// client publishes, another holds the subscriptions.
type Redis struct {
	pub, sub *goredis.Client
	client   *redis.RedisClient
	ctx      context.Context // the subscriptions' lifetime: until Close
	cancel   context.CancelFunc
	errors   *errorLog
}

// OpenRedis connects to the Redis server at redisURL (redis://, rediss:// or
// unix://, as go-redis parses them) and checks it answers, so a wrong URL
// fails at startup rather than silently keeping broadcasts on one node.
func OpenRedis(ctx context.Context, redisURL string, log *slog.Logger) (*Redis, error) {
	r, err := openRedis(ctx, redisURL, log)
	if err != nil {
		return nil, fmt.Errorf("open Redis %q: %w", Redact(redisURL), err)
	}
	return r, nil
}

func openRedis(ctx context.Context, redisURL string, log *slog.Logger) (*Redis, error) {
	var urlErr *url.Error
	if _, err := url.Parse(redisURL); errors.As(err, &urlErr) {
		return nil, fmt.Errorf("not a valid URL: %w", urlErr.Err) // url.Error quotes the URL, password included
	}
	opts, err := goredis.ParseURL(redisURL)
	if err != nil {
		return nil, err
	}
	opts.DialTimeout = dialTimeout
	opts.ReadTimeout, opts.WriteTimeout = ioTimeout, ioTimeout
	opts.MaxRetries = -1 // no retries
	opts.DialerRetries = 1
	opts.DialerRetryTimeout = time.Millisecond // go-redis waits this long even after its last attempt
	netDialer := &net.Dialer{
		Timeout:         dialTimeout,
		KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: keepAliveIdle, Interval: keepAliveInterval, Count: keepAliveCount},
	}
	redirectGoRedisLog.Do(func() { goredis.SetLogger(slogPrintf{log}) })
	r := &Redis{errors: &errorLog{log: log, every: 10 * time.Second}}
	pubOpts := *opts
	pubOpts.Dialer = tlsDialer(netDialer.DialContext, opts)
	r.pub = goredis.NewClient(&pubOpts)

	// The adapter reads its subscriptions in a loop that, on an error, goes
	// straight back to reading; while Redis is down each read dials again at
	// once and fails at once. The subscriber's dialer waits longer after
	// each failure, so an outage costs a few dials a second, not a core.
	subOpts := *opts
	subOpts.Dialer = tlsDialer((&backoffDialer{dial: netDialer.DialContext, min: 50 * time.Millisecond, max: 500 * time.Millisecond}).DialContext, opts)
	subOpts.OnConnect = func(context.Context, *goredis.Conn) error {
		r.errors.recovered()
		return nil
	}
	r.sub = goredis.NewClient(&subOpts)

	ping, cancelPing := context.WithTimeout(ctx, 5*time.Second)
	defer cancelPing()
	if err := r.pub.Ping(ping).Err(); err != nil {
		return nil, errors.Join(err, r.pub.Close(), r.sub.Close())
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.client = redis.NewRedisClientWithSub(r.ctx, r.pub, r.sub)
	_ = r.client.On("error", func(args ...any) { r.errors.report(args...) })
	return r, nil
}

// Adapter returns the Socket.IO adapter for server.Config.Adapter. With
// recovery (the server's RecoveryWindow), it is the Redis streams adapter:
// broadcasts go through a Redis stream that a client coming back, on any
// node, is replayed from, and sessions are kept in Redis for the window.
// Without, it is the pub/sub adapter, at most once (with its relay, see
// adapterBuilder).
func (r *Redis) Adapter(recovery bool) runtime.Adapter {
	if recovery {
		r.errors.streams.Store(true)
		return redisAdapter{&streamsBuilder{r: r, inner: &adapter.RedisStreamsAdapterBuilder{Redis: r.client, Opts: adapter.DefaultRedisStreamsAdapterOptions()}}}
	}
	return redisAdapter{&adapterBuilder{r: r}}
}

// redisAdapter hands the library's adapter constructor to the runtime.
type redisAdapter struct{ b socket.AdapterConstructor }

func (a redisAdapter) SocketIOAdapter() any { return a.b }

// Reconnects returns how many times the subscriber connected again after errors.
func (r *Redis) Reconnects() int64 { return r.errors.reconnects.Load() }

// Close ends the subscriptions and closes both clients. Call it after the
// Socket.IO server closed, which closes its adapters.
func (r *Redis) Close() error {
	r.cancel()
	return errors.Join(r.pub.Close(), r.sub.Close())
}

// tlsDialer wraps dial with the TLS of a rediss:// URL: a custom Dialer
// replaces go-redis's, which would have added it.
func tlsDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error), opts *goredis.Options) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if opts.TLSConfig == nil {
		return dial
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tlsConn := tls.Client(conn, opts.TLSConfig) // ParseURL set ServerName
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			return nil, errors.Join(err, conn.Close())
		}
		return tlsConn, nil
	}
}

// Redact returns redisURL without its password, for errors and logs.
func Redact(redisURL string) string {
	u, err := url.Parse(redisURL)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// backoffDialer waits before each dial that follows a failed one, twice as
// long each time from min up to max; a success resets it.
type backoffDialer struct {
	dial     func(ctx context.Context, network, addr string) (net.Conn, error)
	min, max time.Duration

	mu   sync.Mutex
	wait time.Duration // before the next dial; 0 after a success
}

func (d *backoffDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	wait := d.wait
	d.mu.Unlock()
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	conn, err := d.dial(ctx, network, addr)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err == nil {
		d.wait = 0
	} else {
		d.wait = min(max(2*d.wait, d.min), d.max)
	}
	return conn, err
}

// errorLog logs the adapter's Redis errors: the first at once, then at most
// one line per period with the count of those it held back, so an outage
// does not flood the log.
type errorLog struct {
	log   *slog.Logger
	every time.Duration

	mu      sync.Mutex
	last    time.Time   // when an error was last logged
	held    int         // errors since then, not logged
	failing bool        // errors since the last successful connection
	streams atomic.Bool // the streams adapter: nodes read on from where they were

	reconnects atomic.Int64 // recoveries after errors, for karl_redis_reconnects_total
}

func (e *errorLog) report(args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failing = true
	if time.Since(e.last) < e.every {
		e.held++
		return
	}
	e.log.Warn("Redis adapter error: broadcasts may not reach the other nodes", "err", fmt.Sprint(args...), "errors_held_back", e.held)
	e.last, e.held = time.Now(), 0
}

// recovered logs that the subscriber connected again after errors.
func (e *errorLog) recovered() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.failing {
		return
	}
	e.reconnects.Add(1)
	if e.streams.Load() {
		e.log.Info("Redis adapter reconnected; reading the other nodes' broadcasts on from where it stopped", "errors_held_back", e.held)
	} else {
		e.log.Info("Redis adapter reconnected; broadcasts the other nodes sent meanwhile are lost", "errors_held_back", e.held)
	}
	e.failing, e.last, e.held = false, time.Time{}, 0
}

// go-redis prints to stderr through a process-wide logger, a line per failed
// dial during an outage, which would also break --log-format json. It is
// replaced once, by the first OpenRedis: go-redis reads it unsynchronised.
var redirectGoRedisLog sync.Once

// slogPrintf passes go-redis's own log lines to slog at debug level: the
// adapter's errors, which say the same, are logged by errorLog.
type slogPrintf struct{ log *slog.Logger }

func (l slogPrintf) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
}
