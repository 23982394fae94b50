package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/karl-app/karl/app/server"
	"github.com/karl-app/karl/internal/sioclient"
	"github.com/karl-app/karl/runtime"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestMetricsAndTracingVariants: what typed+metrics and typed+tracing turn
// on is there, for both apps: the runtime's (and, for karl, the store's)
// collectors on the debug listener's /metrics, and a span per event from
// --tracing's provider with the store calls as its children.
func TestMetricsAndTracingVariants(t *testing.T) {
	for _, c := range []struct {
		app, event string
		payload    any
		metric     string // a line /metrics must hold after one event
		store      bool   // the event's span has store children
	}{
		{"echo", "echo", map[string]any{"m": "hi"}, `karl_events_total{code="ok",event="echo"} 1`, false},
		{"karl", "set-username", map[string]any{"username": "ann"}, `karl_events_total{code="ok",event="set-username"} 1`, true},
	} {
		t.Run(c.app, func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			tp := newTracerProvider(exp)
			reg := newRegistry()
			lim := runtime.Limit{PerSecond: 1000, Burst: 1000}
			cfg := server.Config{DB: filepath.Join(t.TempDir(), "typed.db"), MaxImageBytes: 256 << 10,
				EventLimit: lim, UploadLimit: lim, HandshakeLimit: lim, Metrics: reg, Tracer: tp}
			addr, debugAddr := freeAddr(t), freeAddr(t)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, addr, debugAddr, c.app, cfg, reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			}()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("run: %v", err)
				}
			}()
			var cl *sioclient.Client
			var err error
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				if cl, err = sioclient.Dial("http://"+addr, sioclient.Options{}); err == nil || time.Now().After(deadline) {
					break
				}
			}
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer cl.Close()
			if raw, err := cl.EmitAck(c.event, c.payload, 5*time.Second); err != nil || !strings.Contains(string(raw), `"ok":true`) {
				t.Fatalf("%s: %s %v", c.event, raw, err)
			}

			resp, err := http.Get("http://" + debugAddr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(body), c.metric) || !strings.Contains(string(body), "go_goroutines") {
				t.Errorf("/metrics lacks %q or the Go collector:\n%.2000s", c.metric, body)
			}
			if c.store && !strings.Contains(string(body), "karl_store_operation_duration_seconds") {
				t.Errorf("/metrics lacks the store's collectors")
			}

			if err := tp.ForceFlush(context.Background()); err != nil { // the batch processor holds the spans until then
				t.Fatal(err)
			}
			spans := exp.GetSpans()
			var event *tracetest.SpanStub
			for i := range spans {
				if spans[i].Name == "karl.event "+c.event {
					event = &spans[i]
				}
			}
			if event == nil {
				t.Fatalf("no span karl.event %s in %d spans", c.event, len(spans))
			}
			children := 0
			for _, s := range spans {
				if s.Parent.SpanID() == event.SpanContext.SpanID() && strings.HasPrefix(s.Name, "store.") {
					children++
				}
			}
			if c.store && children == 0 {
				t.Errorf("karl.event %s has no store.* child spans", c.event)
			}
		})
	}
}
