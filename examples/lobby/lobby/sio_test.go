package lobby_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// wait bounds every wait of the tests for an answer or an event.
const wait = 3 * time.Second

// client is a minimal Socket.IO v5 client over one real WebSocket (Engine.IO v4),
// just enough for these tests: the handshake with auth, events with acks, server
// events. It sends raw JSON, so the tests can send what a typed client cannot
// (an enum value outside the schema, a missing auth field). The repository's own
// protocol client is internal to the root module; the generated events.TestClient
// (typed_test.go) runs in memory rather than over a socket.
type client struct {
	t      *testing.T
	conn   *websocket.Conn
	wmu    sync.Mutex // gorilla allows one writer at a time
	mu     sync.Mutex
	nextID int
	acks   map[int]chan json.RawMessage
	events map[string][]json.RawMessage
	notify chan struct{} // signalled when an event arrives
	done   chan struct{} // closed when the connection is gone
}

// refusal is the data of a refused handshake (connect_error in JavaScript).
type refusal struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Path    string `json:"path"`
}

func (r *refusal) Error() string {
	return fmt.Sprintf("refused: %s (%s) at %q", r.Code, r.Message, r.Path)
}

// dial connects to the server with auth; a refused handshake is a *refusal.
func dial(t *testing.T, srv *httptest.Server, auth any) (*client, error) {
	t.Helper()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	c := &client{t: t, conn: conn, acks: map[int]chan json.RawMessage{}, events: map[string][]json.RawMessage{},
		notify: make(chan struct{}, 1), done: make(chan struct{})}
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	if msg, err := c.read(); err != nil || !strings.HasPrefix(msg, "0") {
		conn.Close()
		return nil, fmt.Errorf("engine.io open: %q, %v", msg, err)
	}
	body, _ := json.Marshal(auth)
	if err := c.write("40" + string(body)); err != nil {
		conn.Close()
		return nil, err
	}
	msg, err := c.read()
	_ = conn.SetReadDeadline(time.Time{})
	switch {
	case err != nil:
		conn.Close()
		return nil, fmt.Errorf("socket.io connect: %w", err)
	case strings.HasPrefix(msg, "44"):
		conn.Close()
		var r struct{ Data refusal }
		if err := json.Unmarshal([]byte(msg[2:]), &r); err != nil {
			return nil, fmt.Errorf("connect_error %q: %w", msg, err)
		}
		return nil, &r.Data
	case !strings.HasPrefix(msg, "40"):
		conn.Close()
		return nil, fmt.Errorf("socket.io connect: unexpected %q", msg)
	}
	go c.loop()
	t.Cleanup(c.close)
	return c, nil
}

// mustDial connects with the given player name.
func mustDial(t *testing.T, srv *httptest.Server, name string) *client {
	t.Helper()
	c, err := dial(t, srv, map[string]any{"playerName": name})
	if err != nil {
		t.Fatalf("connect %s: %v", name, err)
	}
	return c
}

func (c *client) read() (string, error) {
	_, b, err := c.conn.ReadMessage()
	return string(b), err
}

func (c *client) write(msg string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.conn.WriteMessage(websocket.TextMessage, []byte(msg))
}

func (c *client) close() { c.conn.Close(); <-c.done }

// loop answers pings and files acks and events until the connection ends.
func (c *client) loop() {
	defer close(c.done)
	for {
		msg, err := c.read()
		if err != nil {
			return
		}
		switch {
		case msg == "2":
			_ = c.write("3")
		case strings.HasPrefix(msg, "43"):
			c.ack(msg[2:])
		case strings.HasPrefix(msg, "42"):
			c.event(msg[2:])
		}
	}
}

func (c *client) ack(body string) {
	i := strings.IndexByte(body, '[')
	id, err := strconv.Atoi(body[:max(i, 0)])
	var args []json.RawMessage
	if err != nil || json.Unmarshal([]byte(body[i:]), &args) != nil || len(args) != 1 {
		c.t.Errorf("bad ack %q", body)
		return
	}
	c.mu.Lock()
	ch := c.acks[id]
	delete(c.acks, id)
	c.mu.Unlock()
	if ch != nil {
		ch <- args[0]
	}
}

func (c *client) event(body string) {
	var args []json.RawMessage
	var name string
	if json.Unmarshal([]byte(body), &args) != nil || len(args) == 0 || json.Unmarshal(args[0], &name) != nil {
		c.t.Errorf("bad event %q", body)
		return
	}
	payload := json.RawMessage("null")
	if len(args) > 1 {
		payload = args[1]
	}
	c.mu.Lock()
	c.events[name] = append(c.events[name], payload)
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// answer is the ack envelope of the wire contract.
type answer struct {
	OK    bool            `json:"ok"`
	Data  json.RawMessage `json:"data"`
	Error *refusal        `json:"error"`
}

// call emits event with payload (none when nil) and returns the ack's envelope.
func (c *client) call(event string, payload any) answer {
	c.t.Helper()
	args := []any{event}
	if payload != nil {
		args = append(args, payload)
	}
	body, err := json.Marshal(args)
	if err != nil {
		c.t.Fatal(err)
	}
	ch := make(chan json.RawMessage, 1)
	c.mu.Lock()
	id := c.nextID
	c.nextID++
	c.acks[id] = ch
	c.mu.Unlock()
	if err := c.write("42" + strconv.Itoa(id) + string(body)); err != nil {
		c.t.Fatalf("%s: %v", event, err)
	}
	select {
	case raw := <-ch:
		var a answer
		if err := json.Unmarshal(raw, &a); err != nil {
			c.t.Fatalf("%s: ack %s: %v", event, raw, err)
		}
		return a
	case <-time.After(wait):
		c.t.Fatalf("%s: no answer within %v", event, wait)
		return answer{}
	}
}

// code calls event and returns the error code of the answer ("" when ok).
func (c *client) code(event string, payload any) string {
	c.t.Helper()
	a := c.call(event, payload)
	if a.Error == nil {
		return ""
	}
	return a.Error.Code
}

// ok calls event, fails the test unless it succeeded, and decodes the reply into reply (if not nil).
func (c *client) ok(event string, payload, reply any) {
	c.t.Helper()
	a := c.call(event, payload)
	if !a.OK {
		c.t.Fatalf("%s: %+v", event, a.Error)
	}
	if reply != nil {
		if err := json.Unmarshal(a.Data, reply); err != nil {
			c.t.Fatalf("%s: reply %s: %v", event, a.Data, err)
		}
	}
}

// next waits for the oldest unread event and decodes its payload into v.
func (c *client) next(event string, v any) {
	c.t.Helper()
	deadline := time.After(wait)
	for {
		if raw, ok := c.take(event); ok {
			if err := json.Unmarshal(raw, v); err != nil {
				c.t.Fatalf("%s: %s: %v", event, raw, err)
			}
			return
		}
		select {
		case <-c.notify:
		case <-deadline:
			c.t.Fatalf("no %s within %v", event, wait)
		}
	}
}

func (c *client) take(event string) (json.RawMessage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.events[event]
	if len(q) == 0 {
		return nil, false
	}
	c.events[event] = q[1:]
	return q[0], true
}

// none fails the test when event arrived (after waiting d for stragglers).
func (c *client) none(event string, d time.Duration) {
	c.t.Helper()
	time.Sleep(d)
	c.mu.Lock()
	defer c.mu.Unlock()
	if q := c.events[event]; len(q) > 0 {
		c.t.Errorf("unexpected %s: %s", event, q)
	}
}
