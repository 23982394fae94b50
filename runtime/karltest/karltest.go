// Package karltest serves a runtime server in memory and speaks Socket.IO to it,
// for the test clients karlgen generates (NewTestServer in the generated package).
// Connections are net.Pipe pairs behind an http.Server: the whole runtime runs
// (handshake, decoding, checks, acks, rooms, broadcasts) without a port or a network.
//
// Applications use it through their generated package; it is not meant to be called
// directly.
package karltest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/karl-app/karl/internal/sioclient"
	"github.com/karl-app/karl/runtime"
)

// DefaultTimeout bounds a call or a wait whose context has no deadline.
const DefaultTimeout = 5 * time.Second

// Server serves an http.Handler on an in-memory listener.
type Server struct {
	ln   *listener
	http *http.Server
	done chan struct{}
}

// Serve starts serving h in memory.
func Serve(h http.Handler) *Server {
	s := &Server{ln: newListener(), http: &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = s.http.Serve(s.ln)
	}()
	return s
}

// Close stops the server and closes its connections.
func (s *Server) Close() error {
	err := s.http.Close()
	<-s.done
	return err
}

// Connect joins namespace with auth (any JSON marshaler; nil sends none). A refused
// handshake is returned as the *runtime.Error the server sent in connect_error.
func (s *Server) Connect(namespace string, auth any) (*Client, error) {
	// The Host a local client sends, which the runtime's host check allows.
	c, err := sioclient.Dial("http://127.0.0.1", sioclient.Options{Auth: auth, Namespace: namespace, NetDial: s.ln.dial})
	var ce *sioclient.ConnectError
	if errors.As(err, &ce) {
		return nil, wireError(ce.Data, "connect_error: "+ce.Message)
	}
	if err != nil {
		return nil, err
	}
	return newClient(c), nil
}

// Client is one in-memory Socket.IO connection. It keeps the server events it
// receives in order, by name, until Next takes them.
type Client struct {
	c       *sioclient.Client
	mu      sync.Mutex
	queued  map[string][][]json.RawMessage
	arrived chan struct{} // closed and replaced whenever an event is queued
	ended   chan struct{}
}

func newClient(c *sioclient.Client) *Client {
	cl := &Client{c: c, queued: map[string][][]json.RawMessage{}, arrived: make(chan struct{}), ended: make(chan struct{})}
	go cl.collect()
	return cl
}

func (c *Client) collect() {
	defer close(c.ended)
	for ev := range c.c.Events() {
		c.mu.Lock()
		c.queued[ev.Name] = append(c.queued[ev.Name], ev.Args)
		close(c.arrived)
		c.arrived = make(chan struct{})
		c.mu.Unlock()
	}
}

// ID returns the Socket.IO id of the connection.
func (c *Client) ID() string { return c.c.SID }

// Call sends event with payload (nil: none) and an ack, and waits for the answer:
// the ack's data on {"ok": true}, the *runtime.Error on {"ok": false}.
func (c *Client) Call(ctx context.Context, event string, payload any) (json.RawMessage, error) {
	answer, err := c.c.EmitAck(event, payload, timeout(ctx))
	if err != nil {
		return nil, err
	}
	var env struct {
		OK    bool            `json:"ok"`
		Data  json.RawMessage `json:"data"`
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(answer, &env); err != nil {
		return nil, fmt.Errorf("%s: ack %s: %w", event, answer, err)
	}
	if !env.OK {
		return nil, wireError(env.Error, event+": answered ok: false")
	}
	return env.Data, nil
}

// Emit sends event with payload (nil: none), without an ack.
func (c *Client) Emit(event string, payload any) error { return c.c.Emit(event, payload) }

// Next returns the arguments of the oldest server event named event this client
// received and has not taken yet, waiting for one if there is none. Events of other
// names stay queued for their own Next.
func (c *Client) Next(ctx context.Context, event string) ([]json.RawMessage, error) {
	deadline := time.After(timeout(ctx))
	for ended := false; ; {
		c.mu.Lock()
		if q := c.queued[event]; len(q) > 0 {
			c.queued[event] = q[1:]
			c.mu.Unlock()
			return q[0], nil
		}
		arrived := c.arrived
		c.mu.Unlock()
		if ended { // the queue is final once the connection ended
			return nil, fmt.Errorf("connection closed while waiting for %q", event)
		}
		select {
		case <-arrived:
		case <-c.ended:
			ended = true
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-deadline:
			return nil, fmt.Errorf("no %q within %v", event, timeout(ctx))
		}
	}
}

// Pending returns how many events named event were received and not taken yet.
func (c *Client) Pending(event string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queued[event])
}

// Close disconnects.
func (c *Client) Close() error { return c.c.Close() }

// DecodeWith reads JSON with a generated decoder: the JSON is turned into what the
// Socket.IO parser hands to decoders (maps, slices, float64, string, bool, nil),
// then decode reads and checks it.
func DecodeWith[T any](data json.RawMessage, decode func(any) (T, error)) (T, error) {
	var v any
	if len(data) > 0 {
		if err := json.Unmarshal(data, &v); err != nil {
			var zero T
			return zero, err
		}
	}
	return decode(v)
}

// DecodeArg reads the first argument of a server event with a generated decoder.
func DecodeArg[T any](args []json.RawMessage, decode func(any) (T, error)) (T, error) {
	if len(args) == 0 {
		return decode(nil)
	}
	return DecodeWith(args[0], decode)
}

// wireError reads {code, message, path} into a *runtime.Error.
func wireError(data json.RawMessage, fallback string) error {
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Path    string `json:"path"`
	}
	if json.Unmarshal(data, &e) != nil || e.Code == "" {
		return errors.New(fallback)
	}
	return &runtime.Error{Code: runtime.Code(e.Code), Message: e.Message, Path: e.Path}
}

func timeout(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return time.Until(d)
	}
	return DefaultTimeout
}

// listener is a net.Listener whose connections are net.Pipe pairs.
type listener struct {
	conns  chan net.Conn
	once   sync.Once
	closed chan struct{}
}

func newListener() *listener {
	return &listener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

// pipeAddr stands for both ends: a loopback address, so that per-IP limits apply as
// they do to a local client.
var pipeAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}

type conn struct{ net.Conn }

func (conn) LocalAddr() net.Addr  { return pipeAddr }
func (conn) RemoteAddr() net.Addr { return pipeAddr }

func (l *listener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- conn{server}:
		return conn{client}, nil
	case <-l.closed:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (l *listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *listener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *listener) Addr() net.Addr { return pipeAddr }
