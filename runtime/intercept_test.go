package runtime_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/karl-app/karl/runtime"
	"github.com/karl-app/karl/runtime/internal/testapi"
)

type seenCall struct {
	Event     string
	Handshake bool
	Code      string
	Meta      map[string]any
}

// TestInterceptorsWrapEveryDispatch: interceptors see the handshake and every
// event with its outcome code, compose in order, and can refuse an event.
func TestInterceptorsWrapEveryDispatch(t *testing.T) {
	var mu sync.Mutex
	var seen []seenCall
	var order []string
	record := func(next runtime.Handler) runtime.Handler {
		return func(ctx context.Context, c *runtime.Call) (runtime.Message, error) {
			start := time.Now()
			reply, err := next(ctx, c)
			code := "ok"
			if e, ok := err.(*runtime.Error); ok {
				code = string(e.Code)
			} else if err != nil {
				t.Errorf("%s: error %T is not a *runtime.Error", c.Event, err)
			}
			if time.Since(start) < 0 || c.Socket == nil {
				t.Errorf("%s: no duration or socket", c.Event)
			}
			mu.Lock()
			seen = append(seen, seenCall{c.Event, c.Handshake, code, c.Meta})
			order = append(order, "outer")
			mu.Unlock()
			return reply, err
		}
	}
	permission := func(next runtime.Handler) runtime.Handler {
		return func(ctx context.Context, c *runtime.Call) (runtime.Message, error) {
			mu.Lock()
			order = append(order, "inner")
			mu.Unlock()
			if c.Event == "fail-plain" { // a per-event permission check with a declared code
				return nil, testapi.ErrNotAllowed
			}
			return next(ctx, c)
		}
	}
	ts, _ := startServer(t, runtime.Options{Interceptors: []runtime.Interceptor{record, permission}})
	c := dial(t, ts.URL, map[string]any{"name": "x"})
	ack(t, c, "echo", validShape())
	ack(t, c, "echo", map[string]any{"name": 1})
	ack(t, c, "no-such-event", nil)
	if env := ack(t, c, "fail-plain", nil); env.Error == nil || env.Error.Code != "internal" {
		// fail-plain declares no codes, so the interceptor's not-allowed is answered as internal
		t.Errorf("fail-plain: %+v", env)
	}
	if _, err := c.EmitAckMeta("echo", validShape(), map[string]any{"traceparent": "00-x"}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []seenCall{
		{"connect", true, "ok", map[string]any{"name": "x"}},
		{"echo", false, "ok", nil},
		{"echo", false, "invalid-payload", nil},
		{"no-such-event", false, "unknown-event", nil},
		{"fail-plain", false, "not-allowed", nil},
		{"echo", false, "ok", map[string]any{"traceparent": "00-x"}},
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if len(order) < 2 || order[0] != "inner" || order[1] != "outer" {
		t.Errorf("order %v: the first interceptor must be the outermost", order)
	}
}
