// Package tracing traces a KARL server with OpenTelemetry: a span for every
// handshake and every client event, with the event name and outcome code as
// attributes, and the handler's context carrying the span so that the
// application's own spans (store calls) become its children.
//
// A client continues its trace by sending a W3C traceparent (and optionally
// tracestate) in the request metadata object after the payload,
// {"traceparent": "00-..."}, or in the handshake's auth object.
package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/karl-app/karl/runtime"
)

// Attribute keys of the spans.
const (
	AttrEvent   = attribute.Key("karl.event")   // the client event, "connect" for the handshake
	AttrOutcome = attribute.Key("karl.outcome") // "ok" or the error code the client received
	AttrSocket  = attribute.Key("karl.socket.id")
)

// Interceptor returns a runtime interceptor that starts a server span per
// dispatch with tracers of tp.
func Interceptor(tp trace.TracerProvider) runtime.Interceptor {
	tracer := tp.Tracer("github.com/karl-app/karl/runtime")
	prop := propagation.TraceContext{}
	return func(next runtime.Handler) runtime.Handler {
		return func(ctx context.Context, c *runtime.Call) (runtime.Message, error) {
			if carrier := metaCarrier(c.Meta); carrier != nil {
				ctx = prop.Extract(ctx, carrier)
			}
			name := "karl.event " + c.Event
			if c.Handshake {
				name = "karl.connect"
			}
			ctx, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer))
			defer span.End()
			reply, err := next(ctx, c)
			outcome, event := "ok", c.Event
			if err != nil {
				outcome = string(runtime.CodeInternal)
				if e, ok := err.(*runtime.Error); ok {
					outcome = string(e.Code)
				}
			}
			if outcome == string(runtime.CodeUnknownEvent) {
				event = "unknown" // the client's invention; not a span name
				span.SetName("karl.event unknown")
			}
			span.SetAttributes(AttrEvent.String(event), AttrOutcome.String(outcome), AttrSocket.String(c.Socket.ID()))
			if outcome == string(runtime.CodeInternal) {
				span.SetStatus(otelcodes.Error, "internal")
			}
			return reply, err
		}
	}
}

// metaCarrier reads traceparent and tracestate from a request metadata object.
func metaCarrier(meta map[string]any) propagation.MapCarrier {
	tp, _ := meta["traceparent"].(string)
	if tp == "" || len(tp) > 128 {
		return nil
	}
	carrier := propagation.MapCarrier{"traceparent": tp}
	if ts, _ := meta["tracestate"].(string); ts != "" && len(ts) <= 512 {
		carrier["tracestate"] = ts
	}
	return carrier
}
