// Package sioclient is a thin Socket.IO v5 (Engine.IO v4) client over one
// WebSocket, for tests and the load generator. It speaks just what they need:
// connect with auth, emit with or without ack, receive events, raw packets.
//
// It exists because the Go socket.io client is CPU-heavy for load generation
// and installs a signal handler that makes binaries ignore SIGTERM.
package sioclient

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Event is an event received from the server.
type Event struct {
	Name string
	Args []json.RawMessage
}

// Client is one Socket.IO connection to the default namespace.
type Client struct {
	conn   *websocket.Conn
	wmu    sync.Mutex
	mu     sync.Mutex
	nextID uint64
	acks   map[uint64]chan []json.RawMessage
	events chan Event
	closed chan struct{}
	SID    string // the Socket.IO socket id
	err    error
	nsp    string // "" for the main namespace, else e.g. "/game," as packets carry it
}

// ConnectError is the server refusing the namespace connection (connect_error).
type ConnectError struct {
	Message string
	Data    json.RawMessage
}

func (e *ConnectError) Error() string { return "connect_error: " + e.Message + " " + string(e.Data) }

// Options for Dial.
type Options struct {
	Auth   any         // sent in the CONNECT packet; nil sends none
	Header http.Header // e.g. Origin
	TLS    *tls.Config // for https:// URLs (wss); nil uses the system roots
	// LocalAddr is the client's own IP, e.g. "127.0.0.2" to connect from another
	// loopback address than other clients; empty lets the system choose.
	LocalAddr string
	// Events is the buffer of received events; 0 means 1024. When it is full the
	// reader blocks, as a slow real client would.
	Events int
	// Namespace is the Socket.IO namespace to join; "" or "/" is the main one.
	Namespace string
	// NetDial, when set, makes the connection instead of a TCP dial (e.g. in memory).
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Dial connects to base (e.g. "http://127.0.0.1:3000") and joins the default namespace.
func Dial(base string, opts Options) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	u.Path = "/socket.io/"
	u.RawQuery = "EIO=4&transport=websocket"
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, TLSClientConfig: opts.TLS, NetDialContext: opts.NetDial}
	if opts.LocalAddr != "" && opts.NetDial == nil {
		nd := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(opts.LocalAddr)}}
		d.NetDialContext = nd.DialContext
	}
	conn, resp, err := d.Dial(u.String(), opts.Header)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial: %w (HTTP %d)", err, resp.StatusCode)
		}
		return nil, fmt.Errorf("dial: %w", err)
	}
	n := opts.Events
	if n == 0 {
		n = 1024
	}
	c := &Client{conn: conn, acks: map[uint64]chan []json.RawMessage{}, events: make(chan Event, n), closed: make(chan struct{})}
	if opts.Namespace != "" && opts.Namespace != "/" {
		c.nsp = opts.Namespace + ","
	}
	if err := c.handshake(opts.Auth); err != nil {
		conn.Close()
		return nil, err
	}
	go c.read()
	return c, nil
}

func (c *Client) handshake(auth any) error {
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	defer c.conn.SetReadDeadline(time.Time{})
	if _, msg, err := c.conn.ReadMessage(); err != nil || len(msg) == 0 || msg[0] != '0' {
		return fmt.Errorf("engine.io open: %v %q", err, msg)
	}
	connect := "40" + c.nsp
	if auth != nil {
		b, err := json.Marshal(auth)
		if err != nil {
			return err
		}
		connect += string(b)
	}
	if err := c.write(connect); err != nil {
		return err
	}
	for {
		_, msg, err := c.conn.ReadMessage()
		if err != nil {
			return fmt.Errorf("socket.io connect: %w", err)
		}
		s := string(msg)
		switch {
		case s == "2": // ping before connect
			_ = c.write("3")
		case strings.HasPrefix(s, "40"+c.nsp):
			var ok struct{ SID string }
			_ = json.Unmarshal(msg[2+len(c.nsp):], &ok)
			c.SID = ok.SID
			return nil
		case strings.HasPrefix(s, "44"+c.nsp):
			var ce struct {
				Message string          `json:"message"`
				Data    json.RawMessage `json:"data"`
			}
			_ = json.Unmarshal(msg[2+len(c.nsp):], &ce)
			return &ConnectError{Message: ce.Message, Data: ce.Data}
		default: // events emitted during connect arrive after "40": keep for read()
			return fmt.Errorf("unexpected packet before connect: %q", s)
		}
	}
}

func (c *Client) write(s string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.conn.WriteMessage(websocket.TextMessage, []byte(s))
}

// WriteRaw sends a raw Engine.IO text message, e.g. `42["x"]`.
func (c *Client) WriteRaw(s string) error { return c.write(s) }

// WriteBinary sends a binary WebSocket message (a Socket.IO attachment).
func (c *Client) WriteBinary(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.conn.WriteMessage(websocket.BinaryMessage, b)
}

func (c *Client) read() {
	defer close(c.closed)
	defer close(c.events)
	for {
		_, msg, err := c.conn.ReadMessage()
		if err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
			return
		}
		c.handle(string(msg))
	}
}

func (c *Client) handle(s string) {
	if len(s) >= 2 && s[0] == '4' && c.nsp != "" { // 42/game,[...]: drop the namespace
		if !strings.HasPrefix(s[2:], c.nsp) {
			return
		}
		s = s[:2] + s[2+len(c.nsp):]
	}
	switch {
	case s == "2":
		_ = c.write("3")
	case strings.HasPrefix(s, "42"):
		var arr []json.RawMessage
		if json.Unmarshal([]byte(s[2:]), &arr) != nil || len(arr) == 0 {
			return
		}
		var name string
		_ = json.Unmarshal(arr[0], &name)
		c.events <- Event{Name: name, Args: arr[1:]}
	case strings.HasPrefix(s, "43"):
		i := 2
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		id, _ := strconv.ParseUint(s[2:i], 10, 64)
		var args []json.RawMessage
		_ = json.Unmarshal([]byte(s[i:]), &args)
		c.mu.Lock()
		ch := c.acks[id]
		delete(c.acks, id)
		c.mu.Unlock()
		if ch != nil {
			ch <- args
		}
	}
}

func (c *Client) packet(event string, payload any, id string, more ...any) (string, error) {
	p, err := packet(event, payload, id, more...)
	if err != nil || c.nsp == "" {
		return p, err
	}
	return "42" + c.nsp + p[2:], nil
}

func packet(event string, payload any, id string, more ...any) (string, error) {
	args := []any{event}
	if payload != nil || len(more) > 0 {
		args = append(args, payload)
	}
	args = append(args, more...)
	b, err := json.Marshal(args)
	if err != nil {
		return "", err
	}
	return "42" + id + string(b), nil
}

// Emit sends an event without ack; payload nil sends no argument.
func (c *Client) Emit(event string, payload any) error {
	p, err := c.packet(event, payload, "")
	if err != nil {
		return err
	}
	return c.write(p)
}

// EmitAck sends an event with an ack and waits for the answer's first argument.
func (c *Client) EmitAck(event string, payload any, timeout time.Duration) (json.RawMessage, error) {
	return c.EmitAckMeta(event, payload, nil, timeout)
}

// EmitAckMeta is EmitAck with a request metadata object after the payload
// (e.g. {"traceparent": "00-..."}); meta nil sends none.
func (c *Client) EmitAckMeta(event string, payload, meta any, timeout time.Duration) (json.RawMessage, error) {
	var more []any
	if meta != nil {
		more = append(more, meta)
	}
	c.mu.Lock()
	id := c.nextID
	c.nextID++
	ch := make(chan []json.RawMessage, 1)
	c.acks[id] = ch
	c.mu.Unlock()
	p, err := c.packet(event, payload, strconv.FormatUint(id, 10), more...)
	if err != nil {
		return nil, err
	}
	if err := c.write(p); err != nil {
		return nil, err
	}
	select {
	case args := <-ch:
		if len(args) == 0 {
			return nil, errors.New("empty ack")
		}
		return args[0], nil
	case <-c.closed:
		return nil, fmt.Errorf("connection closed before the ack: %v", c.Err())
	case <-time.After(timeout):
		return nil, fmt.Errorf("no ack for %q within %v", event, timeout)
	}
}

// Events returns the channel of received events; it is closed when the connection ends.
func (c *Client) Events() <-chan Event { return c.events }

// Wait returns the next event named name, skipping others, or an error after timeout.
func (c *Client) Wait(name string, timeout time.Duration) (Event, error) {
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				return Event{}, fmt.Errorf("connection closed while waiting for %q", name)
			}
			if ev.Name == name {
				return ev, nil
			}
		case <-deadline:
			return Event{}, fmt.Errorf("no %q within %v", name, timeout)
		}
	}
}

// Err returns why the connection ended, once it has.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Closed is closed when the connection has ended.
func (c *Client) Closed() <-chan struct{} { return c.closed }

// Close disconnects politely (Socket.IO disconnect, then close).
func (c *Client) Close() error {
	_ = c.write("41" + c.nsp)
	return c.conn.Close()
}

// Kill closes the TCP connection without a goodbye, like a phone losing signal.
func (c *Client) Kill() error { return c.conn.UnderlyingConn().Close() }
