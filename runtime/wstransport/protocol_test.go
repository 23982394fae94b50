package wstransport

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	ws "github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	engine "github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/config"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// echoServer is an Engine.IO server with this transport whose sockets echo
// every message; conns receives each connection.
type echoServer struct {
	url   string
	conns chan engine.Socket
	srv   engine.Server
	http  *httptest.Server
}

func newEchoServer(t *testing.T, max int64, ping time.Duration) *echoServer {
	t.Helper()
	opts := config.DefaultServerOptions()
	opts.SetTransports(types.NewSet[transports.TransportCtor](engine.Polling, New(Options{MaxMessageSize: max})))
	opts.SetMaxHttpBufferSize(max)
	if ping > 0 {
		opts.SetPingInterval(ping)
		opts.SetPingTimeout(5 * ping)
	}
	srv := engine.NewServer(opts)
	es := &echoServer{conns: make(chan engine.Socket, 16), srv: srv}
	_ = srv.On("connection", func(args ...any) {
		s := args[0].(engine.Socket)
		_ = s.On("message", func(args ...any) {
			if b, ok := args[0].(types.BufferInterface); ok {
				if strings.HasPrefix(b.String(), "quiet") {
					return
				}
				s.Send(b.Clone(), nil, nil)
			}
		})
		es.conns <- s
	})
	es.http = httptest.NewServer(http.HandlerFunc(srv.ServeHTTP))
	es.url = es.http.URL
	t.Cleanup(func() {
		srv.Close()
		es.http.Close()
	})
	return es
}

func (es *echoServer) conn(t *testing.T) engine.Socket {
	t.Helper()
	select {
	case c := <-es.conns:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no connection")
		return nil
	}
}

// wsClient is a raw WebSocket client: frames written and read by hand.
type wsClient struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dialWS(t *testing.T, base, query string) *wsClient {
	t.Helper()
	host := strings.TrimPrefix(base, "http://")
	nc, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	fmt.Fprintf(nc, "GET /engine.io/?EIO=4&transport=websocket%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", query, host, base64.StdEncoding.EncodeToString(key))
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %s", resp.Status)
	}
	return &wsClient{t: t, nc: nc, br: br}
}

// frame encodes a masked client frame.
func frame(fin bool, op byte, payload []byte) []byte {
	var b bytes.Buffer
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b.WriteByte(b0)
	switch n := len(payload); {
	case n < 126:
		b.WriteByte(0x80 | byte(n))
	case n <= 0xffff:
		b.WriteByte(0x80 | 126)
		_ = binary.Write(&b, binary.BigEndian, uint16(n))
	default:
		b.WriteByte(0x80 | 127)
		_ = binary.Write(&b, binary.BigEndian, uint64(n))
	}
	mask := [4]byte{1, 2, 3, 4}
	b.Write(mask[:])
	for i, c := range payload {
		b.WriteByte(c ^ mask[i%4])
	}
	return b.Bytes()
}

func (c *wsClient) write(p []byte) {
	c.t.Helper()
	if _, err := c.nc.Write(p); err != nil {
		c.t.Fatal(err)
	}
}

func (c *wsClient) text(s string) { c.write(frame(true, opText, []byte(s))) }

// next reads one server frame (a whole message: the server does not fragment).
func (c *wsClient) next(timeout time.Duration) (op byte, payload []byte, err error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(timeout))
	var h [2]byte
	if _, err = io.ReadFull(c.br, h[:]); err != nil {
		return 0, nil, err
	}
	if h[0]&0x80 == 0 || h[0]&0x70 != 0 || h[1]&0x80 != 0 {
		return 0, nil, fmt.Errorf("bad server frame header % x", h)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var l uint16
		err = binary.Read(c.br, binary.BigEndian, &l)
		n = uint64(l)
	case 127:
		err = binary.Read(c.br, binary.BigEndian, &n)
	}
	if err != nil {
		return 0, nil, err
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(c.br, payload)
	return h[0] & 0x0f, payload, err
}

// expect reads the next data frame, skipping Engine.IO pings, and checks it.
func (c *wsClient) expect(op byte, want string) {
	c.t.Helper()
	for {
		gotOp, p, err := c.next(5 * time.Second)
		if err != nil {
			c.t.Fatalf("want %q: %v", want, err)
		}
		if gotOp == opText && string(p) == "2" {
			c.text("3")
			continue
		}
		if gotOp != op || string(p) != want {
			c.t.Fatalf("got op %d %q, want op %d %q", gotOp, trunc(p), op, trunc([]byte(want)))
		}
		return
	}
}

func trunc(p []byte) string {
	if len(p) > 40 {
		return string(p[:40]) + fmt.Sprintf("...(%d bytes)", len(p))
	}
	return string(p)
}

// open reads the Engine.IO open packet and returns the sid.
func (c *wsClient) open() string {
	c.t.Helper()
	op, p, err := c.next(5 * time.Second)
	if err != nil || op != opText || len(p) == 0 || p[0] != '0' {
		c.t.Fatalf("open packet: op %d %q %v", op, p, err)
	}
	var hs struct{ Sid string }
	_ = json.Unmarshal(p[1:], &hs)
	return hs.Sid
}

func TestEchoTextAndBinary(t *testing.T) {
	es := newEchoServer(t, 1<<20, 0)
	c := dialWS(t, es.url, "")
	c.open()
	c.text("4hello")
	c.expect(opText, "4hello")
	c.write(frame(true, opBinary, []byte{0, 1, 2, 255}))
	c.expect(opBinary, "\x00\x01\x02\xff")
	big := strings.Repeat("x", 70000) // a 64-bit length, and a referenced payload
	c.text("4" + big)
	c.expect(opText, "4"+big)
}

func TestFragmentedMessageWithPingInside(t *testing.T) {
	es := newEchoServer(t, 1<<20, 0)
	c := dialWS(t, es.url, "")
	c.open()
	c.write(frame(false, opText, []byte("4hel")))
	c.write(frame(true, opPing, []byte("p1"))) // a control frame between fragments
	c.write(frame(false, 0, []byte("lo ")))
	c.write(frame(true, 0, []byte("world")))
	op, p, err := c.next(5 * time.Second)
	if err != nil || op != opPong || string(p) != "p1" {
		t.Fatalf("want pong p1, got op %d %q %v", op, p, err)
	}
	c.expect(opText, "4hello world")
}

func TestMessageSplitAcrossReads(t *testing.T) {
	es := newEchoServer(t, 1<<20, 0)
	c := dialWS(t, es.url, "")
	c.open()
	f := frame(true, opText, []byte("4"+strings.Repeat("split", 100)))
	for i := range f { // a byte a write, with pauses: the server's reads see pieces
		c.write(f[i : i+1])
		if i%50 == 0 {
			time.Sleep(2 * time.Millisecond)
		}
	}
	c.expect(opText, "4"+strings.Repeat("split", 100))
}

func TestManyPacketsInOneRead(t *testing.T) {
	es := newEchoServer(t, 1<<20, 0)
	c := dialWS(t, es.url, "")
	c.open()
	var all []byte
	for i := range 200 {
		all = append(all, frame(true, opText, fmt.Appendf(nil, "4m%d", i))...)
	}
	c.write(all)
	for i := range 200 {
		c.expect(opText, fmt.Sprintf("4m%d", i))
	}
}

func TestMessageTooBigCloses1009(t *testing.T) {
	es := newEchoServer(t, 1000, 0)
	c := dialWS(t, es.url, "")
	c.open()
	s := es.conn(t)
	closed := make(chan string, 1)
	_ = s.On("close", func(args ...any) { closed <- fmt.Sprint(args[0]) })
	c.text("4" + strings.Repeat("y", 999)) // at the bound: fine
	c.expect(opText, "4"+strings.Repeat("y", 999))
	c.text("4" + strings.Repeat("y", 1000))
	op, p, err := c.next(5 * time.Second)
	if err != nil || op != opClose || len(p) < 2 || binary.BigEndian.Uint16(p) != 1009 {
		t.Fatalf("want close 1009, got op %d % x %v", op, p, err)
	}
	select {
	case r := <-closed:
		if r != "transport error" {
			t.Errorf("close reason %q, want transport error (as the library's read limit)", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("socket not closed")
	}
}

func TestClientCloseIsEchoed(t *testing.T) {
	es := newEchoServer(t, 1<<20, 0)
	c := dialWS(t, es.url, "")
	c.open()
	s := es.conn(t)
	closed := make(chan string, 1)
	_ = s.On("close", func(args ...any) { closed <- fmt.Sprint(args[0]) })
	payload := []byte{0x03, 0xe8} // 1000
	c.write(frame(true, opClose, payload))
	op, p, err := c.next(5 * time.Second)
	if err != nil || op != opClose || !bytes.Equal(p, payload) {
		t.Fatalf("want close 1000 echoed, got op %d % x %v", op, p, err)
	}
	select {
	case r := <-closed:
		if r != "transport close" {
			t.Errorf("close reason %q", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("socket not closed")
	}
}

func TestEngineIOPingPong(t *testing.T) {
	es := newEchoServer(t, 1<<20, 100*time.Millisecond)
	c := dialWS(t, es.url, "")
	c.open()
	for range 3 {
		op, p, err := c.next(2 * time.Second)
		if err != nil || op != opText || string(p) != "2" {
			t.Fatalf("want ping, got op %d %q %v", op, p, err)
		}
		c.text("3")
	}
	c.text("4still")
	c.expect(opText, "4still")
	// No pong: the server closes after pingInterval + pingTimeout.
	deadline := time.Now().Add(2 * time.Second)
	for {
		op, _, err := c.next(time.Until(deadline))
		if err != nil {
			t.Fatalf("no close frame after the ping timeout: %v", err)
		}
		if op == opClose {
			return
		}
	}
}

func TestPreEncodedFrame(t *testing.T) {
	es := newEchoServer(t, 1<<20, 0)
	c := dialWS(t, es.url, "")
	c.open()
	s := es.conn(t)
	small := types.NewStringBufferString("4pre")
	large := types.NewStringBufferString("4" + strings.Repeat("L", 5000))
	s.Send(types.NewStringBufferString("ignored"), &packet.Options{WsPreEncodedFrame: small}, nil)
	s.Send(types.NewStringBufferString("ignored"), &packet.Options{WsPreEncodedFrame: large}, nil)
	c.expect(opText, "4pre")
	c.expect(opText, "4"+strings.Repeat("L", 5000))
	if small.String() != "4pre" || large.Len() != 5001 {
		t.Fatal("the shared frame was consumed")
	}
}

// A client that does not read: the engine's buffer holds what comes while a
// write is stuck; once it reads, everything arrives in order, then, after a
// server close, a close frame.
func TestCloseDuringQueuedWrite(t *testing.T) {
	es := newEchoServer(t, 1<<20, 0)
	c := dialWS(t, es.url, "")
	c.open()
	s := es.conn(t)
	closed := make(chan struct{})
	_ = s.On("close", func(...any) { close(closed) })
	chunk := strings.Repeat("z", 64<<10)
	const n = 64 // 4 MiB: more than the socket buffers hold
	for i := range n {
		s.Send(types.NewStringBufferString(fmt.Sprintf("%03d%s", i, chunk)), nil, nil)
	}
	if s.Transport().Writable() {
		t.Log("the kernel took 4 MiB; the queued path is not exercised")
	}
	s.Close(false) // waits for the engine's buffer to drain, then closes the transport
	for i := range n {
		c.expect(opText, fmt.Sprintf("4%03d%s", i, chunk))
	}
	op, p, err := c.next(5 * time.Second)
	if err != nil || op != opClose || len(p) != 0 {
		t.Fatalf("want an empty close frame, got op %d % x %v", op, p, err)
	}
	c.write(frame(true, opClose, nil))
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("socket not closed")
	}
	if _, _, err := c.next(3 * time.Second); err == nil {
		t.Fatal("connection still open")
	}
}

// A client that never reads is cut after closeFlush + closeLinger.
func TestCloseStuckWriter(t *testing.T) {
	es := newEchoServer(t, 1<<20, 0)
	c := dialWS(t, es.url, "")
	c.open()
	s := es.conn(t)
	closed := make(chan struct{})
	_ = s.On("close", func(...any) { close(closed) })
	chunk := types.NewStringBufferString(strings.Repeat("z", 1<<20))
	for range 16 {
		s.Send(chunk.Clone(), nil, nil)
	}
	time.Sleep(50 * time.Millisecond)
	tr := s.Transport()
	start := time.Now()
	s.Close(true) // forced: the engine closes the transport now
	<-closed
	deadline := time.Now().Add(closeFlush + closeLinger + 2*time.Second)
	for tr.ReadyState() != "closed" {
		if time.Now().After(deadline) {
			t.Fatalf("transport %s after %v", tr.ReadyState(), time.Since(start))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Polling first, packets buffered on both sides, then the upgrade: nothing
// is lost or reordered.
func TestUpgradeFromPollingWithBufferedPackets(t *testing.T) {
	es := newEchoServer(t, 1<<20, 0)
	base := es.url + "/engine.io/?EIO=4&transport=polling"
	get := func(url string) string {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	post := func(url, body string) {
		t.Helper()
		resp, err := http.Post(url, "text/plain;charset=UTF-8", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	hs := get(base)
	var open struct {
		Sid      string
		Upgrades []string
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(hs, "0")), &open); err != nil || open.Sid == "" {
		t.Fatalf("handshake %q: %v", hs, err)
	}
	if len(open.Upgrades) != 1 || open.Upgrades[0] != "websocket" {
		t.Fatalf("upgrades %v", open.Upgrades)
	}
	s := es.conn(t)
	poll := base + "&sid=" + open.Sid
	s.Send(types.NewStringBufferString("a1"), nil, nil)
	s.Send(types.NewStringBufferString("a2"), nil, nil)
	post(poll, "4c1\x1e4quiet-c")

	var got []string
	c := dialWS(t, es.url, "&sid="+open.Sid)
	c.text("2probe")
	c.expect(opText, "3probe")
	for p := range strings.SplitSeq(get(poll), "\x1e") {
		if p != "6" {
			got = append(got, p)
		}
	}
	s.Send(types.NewStringBufferString("a3"), nil, nil) // buffered: polling has no request waiting
	c.text("5")
	c.text("4c2")
	for len(got) < 5 {
		op, p, err := c.next(5 * time.Second)
		if err != nil || op != opText {
			t.Fatalf("after %q: op %d %q %v", got, op, p, err)
		}
		if string(p) != "6" {
			got = append(got, string(p))
		}
	}
	if want := []string{"4a1", "4a2", "4c1", "4a3", "4c2"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got %q, want %q", got, want)
	}
	if s.Transport().Name() != "websocket" {
		t.Fatal("not upgraded")
	}
	if _, ok := s.Transport().(*transport); !ok {
		t.Fatalf("transport %T", s.Transport())
	}
}

// Many goroutines sending to one connection: every packet arrives, each whole.
func TestConcurrentSends(t *testing.T) {
	es := newEchoServer(t, 1<<20, 0)
	c := dialWS(t, es.url, "")
	c.open()
	s := es.conn(t)
	const senders, each = 8, 500
	var wg sync.WaitGroup
	for g := range senders {
		wg.Go(func() {
			for i := range each {
				s.Send(types.NewStringBufferString(fmt.Sprintf("%d:%d:%s", g, i, strings.Repeat("p", i%300))), nil, nil)
			}
		})
	}
	next := make([]int, senders)
	for range senders * each {
		op, p, err := c.next(5 * time.Second)
		if err != nil || op != opText {
			t.Fatalf("op %d %v", op, err)
		}
		var g, i int
		if _, err := fmt.Sscanf(string(p), "4%d:%d:", &g, &i); err != nil || i != next[g] {
			t.Fatalf("got %q, want sender %d's #%d", trunc(p), g, next[g])
		}
		next[g]++
	}
	wg.Wait()
}

// With permessage-deflate configured and offered, data frames are compressed
// (through gorilla's writer) and everything else works as without.
func TestPerMessageDeflate(t *testing.T) {
	opts := config.DefaultServerOptions()
	opts.SetTransports(types.NewSet[transports.TransportCtor](engine.Polling, New(Options{MaxMessageSize: 1 << 20})))
	opts.SetPerMessageDeflate(&types.PerMessageDeflate{Threshold: 16})
	srv := engine.NewServer(opts)
	_ = srv.On("connection", func(args ...any) {
		s := args[0].(engine.Socket)
		_ = s.On("message", func(args ...any) {
			if b, ok := args[0].(types.BufferInterface); ok {
				s.Send(b.Clone(), nil, nil)
			}
		})
	})
	hs := httptest.NewServer(http.HandlerFunc(srv.ServeHTTP))
	t.Cleanup(func() { srv.Close(); hs.Close() })
	d := ws.Dialer{EnableCompression: true}
	c, resp, err := d.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/engine.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
		t.Fatal("permessage-deflate not negotiated")
	}
	if _, p, err := c.ReadMessage(); err != nil || p[0] != '0' {
		t.Fatalf("open: %q %v", p, err)
	}
	long := "4" + strings.Repeat("compressible ", 500)
	for _, m := range []struct {
		mt   int
		data string
	}{{ws.TextMessage, "4hi"}, {ws.TextMessage, long}, {ws.BinaryMessage, "\x01\x02\x03"}} {
		if err := c.WriteMessage(m.mt, []byte(m.data)); err != nil {
			t.Fatal(err)
		}
		mt, p, err := c.ReadMessage()
		if err != nil || mt != m.mt || string(p) != m.data {
			t.Fatalf("echo of %q: %d %q %v", trunc([]byte(m.data)), mt, trunc(p), err)
		}
	}
}

func TestCorkHoldsFramesUntilRelease(t *testing.T) {
	es := newEchoServer(t, 1<<20, 0)
	c := dialWS(t, es.url, "")
	c.open()
	s := es.conn(t)
	var first, second Cork
	first.Add(s.Transport())
	second.Add(s.Transport()) // held by first already: first's Release writes its frames too
	if len(first.held) != 1 || len(second.held) != 0 {
		t.Fatalf("held: first %d, second %d transports; want 1 and 0", len(first.held), len(second.held))
	}
	for i := range 3 {
		s.Send(types.NewStringBuffer(fmt.Appendf(nil, "m%d", i)), nil, nil)
	}
	if op, p, err := c.next(100 * time.Millisecond); err == nil {
		t.Fatalf("a frame went out while corked: op %d %q", op, p)
	}
	second.Release() // holds nothing: writes nothing
	if op, p, err := c.next(100 * time.Millisecond); err == nil {
		t.Fatalf("a frame went out before the holder's Release: op %d %q", op, p)
	}
	first.Release()
	s.Send(types.NewStringBuffer([]byte("after")), nil, nil)
	for i := range 3 {
		c.expect(opText, fmt.Sprintf("4m%d", i))
	}
	c.expect(opText, "4after")
}

func TestCloseWhileCorkedWritesHeldFramesFirst(t *testing.T) {
	es := newEchoServer(t, 1<<20, 0)
	c := dialWS(t, es.url, "")
	c.open()
	s := es.conn(t)
	var k Cork
	k.Add(s.Transport())
	s.Send(types.NewStringBuffer([]byte("last")), nil, nil)
	s.Close(false)
	c.expect(opText, "4last")
	op, _, err := c.next(5 * time.Second)
	if err != nil || op != opClose {
		t.Fatalf("want a close frame after the held frame, got op %d %v", op, err)
	}
	k.Release() // after the close: nothing more, no panic
	if op, p, err := c.next(200 * time.Millisecond); err == nil {
		t.Fatalf("a frame after the close: op %d %q", op, p)
	}
}
