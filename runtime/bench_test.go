package runtime_test

// Micro-benchmarks of the runtime's decode helpers, its JSON appenders, the
// way an ack reaches the wire, and a whole dispatch (round trip on loopback),
// with allocations. They back the analysis of docs/BENCHMARKS.md and assert
// no timing: run them with `go test -run '^$' -bench . -benchmem ./runtime`.

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/karl-app/karl/internal/sioclient"
	"github.com/karl-app/karl/runtime"
	"github.com/karl-app/karl/runtime/impl"
	"github.com/karl-app/karl/runtime/internal/testapi"
	"github.com/karl-app/karl/runtime/metrics"
	"github.com/karl-app/karl/runtime/tracing"
)

var sink any

func BenchmarkRequiredTrimmedString(b *testing.B) {
	m := map[string]any{"username": "  Alice Liddell  ", "other": 1.0}
	b.ReportAllocs()
	for b.Loop() {
		s, err := impl.Required(m, "username", impl.AsTrimmedString)
		if err != nil || s == "" {
			b.Fatal(err)
		}
	}
}

func BenchmarkRequiredMissing(b *testing.B) {
	m := map[string]any{"other": 1.0}
	b.ReportAllocs()
	for b.Loop() {
		_, err := impl.Required(m, "username", impl.AsTrimmedString)
		sink = err
	}
}

func BenchmarkArrayOfInts(b *testing.B) {
	items := make([]any, 32)
	for i := range items {
		items[i] = float64(i)
	}
	read := impl.ArrayOf(impl.AsInt)
	b.ReportAllocs()
	for b.Loop() {
		out, err := read(items)
		if err != nil {
			b.Fatal(err)
		}
		sink = out
	}
}

func BenchmarkMaxLengthUnicode(b *testing.B) {
	s := strings.Repeat("é", 40)
	b.ReportAllocs()
	for b.Loop() {
		if err := impl.MaxLength(s, 64); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendStringASCII(b *testing.B) {
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		buf = impl.AppendString(buf[:0], "m12345 hello, how are you today?")
	}
}

func BenchmarkAppendStringEscapes(b *testing.B) {
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		buf = impl.AppendString(buf[:0], "line\n\"quoted\" \u2028 héllo")
	}
}

// ackEnvelope is the reply the runtime builds for an echo: {"ok":true,"data":...}.
var ackEnvelope = json.RawMessage(`{"ok":true,"data":{"m":"0123456789abcdefghijklmn"}}`)

// BenchmarkLibraryEncodeAck is how an ack reaches the wire today: the runtime
// hands zishang520 a json.RawMessage and the library's encoder runs
// json.Marshal over []any (reflection, and a compaction pass over the raw JSON).
func BenchmarkLibraryEncodeAck(b *testing.B) {
	enc := parser.NewEncoder()
	id := uint64(7)
	b.ReportAllocs()
	for b.Loop() {
		sink = enc.Encode(&parser.Packet{Type: parser.ACK, Nsp: "/", Id: &id, Data: []any{ackEnvelope}})
	}
}

// BenchmarkAppendAckPacket is the same packet appended directly, as the
// proposed fast path of the runtime's parser does (bench/proposals/runtime.patch).
func BenchmarkAppendAckPacket(b *testing.B) {
	id := uint64(7)
	b.ReportAllocs()
	for b.Loop() {
		p := make([]byte, 0, 64)
		p = strconv.AppendUint(append(p, '3'), id, 10)
		p = append(append(append(p, '['), ackEnvelope...), ']')
		sink = p
	}
}

// BenchmarkLibraryEncodeAckFreshGoroutine runs the library's encode on a new
// goroutine each time, as zishang520's task queue does for an event that
// arrives on an idle socket: the reflection-deep stack of json.Marshal makes
// the new goroutine grow (copy) its stack.
func BenchmarkLibraryEncodeAckFreshGoroutine(b *testing.B) {
	enc := parser.NewEncoder()
	id := uint64(7)
	done := make(chan struct{})
	b.ReportAllocs()
	for b.Loop() {
		go func() {
			sink = enc.Encode(&parser.Packet{Type: parser.ACK, Nsp: "/", Id: &id, Data: []any{ackEnvelope}})
			done <- struct{}{}
		}()
		<-done
	}
}

// BenchmarkAppendAckPacketFreshGoroutine is the direct append on a new
// goroutine: shallow enough not to grow the stack.
func BenchmarkAppendAckPacketFreshGoroutine(b *testing.B) {
	id := uint64(7)
	done := make(chan struct{})
	b.ReportAllocs()
	for b.Loop() {
		go func() {
			p := make([]byte, 0, 64)
			p = strconv.AppendUint(append(p, '3'), id, 10)
			sink = append(append(append(p, '['), ackEnvelope...), ']')
			done <- struct{}{}
		}()
		<-done
	}
}

// BenchmarkEchoRoundTrip is one event through the whole dispatch path: the
// test schema's echo (a Shape decoded, checked, handled, replied with the
// ack envelope) over a real WebSocket on loopback. Allocations include the
// test client's (internal/sioclient, which parses JSON with encoding/json).
func BenchmarkEchoRoundTrip(b *testing.B) {
	b.Run("plain", func(b *testing.B) { benchEcho(b, runtime.Options{}) })
	b.Run("metrics", func(b *testing.B) { // what --metrics-addr adds
		m := metrics.New(prometheus.NewRegistry())
		benchEcho(b, runtime.Options{Interceptors: []runtime.Interceptor{m.Interceptor()}, Observer: m})
	})
	b.Run("tracing", func(b *testing.B) { // spans recorded, none exported
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tracetest.NewSpanRecorder()))
		benchEcho(b, runtime.Options{Interceptors: []runtime.Interceptor{tracing.Interceptor(tp)}})
	})
}

func benchEcho(b *testing.B, opts runtime.Options) {
	opts.Logger = slog.New(slog.DiscardHandler)
	opts.EventLimit = runtime.Limit{PerSecond: 1e9, Burst: 1 << 30}
	rt := runtime.NewServer(opts)
	testapi.Register(rt, handler{})
	ts := httptest.NewServer(rt.Handler())
	defer ts.Close()
	defer rt.Shutdown(context.Background())
	c, err := sioclient.Dial(ts.URL, sioclient.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	shape := validShape()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.EmitAck("echo", shape, 5*time.Second); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIdempotentRoundTrip is BenchmarkEchoRoundTrip's path for the
// idempotent "count" event, plain and with a fresh idempotency key per request
// (claim, seal, complete in the in-memory store), and with a repeated key (a
// replay from the record): the cost of recording keys without a database.
func BenchmarkIdempotentRoundTrip(b *testing.B) {
	rt := runtime.NewServer(runtime.Options{
		Logger:     slog.New(slog.DiscardHandler),
		EventLimit: runtime.Limit{PerSecond: 1e9, Burst: 1 << 30},
	})
	testapi.Register(rt, handler{})
	ts := httptest.NewServer(rt.Handler())
	defer ts.Close()
	defer rt.Shutdown(context.Background())
	c, err := sioclient.Dial(ts.URL, sioclient.Options{Events: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	go func() { // counted events are not the benchmark's business
		for range c.Events() {
		}
	}()
	payload := map[string]any{"n": 1}
	b.Run("no-key", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.EmitAck("count", payload, 5*time.Second); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fresh-key", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if _, err := c.EmitAckMeta("count", payload, map[string]any{"idempotencyKey": "k" + strconv.Itoa(i)}, 5*time.Second); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("replay", func(b *testing.B) {
		meta := map[string]any{"idempotencyKey": "the-same-key"}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.EmitAckMeta("count", payload, meta, 5*time.Second); err != nil {
				b.Fatal(err)
			}
		}
	})
}
