package tracing_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	otelcodes "go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/karl-app/karl/internal/sioclient"
	"github.com/karl-app/karl/runtime"
	"github.com/karl-app/karl/runtime/internal/testapi"
	"github.com/karl-app/karl/runtime/tracing"
)

// The traces a client continues: W3C traceparent values (version 00, sampled).
const (
	authTraceID  = "4bf92f3577b34da6a3ce929d0e0e4736"
	authParentID = "00f067aa0ba902b7"
	metaTraceID  = "0af7651916cd43dd8448eb211c80319c"
	metaParentID = "b7ad6b7169203331"
)

func traceparent(traceID, spanID string) string { return "00-" + traceID + "-" + spanID + "-01" }

// handler implements the test schema. Echo stands for a handler that calls
// a store: it starts a span of its own from the context it was given (as
// app/server's traced store does) and remembers that context's span, so the
// tests can check that the handler runs inside the event's span. The
// embedded interface (nil) stands for the events these tests never send, so
// that events added to the test schema do not break them.
type handler struct {
	testapi.Handler
	tracer trace.Tracer

	mu        sync.Mutex
	handlerSC []trace.SpanContext // the span in the context of each Echo
	socketIDs []string            // the server-side id of each socket that connected
}

func (h *handler) Connect(ctx context.Context, s *testapi.Socket, auth testapi.Auth) error {
	h.mu.Lock()
	h.socketIDs = append(h.socketIDs, s.ID())
	h.mu.Unlock()
	if auth.Reject != nil && *auth.Reject {
		return testapi.ErrNotAllowed
	}
	return nil
}

func (h *handler) Echo(ctx context.Context, s *testapi.Socket, in testapi.Shape) (testapi.Shape, error) {
	h.mu.Lock()
	h.handlerSC = append(h.handlerSC, trace.SpanContextFromContext(ctx))
	h.mu.Unlock()
	_, span := h.tracer.Start(ctx, "store.get")
	span.End()
	return in, nil
}
func (*handler) Fail(ctx context.Context, s *testapi.Socket) error { return testapi.ErrNotAllowed }
func (*handler) FailUndeclared(ctx context.Context, s *testapi.Socket) error {
	return runtime.NewError("not-declared", "detail")
}
func (*handler) FailPlain(ctx context.Context, s *testapi.Socket) error {
	return errors.New("the database is gone")
}
func (*handler) Panic(ctx context.Context, s *testapi.Socket) error { panic("boom") }
func (*handler) Disconnect(s *testapi.Socket, reason string)        {}

// traced is a server whose only interceptor is tracing.Interceptor, with its
// spans in an in-memory exporter.
type traced struct {
	url string
	exp *tracetest.InMemoryExporter
	h   *handler
}

func startTraced(t *testing.T) *traced {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	h := &handler{tracer: tp.Tracer("test/store")}
	rt := runtime.NewServer(runtime.Options{
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		EventLimit:     runtime.Limit{PerSecond: 10000, Burst: 10000},
		HandshakeLimit: runtime.Limit{PerSecond: 1000, Burst: 1000},
		Interceptors:   []runtime.Interceptor{tracing.Interceptor(tp)},
	})
	testapi.Register(rt, h)
	ts := httptest.NewServer(rt.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = rt.Shutdown(ctx)
		ts.Close()
	})
	return &traced{url: ts.URL, exp: exp, h: h}
}

func (s *traced) dial(t *testing.T, auth any) *sioclient.Client {
	t.Helper()
	c, err := sioclient.Dial(s.url, sioclient.Options{Auth: auth})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// spans waits until n spans have ended (the interceptor ends a span as the
// dispatch returns, around when the ack leaves) and returns them.
func (s *traced) spans(t *testing.T, n int) tracetest.SpanStubs {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := s.exp.GetSpans()
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) != n {
				t.Fatalf("%d spans ended, want %d: %v", len(got), n, names(got))
			}
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func names(ss tracetest.SpanStubs) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Name)
	}
	return out
}

func named(t *testing.T, ss tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	var found []tracetest.SpanStub
	for _, s := range ss {
		if s.Name == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d spans named %q in %v, want 1", len(found), name, names(ss))
	}
	return found[0]
}

func attrs(s tracetest.SpanStub) map[string]string {
	m := map[string]string{}
	for _, a := range s.Attributes {
		m[string(a.Key)] = a.Value.Emit()
	}
	return m
}

func ack(t *testing.T, c *sioclient.Client, event string, payload any) map[string]any {
	t.Helper()
	raw, err := c.EmitAck(event, payload, 5*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", event, err)
	}
	var env map[string]any
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("%s: %s: %v", event, raw, err)
	}
	return env
}

func shape() map[string]any {
	return map[string]any{"name": "box", "color": "red", "tags": []any{"ab"}, "points": []any{map[string]any{"x": 1, "y": 2}},
		"weight": 1.5, "visible": true, "createdAt": 1700000000123, "meta": map[string]any{"note": "hi"}}
}

// TestSpanNamesAndAttributes: one server span per handshake and per event,
// named karl.connect and karl.event <name>, with the event, the outcome the
// client received and the socket id as attributes; a new trace (no parent)
// when the client sends no traceparent.
func TestSpanNamesAndAttributes(t *testing.T) {
	s := startTraced(t)
	c := s.dial(t, map[string]any{"name": "ann"})
	if env := ack(t, c, "echo", shape()); env["ok"] != true {
		t.Fatalf("echo: %v", env)
	}
	ss := s.spans(t, 3) // karl.connect, karl.event echo, the handler's store.get
	s.h.mu.Lock()
	sid := s.h.socketIDs[0]
	s.h.mu.Unlock()
	if sid == "" || sid != c.SID {
		t.Fatalf("server socket id %q, client's %q", sid, c.SID)
	}
	for _, c := range []struct{ span, event string }{{"karl.connect", "connect"}, {"karl.event echo", "echo"}} {
		sp := named(t, ss, c.span)
		if sp.SpanKind != trace.SpanKindServer {
			t.Errorf("%s: kind %v, want server", c.span, sp.SpanKind)
		}
		want := map[string]string{"karl.event": c.event, "karl.outcome": "ok", "karl.socket.id": sid}
		if got := attrs(sp); !equal(got, want) {
			t.Errorf("%s: attributes %v, want %v", c.span, got, want)
		}
		if sp.Status.Code != otelcodes.Unset {
			t.Errorf("%s: status %v, want unset", c.span, sp.Status)
		}
		if sp.Parent.IsValid() {
			t.Errorf("%s: parent %v, want none (the client sent no traceparent)", c.span, sp.Parent)
		}
		if sp.InstrumentationScope.Name != "github.com/karl-app/karl/runtime" {
			t.Errorf("%s: tracer %q", c.span, sp.InstrumentationScope.Name)
		}
	}
	if a, b := named(t, ss, "karl.connect"), named(t, ss, "karl.event echo"); a.SpanContext.TraceID() == b.SpanContext.TraceID() {
		t.Errorf("the handshake and the event share trace %s; each dispatch without a traceparent starts its own", a.SpanContext.TraceID())
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestOutcomes: karl.outcome is the code the client received; only
// internal (a handler's plain error, a panic, an undeclared code) marks the
// span as an error, the client's mistakes and declared refusals do not; an
// event the schema lacks is named "unknown", never by the client's name.
func TestOutcomes(t *testing.T) {
	s := startTraced(t)
	c := s.dial(t, nil)
	cases := []struct {
		event   string
		payload any
		span    string
		outcome string
		errored bool
	}{
		{"echo", map[string]any{"name": 1}, "karl.event echo", "invalid-payload", false},
		{"fail", nil, "karl.event fail", "not-allowed", false},
		{"fail-plain", nil, "karl.event fail-plain", "internal", true},
		{"panic", nil, "karl.event panic", "internal", true},
		{"fail-undeclared", nil, "karl.event fail-undeclared", "internal", true},
		{"made-up-event", nil, "karl.event unknown", "unknown-event", false},
	}
	for _, tc := range cases {
		env := ack(t, c, tc.event, tc.payload)
		if e, _ := env["error"].(map[string]any); e == nil || e["code"] != tc.outcome {
			t.Fatalf("%s answered %v, want %s", tc.event, env, tc.outcome)
		}
	}
	ss := s.spans(t, 1+len(cases))
	for _, tc := range cases {
		sp := named(t, ss, tc.span)
		a := attrs(sp)
		wantEvent := tc.event
		if tc.outcome == "unknown-event" {
			wantEvent = "unknown"
		}
		if a["karl.event"] != wantEvent || a["karl.outcome"] != tc.outcome {
			t.Errorf("%s: karl.event %q karl.outcome %q, want %q %q", tc.span, a["karl.event"], a["karl.outcome"], wantEvent, tc.outcome)
		}
		if got := sp.Status.Code == otelcodes.Error; got != tc.errored {
			t.Errorf("%s: status %v, want error %v", tc.span, sp.Status, tc.errored)
		}
		if tc.errored && sp.Status.Description != "internal" {
			t.Errorf("%s: status description %q, want %q (never the handler's error text)", tc.span, sp.Status.Description, "internal")
		}
	}
	for _, sp := range ss {
		if strings.Contains(sp.Name, "made-up") {
			t.Errorf("a span is named after the client's unknown event: %q", sp.Name)
		}
	}
}

// TestRefusedHandshake: a Connect that refuses is a karl.connect span with
// the code the client received, not an error of the server.
func TestRefusedHandshake(t *testing.T) {
	s := startTraced(t)
	if c, err := sioclient.Dial(s.url, sioclient.Options{Auth: map[string]any{"reject": true}}); err == nil {
		c.Close()
		t.Fatal("the handshake was not refused")
	}
	sp := named(t, s.spans(t, 1), "karl.connect")
	if a := attrs(sp); a["karl.event"] != "connect" || a["karl.outcome"] != "not-allowed" {
		t.Errorf("attributes %v", a)
	}
	if sp.Status.Code == otelcodes.Error {
		t.Errorf("status %v: a refusal is not a server error", sp.Status)
	}
}

// TestParentFromTraceparent: the span continues the trace of the
// traceparent in the handshake's auth or in an event's request metadata
// (tracestate included); a malformed or oversized traceparent starts a new
// trace instead.
func TestParentFromTraceparent(t *testing.T) {
	s := startTraced(t)
	c := s.dial(t, map[string]any{"traceparent": traceparent(authTraceID, authParentID)})
	if _, err := c.EmitAckMeta("echo", shape(), map[string]any{
		"traceparent": traceparent(metaTraceID, metaParentID), "tracestate": "vendor=abc",
	}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	ss := s.spans(t, 3)
	conn := named(t, ss, "karl.connect")
	if p := conn.Parent; p.TraceID().String() != authTraceID || p.SpanID().String() != authParentID || !p.IsRemote() {
		t.Errorf("karl.connect parent %v, want the auth's %s/%s, remote", p, authTraceID, authParentID)
	}
	if conn.SpanContext.TraceID().String() != authTraceID {
		t.Errorf("karl.connect trace %s, want %s", conn.SpanContext.TraceID(), authTraceID)
	}
	ev := named(t, ss, "karl.event echo")
	if p := ev.Parent; p.TraceID().String() != metaTraceID || p.SpanID().String() != metaParentID || !p.IsRemote() {
		t.Errorf("karl.event echo parent %v, want the metadata's %s/%s, remote", p, metaTraceID, metaParentID)
	}
	if got := ev.SpanContext.TraceState().Get("vendor"); got != "abc" {
		t.Errorf("tracestate vendor=%q, want abc (carried from the metadata)", got)
	}

	// A later version's traceparent may carry more fields, which the W3C
	// propagator accepts; the interceptor refuses one over 128 bytes.
	oversized := "01-" + metaTraceID + "-" + metaParentID + "-01-" + strings.Repeat("x", 80)
	for _, bad := range []string{"00-not-a-traceparent", oversized} {
		s.exp.Reset()
		if _, err := c.EmitAckMeta("fail", nil, map[string]any{"traceparent": bad}, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		sp := named(t, s.spans(t, 1), "karl.event fail")
		if sp.Parent.IsValid() || sp.SpanContext.TraceID().String() == metaTraceID {
			t.Errorf("traceparent %.40q…: parent %v, trace %s; want a new trace", bad, sp.Parent, sp.SpanContext.TraceID())
		}
	}
}

// TestHandlerContextCarriesTheSpan: the handler's context holds the event's
// span, so the spans a handler starts (store calls) are its children, in
// its trace, and end inside it.
func TestHandlerContextCarriesTheSpan(t *testing.T) {
	s := startTraced(t)
	c := s.dial(t, nil)
	if _, err := c.EmitAckMeta("echo", shape(), map[string]any{"traceparent": traceparent(metaTraceID, metaParentID)}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	ss := s.spans(t, 3)
	ev, store := named(t, ss, "karl.event echo"), named(t, ss, "store.get")
	s.h.mu.Lock()
	inHandler := s.h.handlerSC
	s.h.mu.Unlock()
	if len(inHandler) != 1 || !inHandler[0].Equal(ev.SpanContext) {
		t.Fatalf("the handler's context holds %v, want the event span %v", inHandler, ev.SpanContext)
	}
	if store.Parent.SpanID() != ev.SpanContext.SpanID() || store.SpanContext.TraceID() != ev.SpanContext.TraceID() {
		t.Errorf("store.get parent %v, want the event span %v", store.Parent, ev.SpanContext)
	}
	if store.Parent.IsRemote() {
		t.Errorf("store.get's parent is remote; want the local event span")
	}
	if store.EndTime.After(ev.EndTime) {
		t.Errorf("store.get ended at %v, after the event span (%v)", store.EndTime, ev.EndTime)
	}
}
