package server_test

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/karl-app/karl/app/server"
	"github.com/karl-app/karl/internal/sioclient"
)

// startTraced runs a KARL server whose spans go to tp.
func startTraced(t *testing.T, tp trace.TracerProvider) string {
	t.Helper()
	return startKarl(t, server.Config{DB: filepath.Join(t.TempDir(), "karl.db"), Tracer: tp}, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

const clientTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// TracedSession runs the session both tracing tests check: a handshake
// continuing the client's trace (auth), set-username continuing another
// (request metadata), and an invalid payload.
func tracedSession(t *testing.T, url string) {
	t.Helper()
	c, err := sioclient.Dial(url, sioclient.Options{Auth: map[string]any{"traceparent": clientTraceparent}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if raw, err := c.EmitAckMeta("set-username", map[string]any{"username": "Ann"},
		map[string]any{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}, 5*time.Second); err != nil || string(raw) != `{"ok":true}` {
		t.Fatalf("set-username: %s %v", raw, err)
	}
	if _, err := c.EmitAck("set-username", map[string]any{"username": 42}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestSpansOfHandshakeEventsAndStore(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	tracedSession(t, startTraced(t, tp))

	byName := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		byName[s.Name()] = append(byName[s.Name()], s)
	}
	attrs := func(s sdktrace.ReadOnlySpan) map[string]string {
		m := map[string]string{}
		for _, a := range s.Attributes() {
			m[string(a.Key)] = a.Value.Emit()
		}
		return m
	}
	connect := byName["karl.connect"]
	if len(connect) != 1 || connect[0].Parent().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || !connect[0].Parent().IsRemote() {
		t.Fatalf("karl.connect spans %v: want one, continuing the auth's traceparent", connect)
	}
	if a := attrs(connect[0]); a["karl.event"] != "connect" || a["karl.outcome"] != "ok" {
		t.Errorf("karl.connect attributes %v", a)
	}
	events := byName["karl.event set-username"]
	if len(events) != 2 {
		t.Fatalf("karl.event set-username spans: %d, want 2", len(events))
	}
	ok, invalid := events[0], events[1]
	if ok.SpanContext().TraceID().String() != "0af7651916cd43dd8448eb211c80319c" || ok.Parent().SpanID().String() != "b7ad6b7169203331" {
		t.Errorf("set-username span %s (parent %s): want the metadata's traceparent", ok.SpanContext().TraceID(), ok.Parent().SpanID())
	}
	if ok.SpanKind() != trace.SpanKindServer {
		t.Errorf("event span kind %v", ok.SpanKind())
	}
	if a := attrs(ok); a["karl.event"] != "set-username" || a["karl.outcome"] != "ok" {
		t.Errorf("ok span attributes %v", a)
	}
	if a := attrs(invalid); a["karl.outcome"] != "invalid-payload" {
		t.Errorf("invalid span attributes %v", a)
	}
	if invalid.Parent().IsValid() {
		t.Errorf("the event without traceparent has parent %v, want a new trace", invalid.Parent())
	}
	created := byName["store.CreateSession"]
	if len(created) != 1 || created[0].Parent().SpanID() != ok.SpanContext().SpanID() {
		t.Fatalf("store.CreateSession %v: want one child of the set-username span", created)
	}
}
