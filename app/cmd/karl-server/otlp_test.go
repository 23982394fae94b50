package main

import (
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/karl-app/karl/app/server"
	"github.com/karl-app/karl/internal/sioclient"
	"github.com/karl-app/karl/runtime"
)

// otlpReceiver is a small OTLP/HTTP trace receiver: it decodes the protobuf
// export requests posted to /v1/traces and keeps their spans.
type otlpReceiver struct {
	mu       sync.Mutex
	spans    []*tracepb.Span
	services []string
}

func (r *otlpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	var export coltracepb.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(body, &export)
	}
	if req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" || err != nil {
		http.Error(w, "bad export", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	for _, rs := range export.ResourceSpans {
		for _, a := range rs.GetResource().GetAttributes() {
			if a.Key == "service.name" {
				r.services = append(r.services, a.GetValue().GetStringValue())
			}
		}
		for _, ss := range rs.ScopeSpans {
			r.spans = append(r.spans, ss.Spans...)
		}
	}
	r.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// TestTracesReachAnOTLPReceiver configures the exporter the way an operator
// does, with OTEL_* variables only, and checks what a real OTLP/HTTP endpoint
// receives: the event's span continuing the client's traceparent, with its
// attributes, and the store call as its child.
func TestTracesReachAnOTLPReceiver(t *testing.T) {
	recv := &otlpReceiver{}
	collector := httptest.NewServer(recv)
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_SERVICE_NAME", "karl-test")
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
	tp, shutdown, err := newTracerProvider(context.Background(), os.Getenv)
	if err != nil || tp == nil {
		t.Fatalf("tracer provider: %v %v", tp, err)
	}
	srv, err := server.New(context.Background(), server.Config{DB: filepath.Join(t.TempDir(), "karl.db"), Tracer: tp,
		EventLimit: runtime.Limit{PerSecond: 1000, Burst: 1000}, HandshakeLimit: runtime.Limit{PerSecond: 1000, Burst: 1000}},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	c, err := sioclient.Dial(ts.URL, sioclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := c.EmitAckMeta("set-username", map[string]any{"username": "Ann"},
		map[string]any{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}, 5*time.Second); err != nil || string(raw) != `{"ok":true}` {
		t.Fatalf("set-username: %s %v", raw, err)
	}
	c.Close()
	_ = srv.Shutdown(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil { // flushes the batch
		t.Fatal(err)
	}

	recv.mu.Lock()
	defer recv.mu.Unlock()
	var event, store *tracepb.Span
	for _, s := range recv.spans {
		switch s.Name {
		case "karl.event set-username":
			event = s
		case "store.CreateSession":
			store = s
		}
	}
	if event == nil || store == nil {
		t.Fatalf("spans received: %v", recv.spans)
	}
	if got := hex.EncodeToString(event.TraceId); got != "0af7651916cd43dd8448eb211c80319c" {
		t.Errorf("event trace id %s, want the client's", got)
	}
	if got := hex.EncodeToString(event.ParentSpanId); got != "b7ad6b7169203331" {
		t.Errorf("event parent %s, want the client's span", got)
	}
	if string(store.ParentSpanId) != string(event.SpanId) || event.Kind != tracepb.Span_SPAN_KIND_SERVER {
		t.Errorf("store span parent %x, event span %x kind %v", store.ParentSpanId, event.SpanId, event.Kind)
	}
	attrs := map[string]string{}
	for _, a := range event.Attributes {
		attrs[a.Key] = a.GetValue().GetStringValue()
	}
	if attrs["karl.event"] != "set-username" || attrs["karl.outcome"] != "ok" {
		t.Errorf("event attributes %v", attrs)
	}
	if len(recv.services) == 0 || recv.services[0] != "karl-test" {
		t.Errorf("service.name %v, want OTEL_SERVICE_NAME", recv.services)
	}
}

func TestNoTracingByDefault(t *testing.T) {
	for _, env := range []map[string]string{{}, {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"}} {
		tp, _, err := newTracerProvider(context.Background(), func(k string) string { return env[k] })
		if tp != nil || err != nil {
			t.Errorf("env %v: tracer provider %v, %v; want none", env, tp, err)
		}
	}
	if _, _, err := newTracerProvider(context.Background(), func(k string) string {
		return map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}[k]
	}); err == nil {
		t.Error("OTEL_TRACES_EXPORTER=zipkin: no error")
	}
}

// TestSideListeners: --metrics-addr and --debug-addr (or KARL_METRICS_ADDR,
// KARL_DEBUG_ADDR) are off by default and serve /metrics and pprof on muxes of their own.
func TestSideListeners(t *testing.T) {
	f, err := parseFlags(nil, func(string) string { return "" })
	if err != nil || f.metricsAddr != "" || f.debugAddr != "" {
		t.Fatalf("defaults: %q %q %v, want both off", f.metricsAddr, f.debugAddr, err)
	}
	env := map[string]string{"KARL_METRICS_ADDR": "127.0.0.1:9464", "KARL_DEBUG_ADDR": "127.0.0.1:6060"}
	if f, err = parseFlags(nil, func(k string) string { return env[k] }); err != nil || f.metricsAddr != env["KARL_METRICS_ADDR"] || f.debugAddr != env["KARL_DEBUG_ADDR"] {
		t.Fatalf("from the environment: %q %q %v", f.metricsAddr, f.debugAddr, err)
	}
	for _, tc := range []struct {
		h          http.Handler
		path, want string
		status     int
	}{
		{metricsMux(newRegistry()), "/metrics", "go_goroutines", 200},
		{metricsMux(newRegistry()), "/debug/pprof/", "", 404},
		{debugMux(), "/debug/pprof/", "goroutine", 200},
		{debugMux(), "/metrics", "", 404},
	} {
		rec := httptest.NewRecorder()
		tc.h.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("GET %s: %d, want %d with %q", tc.path, rec.Code, tc.status, tc.want)
		}
	}
}
