package runtime_test

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/karl-app/karl/internal/sioclient"
	"github.com/karl-app/karl/runtime"
	"github.com/karl-app/karl/runtime/internal/testapi"
)

type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestHugeUnknownEventNamesAreNotEchoed reproduces finding 6: 40 events named
// with 340,000 characters each came back whole in request-error (13.6 MB)
// and were logged whole at info (13.6 MB).
func TestHugeUnknownEventNamesAreNotEchoed(t *testing.T) {
	logs := &logBuffer{}
	ts, _ := startServer(t, runtime.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	c := dial(t, ts.URL, nil)
	name := strings.Repeat("x", 340_000)
	const n = 40
	for range n {
		if err := c.WriteRaw(`42["` + name + `"]`); err != nil {
			t.Fatal(err)
		}
	}
	back := 0
	for i := range n {
		ev, err := c.Wait("request-error", 5*time.Second)
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		back += len(ev.Args[0])
		got := string(ev.Args[0])
		if !strings.Contains(got, `"code":"unknown-event"`) || !strings.Contains(got, `"event":"xxx`) {
			t.Fatalf("answer %d: %.200s", i, got)
		}
	}
	logged := len(logs.String())
	t.Logf("%d events named with %d characters: %d bytes answered, %d bytes logged", n, len(name), back, logged)
	if back > n*400 {
		t.Errorf("%d bytes answered, want the names cut (under %d)", back, n*400)
	}
	if logged > 4000 {
		t.Errorf("%d bytes logged for %d bad events of one socket, want a line or two", logged, n)
	}
	if !strings.Contains(logs.String(), "outcome=unknown-event") {
		t.Errorf("the bad events were not logged at all:\n%s", logs.String())
	}
}

// TestEchoedNamesAndLogSamplingFollowTheOptions: MaxEchoedName cuts a
// client's names on a rune boundary, and a negative LogSampleInterval writes
// every line of a client's mistakes.
func TestEchoedNamesAndLogSamplingFollowTheOptions(t *testing.T) {
	logs := &logBuffer{}
	ts, _ := startServer(t, runtime.Options{MaxEchoedName: 5, LogSampleInterval: -1,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	c := dial(t, ts.URL, nil)
	const n = 6
	for range n {
		if err := c.WriteRaw(`42["abcdéfgh"]`); err != nil { // é is bytes 5 and 6
			t.Fatal(err)
		}
	}
	for i := range n {
		ev, err := c.Wait("request-error", 5*time.Second)
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		if got := string(ev.Args[0]); !strings.Contains(got, `"event":"abcd..."`) {
			t.Fatalf("answer %d: %s, want the name cut to abcd...", i, got)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(logs.String(), "outcome=unknown-event") < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := strings.Count(logs.String(), "outcome=unknown-event"); got != n {
		t.Errorf("%d lines logged for %d unknown events with sampling off, want every one:\n%s", got, n, logs.String())
	}
	if strings.Contains(logs.String(), "suppressed") {
		t.Errorf("lines suppressed with sampling off:\n%s", logs.String())
	}
}

// TestGETWithABodyKeepsTheReadDeadline: long-polling GETs are exempt from
// the server's read timeout, as they wait for the server; a GET announcing a
// body and dribbling it was exempt too, and held its connection as long as
// the client liked. It is answered 400 at once.
func TestGETWithABodyKeepsTheReadDeadline(t *testing.T) {
	rt := runtime.NewServer(runtime.Options{HandshakeLimit: runtime.Limit{PerSecond: 1000, Burst: 1000}})
	testapi.Register(rt, handler{})
	ts := httptest.NewUnstartedServer(rt.Handler())
	ts.Config.ReadTimeout = time.Second
	ts.Start()
	defer ts.Close()
	defer rt.Shutdown(t.Context())
	c, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := fmt.Fprintf(c, "GET /socket.io/?EIO=4&transport=polling&sid=AAAA HTTP/1.1\r\nHost: %s\r\nContent-Length: 100000\r\n\r\nx", ts.Listener.Addr()); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a GET with a body (held while it dribbles): %v", err)
	}
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400", resp.StatusCode)
	}
}

// TestOriginAndHostChecks reproduces finding 9: an https:// Origin passed on
// plain HTTP (host:port only was compared), Host and Origin both set to a
// rebinding name passed, and "*" let Origin null in (reflected with credentials).
func TestOriginAndHostChecks(t *testing.T) {
	ts, _ := startServer(t, runtime.Options{AllowedHosts: []string{"karl.example"}})
	any, _ := startServer(t, runtime.Options{AllowedOrigins: []string{"*"}})
	port := ts.Listener.Addr().(*net.TCPAddr).Port
	hostport := func(name string) string { return fmt.Sprintf("%s:%d", name, port) }
	for _, tc := range []struct {
		name         string
		url          string
		host, origin string
		want         int
	}{
		{"https origin on plain http", ts.URL, "", "https://" + hostport("127.0.0.1"), http.StatusForbidden},
		{"same origin", ts.URL, "", "http://" + hostport("127.0.0.1"), http.StatusOK},
		{"no origin (native app)", ts.URL, "", "", http.StatusOK},
		{"rebinding: Host and Origin on a foreign name", ts.URL, hostport("evil.example"), "http://" + hostport("evil.example"), http.StatusForbidden},
		{"rebinding without Origin (same-origin GET)", ts.URL, hostport("evil.example"), "", http.StatusForbidden},
		{"a listed host", ts.URL, hostport("KARL.example"), "http://" + hostport("karl.example"), http.StatusOK},
		{"localhost", ts.URL, hostport("localhost"), "http://" + hostport("localhost"), http.StatusOK},
		{"null with *", any.URL, "", "null", http.StatusForbidden},
		{"any origin with *", any.URL, "", "https://elsewhere.example", http.StatusOK},
	} {
		req, _ := http.NewRequest("GET", tc.url+"/socket.io/?EIO=4&transport=polling", nil)
		if tc.host != "" {
			req.Host = tc.host
		}
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("%s: HTTP %d, want %d", tc.name, res.StatusCode, tc.want)
		}
		if acao := res.Header.Get("Access-Control-Allow-Origin"); acao == "null" {
			t.Errorf("%s: Access-Control-Allow-Origin: null", tc.name)
		}
	}
	// WebSocket upgrades go through the same checks.
	_, err := sioclient.Dial(ts.URL, sioclient.Options{Header: http.Header{"Origin": {"https://" + hostport("127.0.0.1")}}})
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("https origin over ws: err = %v, want HTTP 403", err)
	}
}

// TestOutOfRangeNumbersAreInvalidPayload reproduces finding 10: a number
// float64 cannot hold (1e400) made the library's parser fail and close the
// connection without an answer, in an event or in the handshake auth.
func TestOutOfRangeNumbersAreInvalidPayload(t *testing.T) {
	ts, _ := startServer(t, runtime.Options{})
	c := dial(t, ts.URL, nil)
	for _, tc := range []struct{ packet, path string }{
		{`42["echo",{"name":1e400}]`, "name"},
		{`42["echo",{"name":"n","color":"red","points":[{"x":-1e400,"y":1}],"visible":true,"createdAt":1}]`, "points[0].x"},
	} {
		if err := c.WriteRaw(tc.packet); err != nil {
			t.Fatal(err)
		}
		got := waitRequestError(t, c)
		if got.Code != "invalid-payload" || got.Path != tc.path {
			t.Errorf("%s: request-error %+v, want invalid-payload at %s", tc.packet, got, tc.path)
		}
	}
	raw, err := c.EmitAck("echo", validShape(), 5*time.Second)
	if err != nil || !strings.Contains(string(raw), `"ok":true`) {
		t.Errorf("the connection did not survive: %s %v", raw, err)
	}
	// In the handshake: connect_error invalid-payload with the auth field's path.
	ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(ts.URL, "http", "ws", 1)+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := ws.ReadMessage(); err != nil { // open
		t.Fatal(err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`40{"name":1e400}`)); err != nil {
		t.Fatal(err)
	}
	_, msg, err := ws.ReadMessage()
	if err != nil || !strings.HasPrefix(string(msg), "44") || !strings.Contains(string(msg), `"code":"invalid-payload"`) || !strings.Contains(string(msg), `"path":"name"`) {
		t.Errorf("CONNECT with 1e400: %q %v, want connect_error invalid-payload at name", msg, err)
	}
}
