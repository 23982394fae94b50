package karl_test

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/karl-app/karl/app/store"
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
