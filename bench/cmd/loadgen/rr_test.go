package main

import (
	"encoding/base64"
	"encoding/json"
	"testing"
)

// TestIdempotencyMetadata: with --idempotency-keys every set-username frame
// carries the wire contract's second argument, {"idempotencyKey": key}, a
// fresh 16-byte base64url key each time.
func TestIdempotencyMetadata(t *testing.T) {
	k := newKeySource()
	seen := map[string]bool{}
	for range 1000 {
		frame := append([]byte(`["set-username",{"username":"u"}`), k.appendMeta(nil)...)
		frame = append(frame, ']')
		var args []json.RawMessage
		if err := json.Unmarshal(frame, &args); err != nil || len(args) != 3 {
			t.Fatalf("%s: %v, %d arguments", frame, err, len(args))
		}
		var meta map[string]string
		if err := json.Unmarshal(args[2], &meta); err != nil || len(meta) != 1 {
			t.Fatalf("metadata %s: %v", args[2], err)
		}
		key := meta["idempotencyKey"]
		raw, err := base64.RawURLEncoding.DecodeString(key)
		if err != nil || len(raw) != 16 {
			t.Fatalf("key %q: %v, %d bytes", key, err, len(raw))
		}
		if seen[key] {
			t.Fatalf("key %q repeated", key)
		}
		seen[key] = true
	}
	if a, b := newKeySource().appendMeta(nil), newKeySource().appendMeta(nil); string(a) == string(b) {
		t.Errorf("two sockets' first keys are the same: %s", a)
	}
}
