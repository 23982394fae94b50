package multinode_test

import (
	"encoding/json"
	"testing"
	"time"
)

// TestIdempotentRetryOnAnotherNode: a set-username answered by node A (its answer
// lost) and retried on node B with the same key gets node A's answer from the
// shared PostgreSQL database: the same token, one session.
func TestIdempotentRetryOnAnotherNode(t *testing.T) {
	a, b, _ := cluster(t)
	meta := map[string]any{"idempotencyKey": "two-nodes-000000000000"}
	onA := dial(t, a, nil)
	if raw, err := onA.EmitAckMeta("set-username", map[string]any{"username": "Nomad"}, meta, 5*time.Second); err != nil || string(raw) != `{"ok":true}` {
		t.Fatalf("node A: %s %v", raw, err)
	}
	first, err := onA.Wait("username-saved", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	onB := dial(t, b, nil)
	if raw, err := onB.EmitAckMeta("set-username", map[string]any{"username": "Nomad"}, meta, 5*time.Second); err != nil || string(raw) != `{"ok":true}` {
		t.Fatalf("node B: %s %v", raw, err)
	}
	again, err := onB.Wait("username-saved", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var x, y struct{ Token string }
	_ = json.Unmarshal(first.Args[0], &x)
	_ = json.Unmarshal(again.Args[0], &y)
	if x.Token == "" || x.Token != y.Token {
		t.Errorf("node B answered with token %q, want node A's %q", y.Token, x.Token)
	}
}
