package runtime_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/karl-app/karl/internal/sioclient"
	"github.com/karl-app/karl/runtime"
	"github.com/karl-app/karl/runtime/internal/testapi"
)

// lifeHandler is the test handler that records Connect and Disconnect.
type lifeHandler struct {
	handler
	mu          sync.Mutex
	connects    int
	disconnects []string // the Data each Disconnect saw
}

func (h *lifeHandler) Connect(ctx context.Context, s *testapi.Socket, auth testapi.Auth) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.connects++
	s.SetData("session of " + s.ID())
	return nil
}

func (h *lifeHandler) Disconnect(s *testapi.Socket, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d, _ := s.Data().(string)
	h.disconnects = append(h.disconnects, d)
}

func (h *lifeHandler) counts() (int, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.connects, append([]string(nil), h.disconnects...)
}

// TestRecoveredSocketIsTheSameSocket drops a client's connection, sends it an
// event meanwhile, and reconnects it with its private session id and offset:
// it gets the event, and the application sees one socket (Connect once, no
// Disconnect, its Data intact) until the window ends without the client.
func TestRecoveredSocketIsTheSameSocket(t *testing.T) {
	h := &lifeHandler{}
	opts := runtime.Options{RecoveryWindow: time.Second, HandshakeLimit: runtime.Limit{PerSecond: 1000, Burst: 1000},
		EventLimit: runtime.Limit{PerSecond: 1000, Burst: 1000}, Logger: slog.New(slog.NewTextHandler(testLogOutput(), nil))}
	rt := runtime.NewServer(opts)
	testapi.Register(rt, h)
	srv := httptest.NewServer(rt.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = rt.Shutdown(ctx)
		srv.Close()
	})
	ts := srv.URL

	a := dial(t, ts, nil)
	if a.PID == "" {
		t.Fatal("no private session id in CONNECT with recovery on")
	}
	if env := ack(t, a, "greet", map[string]any{"room": "r"}); !env.OK {
		t.Fatalf("greet: %+v", env)
	}
	hello, err := a.Wait("hello", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(hello.Args) != 2 {
		t.Fatalf("hello args = %s, want the payload and the offset", hello.Args)
	}
	var offset string
	if err := json.Unmarshal(hello.Args[1], &offset); err != nil || offset == "" {
		t.Fatalf("offset %s: %v", hello.Args[1], err)
	}
	sid := a.SID
	_ = a.Kill()
	time.Sleep(200 * time.Millisecond) // the server notices the drop

	b := dial(t, ts, nil)
	if env := ack(t, b, "greet", map[string]any{"room": "r"}); !env.OK { // hello "room" to the others in r: a
		t.Fatalf("greet: %+v", env)
	}
	back := dial(t, ts, map[string]any{"pid": a.PID, "offset": offset})
	if back.SID != sid {
		t.Errorf("recovered socket id = %q, want %q", back.SID, sid)
	}
	missed, err := back.Wait("hello", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if string(missed.Args[0]) != `{"name":"room"}` {
		t.Errorf("missed event = %s, want hello from the room", missed.Args[0])
	}
	if env := ack(t, back, "greet", map[string]any{}); !env.OK { // the recovered socket takes events
		t.Fatalf("greet after recovery: %+v", env.Error)
	}
	if connects, disconnects := h.counts(); connects != 2 || len(disconnects) != 0 {
		t.Errorf("after recovery: %d Connect (want 2: a and b), Disconnect saw %q (want none)", connects, disconnects)
	}

	_ = back.Kill()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, disconnects := h.counts()
		if len(disconnects) == 1 {
			if disconnects[0] != "session of "+sid {
				t.Errorf("Disconnect saw Data %q, want what Connect set before the drop", disconnects[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Disconnect did not run after the window: %q", disconnects)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// gaugeObserver sums Connected's deltas, as the sockets gauge does.
type gaugeObserver struct {
	mu        sync.Mutex
	connected int
}

func (o *gaugeObserver) Connected(d int)       { o.mu.Lock(); o.connected += d; o.mu.Unlock() }
func (o *gaugeObserver) Refused(string)        {}
func (o *gaugeObserver) Delivered(string, int) {}
func (o *gaugeObserver) value() int            { o.mu.Lock(); defer o.mu.Unlock(); return o.connected }

// TestPoliteCloseEndsTheSocketOnce closes many clients the way socket.io-client
// does (a DISCONNECT packet, then the transport closes): the library hears of
// both, on two goroutines, and may fire "disconnect" twice for one socket. The
// application's Disconnect runs once per socket and the gauge comes back to 0
// (CI once scraped karl_sockets_connected -1 after two clients left).
func TestPoliteCloseEndsTheSocketOnce(t *testing.T) {
	h := &lifeHandler{}
	obs := &gaugeObserver{}
	rt := runtime.NewServer(runtime.Options{Observer: obs, HandshakeLimit: runtime.Limit{PerSecond: 10000, Burst: 10000},
		EventLimit: runtime.Limit{PerSecond: 1000, Burst: 1000}, Logger: slog.New(slog.NewTextHandler(testLogOutput(), nil))})
	testapi.Register(rt, h)
	srv := httptest.NewServer(rt.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = rt.Shutdown(ctx)
		srv.Close()
	})
	const n = 200
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := sioclient.Dial(srv.URL, sioclient.Options{})
			if err != nil {
				t.Error(err)
				return
			}
			_ = c.Close()
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		connects, disconnects := h.counts()
		if connects == n && len(disconnects) >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // a second "disconnect" would come right after the first
	connects, disconnects := h.counts()
	if connects != n || len(disconnects) != n {
		t.Errorf("%d clients: Connect ran %d times, Disconnect %d times; want %d each", n, connects, len(disconnects), n)
	}
	if g := obs.value(); g != 0 {
		t.Errorf("sockets gauge = %d after every client left, want 0", g)
	}
}
