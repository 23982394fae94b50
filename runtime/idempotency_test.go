package runtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/karl-app/karl/internal/sioclient"
	"github.com/karl-app/karl/runtime"
	"github.com/karl-app/karl/runtime/internal/testapi"
)

// counterTotal is the state the idempotent "count" event changes; unluckyRuns
// counts its runs that fail.
var counterTotal, unluckyRuns atomic.Int64

func (handler) Count(ctx context.Context, s *testapi.Socket, in testapi.Count) (testapi.CountReply, error) {
	if in.N == 13 {
		unluckyRuns.Add(1)
		return testapi.CountReply{}, errors.New("unlucky") // internal: not recorded
	}
	total := counterTotal.Add(in.N)
	if err := s.EmitCounted(testapi.Counted{Total: total}); err != nil {
		return testapi.CountReply{}, err
	}
	return testapi.CountReply{Total: total}, nil
}

func countWithKey(t *testing.T, c *sioclient.Client, n int, key string) envelope {
	t.Helper()
	raw, err := c.EmitAckMeta("count", map[string]any{"n": n}, map[string]any{"idempotencyKey": key}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("ack %s: %v", raw, err)
	}
	return env
}

func countedTotal(t *testing.T, c *sioclient.Client) int64 {
	t.Helper()
	ev, err := c.Wait("counted", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var p struct{ Total int64 }
	if err := json.Unmarshal(ev.Args[0], &p); err != nil {
		t.Fatal(err)
	}
	return p.Total
}

// TestIdempotentRetryIsAnsweredFromTheRecord: a request retried with its key, on
// the same connection or a new one, gets the first answer and the events the first
// run emitted to its socket, and the handler does not run again.
func TestIdempotentRetryIsAnsweredFromTheRecord(t *testing.T) {
	ts, _ := startServer(t, runtime.Options{})
	first := dial(t, ts.URL, nil)
	before := counterTotal.Load()

	env := countWithKey(t, first, 5, "key-one")
	if !env.OK || !strings.Contains(string(env.Data), `"total":`) {
		t.Fatalf("first: %+v", env)
	}
	firstTotal := countedTotal(t, first)
	if firstTotal != before+5 {
		t.Fatalf("counted %d, want %d", firstTotal, before+5)
	}
	for i, c := range []*sioclient.Client{first, dial(t, ts.URL, nil)} { // the same socket, then a new connection
		again := countWithKey(t, c, 5, "key-one")
		if !again.OK || string(again.Data) != string(env.Data) {
			t.Errorf("retry %d: %+v, want the first answer %s", i, again, env.Data)
		}
		if got := countedTotal(t, c); got != firstTotal {
			t.Errorf("retry %d: counted replayed as %d, want %d", i, got, firstTotal)
		}
	}
	if got := counterTotal.Load(); got != before+5 {
		t.Errorf("the handler ran again: total %d, want %d", got, before+5)
	}

	if env := countWithKey(t, first, 6, "key-one"); env.OK || env.Error.Code != "idempotency-conflict" {
		t.Errorf("the key with another payload: %+v, want idempotency-conflict", env)
	}
	if env := ack(t, first, "count", map[string]any{"n": 1}); !env.OK { // no key: runs every time
		t.Fatal(env)
	}
	if env := ack(t, first, "count", map[string]any{"n": 1}); !env.OK {
		t.Fatal(env)
	}
	if got := counterTotal.Load(); got != before+7 {
		t.Errorf("requests without a key: total %d, want %d", got, before+7)
	}
}

// TestIdempotentFailureIsNotRecorded: a run that ends in internal (here a plain
// error) keeps nothing, so the retry runs the handler again.
func TestIdempotentFailureIsNotRecorded(t *testing.T) {
	ts, _ := startServer(t, runtime.Options{})
	c := dial(t, ts.URL, nil)
	before := unluckyRuns.Load()
	for range 2 {
		if env := countWithKey(t, c, 13, "unlucky-key"); env.OK || env.Error.Code != "internal" {
			t.Fatalf("%+v, want internal each time", env)
		}
	}
	if runs := unluckyRuns.Load() - before; runs != 2 {
		t.Errorf("the handler ran %d times, want 2: a failed run must not be replayed", runs)
	}
}

// TestRequestMetadata: the second argument is an object; a key on an event that
// is not idempotent is ignored; a malformed one is refused.
func TestRequestMetadata(t *testing.T) {
	ts, _ := startServer(t, runtime.Options{})
	c := dial(t, ts.URL, nil)
	for range 2 { // echo is not idempotent: the key changes nothing
		raw, err := c.EmitAckMeta("echo", validShape(), map[string]any{"idempotencyKey": "k", "traceparent": "x"}, 5*time.Second)
		if err != nil || !strings.Contains(string(raw), `"ok":true`) {
			t.Fatalf("echo with metadata: %s %v", raw, err)
		}
	}
	for _, meta := range []any{"not an object", map[string]any{"idempotencyKey": 7}, map[string]any{"idempotencyKey": strings.Repeat("k", 129)}} {
		raw, err := c.EmitAckMeta("count", map[string]any{"n": 1}, meta, 5*time.Second)
		if err != nil || !strings.Contains(string(raw), `"code":"invalid-payload"`) || !strings.Contains(string(raw), "request metadata") {
			t.Errorf("metadata %v: %s %v, want invalid-payload", meta, raw, err)
		}
	}
}
