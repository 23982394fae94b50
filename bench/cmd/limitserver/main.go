// Command limitserver is the limit of the benchmarks: a raw WebSocket server
// on gorilla/websocket (the library zishang520/socket.io is built on) that
// answers the Socket.IO frames of every workload with the same frames the
// KARL servers send, and does nothing else: no JSON decoding (fields are cut
// out of the frame), no store, no photo check, one goroutine per connection,
// one write (one syscall) per frame like the others. What a server on this
// wire cannot beat.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	goruntime "runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/karl-app/karl/bench/internal/debugsrv"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "address to listen on")
	debugAddr := flag.String("debug-addr", "", "pprof and /debug/bench/stats on this address (loopback)")
	flag.Parse()
	if err := run(*addr, *debugAddr); err != nil {
		fmt.Fprintln(os.Stderr, "limitserver:", err)
		os.Exit(1)
	}
}

func run(addr, debugAddr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := debugsrv.Start(debugAddr); err != nil {
		return err
	}
	h := newHub()
	go h.ping(ctx)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// The sizes zishang520's engine gives gorilla (DefaultWSReadBufferSize, DefaultWSWriteBufferSize).
var upgrader = websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024}

type conn struct {
	ws    *websocket.Conn
	mu    sync.Mutex
	sid   string
	user  []byte
	rooms map[string]bool // touched only by the connection's own reader
}

func (c *conn) write(b []byte) {
	c.mu.Lock()
	_ = c.ws.WriteMessage(websocket.TextMessage, b)
	c.mu.Unlock()
}

func (c *conn) writePrepared(pm *websocket.PreparedMessage) {
	c.mu.Lock()
	_ = c.ws.WritePreparedMessage(pm)
	c.mu.Unlock()
}

// hub holds the connected sockets and the rooms.
type hub struct {
	mu    sync.RWMutex
	conns map[*conn]struct{}
	rooms map[string]map[*conn]struct{}
}

func newHub() *hub {
	return &hub{conns: map[*conn]struct{}{}, rooms: map[string]map[*conn]struct{}{}}
}

func (h *hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("transport") != "websocket" {
		http.Error(w, "websocket only", http.StatusBadRequest)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	ws.SetReadLimit(1 << 20)
	c := &conn{ws: ws, sid: newID(), rooms: map[string]bool{}}
	c.write([]byte(`0{"sid":"` + newID() + `","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`))
	h.serve(c)
}

func newID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ping sends Engine.IO pings to every connection, as the real servers do.
func (h *hub) ping(ctx context.Context) {
	t := time.NewTicker(25 * time.Second)
	defer t.Stop()
	pm, _ := websocket.NewPreparedMessage(websocket.TextMessage, []byte("2"))
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.mu.RLock()
			all := make([]*conn, 0, len(h.conns))
			for c := range h.conns {
				all = append(all, c)
			}
			h.mu.RUnlock()
			for _, c := range all {
				c.writePrepared(pm)
			}
		}
	}
}

func (h *hub) serve(c *conn) {
	defer h.remove(c)
	var buf bytes.Buffer
	for {
		_, r, err := c.ws.NextReader()
		if err != nil {
			return
		}
		buf.Reset()
		if _, err := buf.ReadFrom(r); err != nil {
			return
		}
		if !h.frame(c, buf.Bytes()) {
			return
		}
	}
}

func (h *hub) remove(c *conn) {
	h.mu.Lock()
	delete(h.conns, c)
	for room := range c.rooms {
		delete(h.rooms[room], c)
	}
	h.mu.Unlock()
	_ = c.ws.Close()
}

var (
	fixedToken = bytes.Repeat([]byte{'A'}, 43) // the shape of a reconnect token
	okAck      = []byte(`[{"ok":true}]`)
)

// frame answers one frame; false ends the connection.
func (h *hub) frame(c *conn, f []byte) bool {
	switch {
	case len(f) == 1 && f[0] == '3': // pong
		return true
	case bytes.HasPrefix(f, []byte("40")):
		h.mu.Lock()
		h.conns[c] = struct{}{}
		h.mu.Unlock()
		c.write([]byte(`40{"sid":"` + c.sid + `"}`))
		if bytes.Contains(f, []byte(`"token":"`)) { // a restore: the KARL servers answer with the profile
			c.user = append(c.user[:0], "bench"...)
			c.write([]byte(`42["reconnected",{"username":"bench"}]`))
		}
		return true
	case bytes.HasPrefix(f, []byte("41")):
		return false
	case bytes.HasPrefix(f, []byte("42")):
		h.event(c, f)
		return true
	}
	return true
}

func (h *hub) event(c *conn, f []byte) {
	i := 2
	for i < len(f) && f[i] >= '0' && f[i] <= '9' {
		i++
	}
	id := f[2:i]
	body := f[i:] // ["name",{...}]
	name, payload := cut(body)
	switch string(name) {
	case "echo":
		c.write(append(append(append(append([]byte("43"), id...), `[{"ok":true,"data":`...), payload...), "}]"...))
	case "set-username":
		user := field(payload, "username")
		c.user = append(c.user[:0], user...)
		var b []byte
		b = append(b, `42["username-saved",{"token":"`...)
		b = append(b, fixedToken...)
		b = append(b, `","username":"`...)
		b = append(b, user...)
		b = append(b, `","expiresAt":`...)
		b = strconv.AppendInt(b, time.Now().Add(7*24*time.Hour).UnixMilli(), 10)
		c.write(append(b, "}]"...))
		h.broadcast(h.everyone(), []byte(`42["new-user-connected",{"username":"`+string(user)+`"}]`))
		c.ack(id)
	case "upload-profile-image":
		c.write([]byte(`42["profile-image-saved",{}]`))
		c.ack(id)
	case "join-room":
		room := string(field(payload, "room"))
		h.mu.Lock()
		if h.rooms[room] == nil {
			h.rooms[room] = map[*conn]struct{}{}
		}
		h.rooms[room][c] = struct{}{}
		h.mu.Unlock()
		c.rooms[room] = true
		c.ack(id)
	case "send-message":
		room := field(payload, "room")
		var b []byte
		b = append(b, `42["new-message",{"room":"`...)
		b = append(b, room...)
		b = append(b, `","username":"`...)
		b = append(b, c.user...)
		b = append(b, `","text":"`...)
		b = append(b, field(payload, "text")...)
		b = append(b, `","sentAt":`...)
		b = strconv.AppendInt(b, time.Now().UnixMilli(), 10)
		b = append(b, "}]"...)
		h.broadcast(h.inRoom(string(room)), b)
		c.ack(id)
	default:
		c.ack(id)
	}
}

func (c *conn) ack(id []byte) {
	if len(id) > 0 {
		c.write(append(append([]byte("43"), id...), okAck...))
	}
}

func (h *hub) everyone() []*conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		out = append(out, c)
	}
	return out
}

func (h *hub) inRoom(room string) []*conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]*conn, 0, len(h.rooms[room]))
	for c := range h.rooms[room] {
		out = append(out, c)
	}
	return out
}

// broadcast writes one frame, encoded once, to conns, using every core for
// large audiences as the Go server's per-socket writers do.
func (h *hub) broadcast(conns []*conn, frame []byte) {
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, frame)
	if err != nil {
		return
	}
	workers := goruntime.GOMAXPROCS(0)
	if len(conns) < 64 || workers == 1 {
		for _, c := range conns {
			c.writePrepared(pm)
		}
		return
	}
	var wg sync.WaitGroup
	chunk := (len(conns) + workers - 1) / workers
	for start := 0; start < len(conns); start += chunk {
		part := conns[start:min(start+chunk, len(conns))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, c := range part {
				c.writePrepared(pm)
			}
		}()
	}
	wg.Wait()
}

// cut splits `["name",payload]` into name and payload (nil when absent).
func cut(body []byte) (name, payload []byte) {
	if len(body) < 4 || body[0] != '[' || body[1] != '"' {
		return nil, nil
	}
	end := bytes.IndexByte(body[2:], '"')
	if end < 0 {
		return nil, nil
	}
	name = body[2 : 2+end]
	rest := body[2+end+1:]
	if len(rest) > 2 && rest[0] == ',' {
		payload = rest[1 : len(rest)-1]
	}
	return name, payload
}

// field returns the raw value of `"key":"value"` in an object, for values without escapes.
func field(obj []byte, key string) []byte {
	pat := []byte(`"` + key + `":"`)
	i := bytes.Index(obj, pat)
	if i < 0 {
		return nil
	}
	rest := obj[i+len(pat):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return nil
	}
	return rest[:j]
}
