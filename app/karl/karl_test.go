package karl_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/karl-app/karl/app/karl"
	"github.com/karl-app/karl/app/store"
	"github.com/karl-app/karl/app/store/sqlite"
	"github.com/karl-app/karl/internal/sioclient"
	"github.com/karl-app/karl/runtime"
)

// clock is a settable time source shared by the app and the test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

type env struct {
	url   string
	app   *karl.App
	store store.Store
	clock *clock
	logs  *syncBuffer
	db    string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func start(t *testing.T) *env {
	t.Helper()
	return startWith(t, runtime.Options{
		EventLimit: runtime.Limit{PerSecond: 1000, Burst: 1000}, HandshakeLimit: runtime.Limit{PerSecond: 1000, Burst: 1000}}, nil)
}

// startWith starts the app with opts (Logger set here) and, when wrap is not
// nil, the store wrap returns around the SQLite one.
func startWith(t *testing.T, opts runtime.Options, wrap func(store.Store) store.Store) *env {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(logs), nil))
	db := filepath.Join(t.TempDir(), "karl.db")
	var st store.Store
	st, err := sqlite.Open(context.Background(), db, log)
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		st = wrap(st)
	}
	clk := &clock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	opts.Logger = log
	rt := runtime.NewServer(opts)
	app := karl.New(st, karl.Config{Now: clk.Now}, log)
	app.Register(rt)
	ts := httptest.NewServer(rt.Handler())
	t.Cleanup(func() {
		_ = rt.Shutdown(context.Background())
		ts.Close()
		st.Close()
	})
	return &env{url: ts.URL, app: app, store: st, clock: clk, logs: logs, db: db}
}

func (e *env) dial(t *testing.T, auth any) *sioclient.Client {
	t.Helper()
	c, err := sioclient.Dial(e.url, sioclient.Options{Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

type saved struct {
	Token     string `json:"token"`
	Username  string `json:"username"`
	ExpiresAt int64  `json:"expiresAt"`
}

func (e *env) newUser(t *testing.T, name string) saved {
	t.Helper()
	c := e.dial(t, nil)
	if raw, err := c.EmitAck("set-username", map[string]any{"username": name}, 5*time.Second); err != nil || string(raw) != `{"ok":true}` {
		t.Fatalf("set-username: %s %v", raw, err)
	}
	ev, err := c.Wait("username-saved", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var s saved
	if err := json.Unmarshal(ev.Args[0], &s); err != nil {
		t.Fatal(err)
	}
	c.Close()
	return s
}

// firstEvent returns the name of the first event a reconnecting socket gets.
func (e *env) firstEvent(t *testing.T, token string) string {
	t.Helper()
	c := e.dial(t, map[string]any{"token": token})
	select {
	case ev := <-c.Events():
		return ev.Name
	case <-time.After(2 * time.Second):
		return "(none)"
	}
}

func TestTokenValidForSevenDaysExactly(t *testing.T) {
	e := start(t)
	issued := e.clock.Now()
	s := e.newUser(t, "Alice")
	if want := issued.Add(karl.DefaultTokenTTL).UnixMilli(); s.ExpiresAt != want {
		t.Errorf("expiresAt = %d, want issue time + 7 days = %d", s.ExpiresAt, want)
	}
	for _, tc := range []struct {
		after time.Duration
		want  string
	}{
		{2 * 24 * time.Hour, "reconnected"},
		{karl.DefaultTokenTTL - time.Second, "reconnected"},
		{karl.DefaultTokenTTL + time.Second, "token-expired"},
		{karl.DefaultTokenTTL - time.Second, "reconnected"}, // expiry is decided by the clock, not by a deletion
	} {
		e.clock.Set(issued.Add(tc.after))
		if got := e.firstEvent(t, s.Token); got != tc.want {
			t.Errorf("after %v: first event %q, want %q", tc.after, got, tc.want)
		}
	}
}

func TestCleanupDeletesExpiredTokensAndLogsTheCount(t *testing.T) {
	e := start(t)
	old := e.newUser(t, "Old")
	e.clock.Set(e.clock.Now().Add(3 * 24 * time.Hour))
	fresh := e.newUser(t, "Fresh")
	e.clock.Set(e.clock.Now().Add(5 * 24 * time.Hour)) // old is 8 days old, fresh 5

	n, err := e.app.Cleanup(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("Cleanup = %d, %v; want 1 token removed", n, err)
	}
	if !strings.Contains(e.logs.String(), `msg="expired tokens deleted" count=1`) {
		t.Errorf("cleanup did not log its count:\n%s", e.logs.String())
	}
	if _, _, err := e.store.SessionByToken(context.Background(), store.HashToken(old.Token), e.clock.Now()); err == nil {
		t.Error("the expired token is still in the store")
	}
	if got := e.firstEvent(t, fresh.Token); got != "reconnected" {
		t.Errorf("fresh token: %q", got)
	}
	if n, _ := e.app.Cleanup(context.Background()); n != 0 {
		t.Errorf("second cleanup removed %d", n)
	}
}

func TestTokensAreNeverStoredOrLogged(t *testing.T) {
	e := start(t)
	s := e.newUser(t, "Secret")
	e.firstEvent(t, s.Token)
	if strings.Contains(e.logs.String(), s.Token) {
		t.Error("a token appears in the logs")
	}
	for _, f := range []string{e.db, e.db + "-wal"} {
		data, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(s.Token)) {
			t.Errorf("%s holds the token in clear", filepath.Base(f))
		}
	}
	sess, _, err := e.store.SessionByToken(context.Background(), store.HashToken(s.Token), e.clock.Now())
	if err != nil || sess.Username != "Secret" {
		t.Fatalf("SessionByToken(hash) = %+v, %v", sess, err)
	}
}
