// Package wire is the load generator's Engine.IO v4 / Socket.IO v5 client.
//
// It speaks the protocol directly on gorilla/websocket (the library the Go
// server uses) and does as little as a client can: frames are built by
// appending bytes, incoming frames are classified by their first bytes and
// handed over as they are, a connection's reads reuse one buffer, and closed
// loops send their next request from the reader goroutine, so that a round
// trip costs the generator no goroutine switch. The stock npm client and
// internal/sioclient parse every frame as JSON; here only what a workload
// needs is looked at (an ack id, a sequence number).
package wire

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Handler receives what the server sends once a connection runs.
type Handler interface {
	// Event is called with an EVENT frame, e.g. `42["username-saved",{...}]`.
	Event(c *Conn, frame []byte)
	// Ack is called with an ACK frame, e.g. `43"7[{"ok":true}]`, and its id.
	Ack(c *Conn, id uint64, frame []byte)
}

// Conn is one Socket.IO socket on the default namespace.
type Conn struct {
	ws   *websocket.Conn
	wmu  sync.Mutex
	buf  bytes.Buffer
	SID  string
	done chan struct{}
	err  error

	// NextID is free for the workload: closed loops keep their ack ids here.
	NextID uint64
	// Sent is free for the workload: when the outstanding request was sent.
	Sent time.Time
	// Index is free for the workload: the connection's number.
	Index int
}

// ConnectError is the server refusing the namespace connection (connect_error).
type ConnectError struct{ Frame string }

func (e *ConnectError) Error() string { return "connect_error: " + e.Frame }

var dialer = websocket.Dialer{
	HandshakeTimeout: 10 * time.Second,
	ReadBufferSize:   4096,
	WriteBufferSize:  4096,
	NetDialContext:   (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
}

// URL turns a server base URL ("http://127.0.0.1:3000") into its WebSocket endpoint.
func URL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	}
	u.Path = "/socket.io/"
	u.RawQuery = "EIO=4&transport=websocket"
	return u.String(), nil
}

// Dial opens a WebSocket to wsURL (see URL), waits for the Engine.IO open
// packet, and joins the default namespace with auth (raw JSON, nil for none).
// It returns once the server sent CONNECT; frames the server sends after that
// are read with Next or, after Run, by the Handler.
func Dial(ctx context.Context, wsURL string, auth []byte) (*Conn, error) {
	ws, resp, err := dialer.DialContext(ctx, wsURL, nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial: %w (HTTP %d)", err, resp.StatusCode)
		}
		return nil, fmt.Errorf("dial: %w", err)
	}
	c := &Conn{ws: ws, done: make(chan struct{})}
	if err := c.handshake(ctx, auth); err != nil {
		_ = ws.Close()
		return nil, err
	}
	return c, nil
}

func (c *Conn) handshake(ctx context.Context, auth []byte) error {
	if dl, ok := ctx.Deadline(); ok {
		_ = c.ws.SetReadDeadline(dl)
		defer c.ws.SetReadDeadline(time.Time{})
	}
	f, err := c.Next()
	if err != nil || len(f) == 0 || f[0] != '0' {
		return fmt.Errorf("engine.io open: %v %q", err, f)
	}
	connect := append([]byte("40"), auth...)
	if err := c.Write(connect); err != nil {
		return err
	}
	f, err = c.Next()
	switch {
	case err != nil:
		return fmt.Errorf("socket.io connect: %w", err)
	case bytes.HasPrefix(f, []byte("40")):
		if i := bytes.Index(f, []byte(`"sid":"`)); i >= 0 {
			rest := f[i+7:]
			if j := bytes.IndexByte(rest, '"'); j >= 0 {
				c.SID = string(rest[:j])
			}
		}
		return nil
	case bytes.HasPrefix(f, []byte("44")):
		return &ConnectError{Frame: string(f)}
	}
	return fmt.Errorf("socket.io connect: unexpected frame %q", f)
}

// Next reads the next frame, answering Engine.IO pings on the way. The frame
// is valid until the next read. Use it before Run, never after.
func (c *Conn) Next() ([]byte, error) {
	for {
		_, r, err := c.ws.NextReader()
		if err != nil {
			return nil, err
		}
		c.buf.Reset()
		if _, err := c.buf.ReadFrom(r); err != nil {
			return nil, err
		}
		f := c.buf.Bytes()
		if len(f) == 1 && f[0] == '2' { // ping
			if err := c.Write([]byte{'3'}); err != nil {
				return nil, err
			}
			continue
		}
		return f, nil
	}
}

// SetReadDeadline bounds the reads of Next (zero: none).
func (c *Conn) SetReadDeadline(t time.Time) error { return c.ws.SetReadDeadline(t) }

// Run reads frames in a goroutine of its own and hands events and acks to h
// until the connection ends; Done is closed then.
func (c *Conn) Run(h Handler) {
	go func() {
		defer close(c.done)
		for {
			f, err := c.Next()
			if err != nil {
				c.err = err
				return
			}
			switch {
			case len(f) >= 2 && f[0] == '4' && f[1] == '2':
				h.Event(c, f)
			case len(f) >= 2 && f[0] == '4' && f[1] == '3':
				id, ok := ParseAckID(f)
				if ok {
					h.Ack(c, id, f)
				}
			}
		}
	}()
}

// Done is closed when Run's reader stopped; Err then says why.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err is why the reader stopped (valid once Done is closed).
func (c *Conn) Err() error { return c.err }

// Write sends one text frame. Safe for concurrent use.
func (c *Conn) Write(frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.WriteMessage(websocket.TextMessage, frame)
}

// WriteParts sends one text frame made of parts, without joining them first.
func (c *Conn) WriteParts(parts ...[]byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	w, err := c.ws.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	return w.Close()
}

// Close leaves the namespace (41) and closes the connection.
func (c *Conn) Close() error {
	_ = c.Write([]byte("41"))
	return c.ws.Close()
}

// Kill closes the TCP connection without a goodbye, like a phone losing signal.
func (c *Conn) Kill() error { return c.ws.NetConn().Close() }

// AppendEmit appends an EVENT frame `42<id>["<event>",<payload>]`; id < 0
// sends no ack id, payload nil sends no argument. event must need no escaping.
func AppendEmit(b []byte, id int64, event string, payload []byte) []byte {
	b = append(b, '4', '2')
	if id >= 0 {
		b = strconv.AppendInt(b, id, 10)
	}
	b = append(b, '[', '"')
	b = append(b, event...)
	b = append(b, '"')
	if payload != nil {
		b = append(b, ',')
		b = append(b, payload...)
	}
	return append(b, ']')
}

// ParseAckID reads the id of an ACK frame `43<id>[...]`.
func ParseAckID(f []byte) (uint64, bool) {
	var id uint64
	i := 2
	for ; i < len(f) && f[i] >= '0' && f[i] <= '9'; i++ {
		id = id*10 + uint64(f[i]-'0')
	}
	return id, i > 2
}

// EventName returns the name of an EVENT frame `42["name",...]`.
func EventName(f []byte) []byte {
	i := bytes.IndexByte(f, '"')
	if i < 0 {
		return nil
	}
	j := bytes.IndexByte(f[i+1:], '"')
	if j < 0 {
		return nil
	}
	return f[i+1 : i+1+j]
}

// StringField returns the raw value of the first `"key":"value"` in f, for
// values without escapes (tokens, sequence numbers).
func StringField(f []byte, key string) ([]byte, bool) {
	pat := make([]byte, 0, len(key)+4)
	pat = append(append(append(pat, '"'), key...), `":"`...)
	i := bytes.Index(f, pat)
	if i < 0 {
		return nil, false
	}
	rest := f[i+len(pat):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return nil, false
	}
	return rest[:j], true
}

// IsClosed reports whether err is a connection ending rather than a failure.
func IsClosed(err error) bool {
	return err == nil || errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) ||
		websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseAbnormalClosure)
}
