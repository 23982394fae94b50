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
	"sync"
	"testing"
	"time"

	"github.com/karl-app/karl/app/karl"
	"github.com/karl-app/karl/app/store"
	"github.com/karl-app/karl/app/store/sqlite"
	"github.com/karl-app/karl/internal/sioclient"
	"github.com/karl-app/karl/runtime"
)

// TestSetUsernameRetriedAfterEverythingWasLost is the case idempotency exists for:
// a phone sends set-username, the server saves the session, and both the ack and
// username-saved are lost with the connection. The client retries on a new
// connection with the same key: it must get the same session and its token, not a
// second session.
func TestSetUsernameRetriedAfterEverythingWasLost(t *testing.T) {
	e := start(t)
	meta := map[string]any{"idempotencyKey": "3mK0f1cQ0v3m5o7P2s9x8A"}
	lost := e.dial(t, nil)
	first, err := lost.EmitAckMeta("set-username", map[string]any{"username": "Alice"}, meta, 5*time.Second)
	if err != nil || string(first) != `{"ok":true}` {
		t.Fatalf("first try: %s %v", first, err)
	}
	ev, err := lost.Wait("username-saved", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var original saved
	if err := json.Unmarshal(ev.Args[0], &original); err != nil {
		t.Fatal(err)
	}
	lost.Close() // what the client saw of it is gone

	retry := e.dial(t, nil)
	again, err := retry.EmitAckMeta("set-username", map[string]any{"username": "Alice"}, meta, 5*time.Second)
	if err != nil || string(again) != `{"ok":true}` {
		t.Fatalf("retry: %s %v", again, err)
	}
	ev, err = retry.Wait("username-saved", 5*time.Second)
	if err != nil {
		t.Fatalf("the retry was not told its token: %v", err)
	}
	var replayed saved
	if err := json.Unmarshal(ev.Args[0], &replayed); err != nil {
		t.Fatal(err)
	}
	if replayed != original {
		t.Errorf("retry got %+v, want the first answer %+v (one session)", replayed, original)
	}
	if _, _, err := e.store.SessionByToken(t.Context(), store.HashToken(replayed.Token), e.clock.Now()); err != nil {
		t.Errorf("the replayed token does not restore the session: %v", err)
	}
	for _, f := range []string{e.db, e.db + "-wal"} { // the recorded answer is sealed
		if data, err := os.ReadFile(f); err == nil && bytes.Contains(data, []byte(original.Token)) {
			t.Errorf("%s holds the token in clear", f)
		}
	}
	if got := e.firstEvent(t, replayed.Token); got != "reconnected" {
		t.Errorf("reconnecting with the token: %q", got)
	}
	// A new key is a new request: a second session, as without idempotency.
	other := e.dial(t, nil)
	if raw, err := other.EmitAckMeta("set-username", map[string]any{"username": "Alice"}, map[string]any{"idempotencyKey": "another-key-0000000000"}, 5*time.Second); err != nil || string(raw) != `{"ok":true}` {
		t.Fatalf("new key: %s %v", raw, err)
	}
	ev, err = other.Wait("username-saved", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var fresh saved
	_ = json.Unmarshal(ev.Args[0], &fresh)
	if fresh.Token == original.Token {
		t.Error("a new key replayed the old answer")
	}
}

// TestSendMessageRetriedIsDeliveredOnce: a send-message whose ack was lost, retried
// with its key, is answered again and reaches each room member once.
func TestSendMessageRetriedIsDeliveredOnce(t *testing.T) {
	e := start(t)
	s := e.newUser(t, "Sender")
	sender := e.dial(t, map[string]any{"token": s.Token})
	m := e.newUser(t, "Member")
	member := e.dial(t, map[string]any{"token": m.Token})
	for _, c := range []*sioclient.Client{sender, member} {
		if raw, err := c.EmitAck("join-room", map[string]any{"room": "lobby"}, 5*time.Second); err != nil || string(raw) != `{"ok":true}` {
			t.Fatalf("join-room: %s %v", raw, err)
		}
	}
	msg := map[string]any{"room": "lobby", "text": "once"}
	meta := map[string]any{"idempotencyKey": "send-once-0000000000"}
	first, err := sender.EmitAckMeta("send-message", msg, meta, 5*time.Second)
	if err != nil || string(first) != `{"ok":true}` {
		t.Fatalf("first: %s %v", first, err)
	}
	retry := e.dial(t, map[string]any{"token": s.Token}) // the ack was lost with the connection
	again, err := retry.EmitAckMeta("send-message", msg, meta, 5*time.Second)
	if err != nil || string(again) != string(first) {
		t.Fatalf("retry: %s %v, want %s", again, err, first)
	}
	if _, err := member.Wait("new-message", 5*time.Second); err != nil {
		t.Fatalf("the member got no message: %v", err)
	}
	if ev, err := member.Wait("new-message", 500*time.Millisecond); err == nil {
		t.Errorf("the member got the message twice: %s", ev.Args)
	}
}

// TestIdempotencyHoldsAcrossARestart: the record is in the SQLite file, so a retry
// reaching a restarted server is answered from it.
func TestIdempotencyHoldsAcrossARestart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "karl.db")
	clk := &clock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	e, stop := serveFile(t, db, clk)
	meta := map[string]any{"idempotencyKey": "across-restart-00000000"}
	c := e.dial(t, nil)
	if raw, err := c.EmitAckMeta("set-username", map[string]any{"username": "Phoenix"}, meta, 5*time.Second); err != nil || string(raw) != `{"ok":true}` {
		t.Fatalf("first: %s %v", raw, err)
	}
	ev, err := c.Wait("username-saved", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var original saved
	_ = json.Unmarshal(ev.Args[0], &original)
	stop()

	restarted, _ := serveFile(t, db, clk)
	c2 := restarted.dial(t, nil)
	if raw, err := c2.EmitAckMeta("set-username", map[string]any{"username": "Phoenix"}, meta, 5*time.Second); err != nil || string(raw) != `{"ok":true}` {
		t.Fatalf("retry after restart: %s %v", raw, err)
	}
	ev, err = c2.Wait("username-saved", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var replayed saved
	_ = json.Unmarshal(ev.Args[0], &replayed)
	if replayed != original {
		t.Errorf("after a restart the retry got %+v, want %+v", replayed, original)
	}
}

// serveFile serves the app on the SQLite file db until stop (or the test's end).
func serveFile(t *testing.T, db string, clk *clock) (*env, func()) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlite.Open(context.Background(), db, log)
	if err != nil {
		t.Fatal(err)
	}
	rt := runtime.NewServer(runtime.Options{Logger: log, Idempotency: st, // as app/server wires it
		EventLimit: runtime.Limit{PerSecond: 1000, Burst: 1000}, HandshakeLimit: runtime.Limit{PerSecond: 1000, Burst: 1000}})
	app := karl.New(st, karl.Config{Now: clk.Now}, log)
	app.Register(rt)
	ts := httptest.NewServer(rt.Handler())
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = rt.Shutdown(context.Background())
			ts.Close()
			st.Close()
		})
	}
	t.Cleanup(stop)
	return &env{url: ts.URL, app: app, store: st, clock: clk, db: db}, stop
}
