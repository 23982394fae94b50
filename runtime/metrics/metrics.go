// Package metrics exports a KARL server's metrics to Prometheus: an
// interceptor counts and times every event and handshake, and an Observer
// follows the connected sockets, refused connections and broadcasts.
//
//	m := metrics.New(prometheus.DefaultRegisterer)
//	rt := runtime.NewServer(runtime.Options{Interceptors: []runtime.Interceptor{m.Interceptor()}, Observer: m})
//
// Labels are bounded: event names come from the schema (a name the schema
// lacks is counted as event="unknown"), codes from the schema and the
// runtime, reasons from a fixed list. No room names, socket ids or addresses.
package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/karl-app/karl/runtime"
)

// Metrics holds the runtime's collectors; it implements runtime.Observer.
type Metrics struct {
	events      *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	connected   prometheus.Gauge
	handshakes  *prometheus.CounterVec
	refused     *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	deliveries  *prometheus.CounterVec
}

// New creates the collectors and registers them with reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "karl_events_total", Help: "Client events handled, by event and outcome code (ok or an error code).",
		}, []string{"event", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "karl_event_duration_seconds", Help: "Time from dispatch to answer of a client event, decoding and handler included.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"event"}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "karl_sockets_connected", Help: "Sockets joined to a namespace on this node.",
		}),
		handshakes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "karl_handshakes_total", Help: "Namespace handshakes (Connect), by outcome code.",
		}, []string{"code"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "karl_handshakes_refused_total", Help: "Connections refused, by reason: host, origin, shutting-down, rate-limited, connect-rate-limited, or the code Connect answered.",
		}, []string{"reason"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "karl_rate_limited_total", Help: "Answers refused for a rate limit, by scope: event, handshake (new connections per IP) or connect (namespace CONNECTs).",
		}, []string{"scope"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "karl_broadcast_deliveries_total", Help: "Broadcast messages written to sockets of this node, by server event.",
		}, []string{"event"}),
	}
	reg.MustRegister(m.events, m.duration, m.connected, m.handshakes, m.refused, m.rateLimited, m.deliveries)
	return m
}

// Interceptor counts and times every dispatch. Put it first in
// Options.Interceptors to see the codes other interceptors answer with.
func (m *Metrics) Interceptor() runtime.Interceptor {
	return func(next runtime.Handler) runtime.Handler {
		return func(ctx context.Context, c *runtime.Call) (runtime.Message, error) {
			start := time.Now()
			reply, err := next(ctx, c)
			code := codeOf(err)
			if c.Handshake {
				m.handshakes.WithLabelValues(code).Inc()
				if err != nil {
					m.refused.WithLabelValues(code).Inc()
				}
				if code == string(runtime.CodeRateLimited) {
					m.rateLimited.WithLabelValues("connect").Inc()
				}
				return reply, err
			}
			event := c.Event
			if code == string(runtime.CodeUnknownEvent) {
				event = "unknown" // the client's invention: never a label value
			}
			m.events.WithLabelValues(event, code).Inc()
			m.duration.WithLabelValues(event).Observe(time.Since(start).Seconds())
			if code == string(runtime.CodeRateLimited) {
				m.rateLimited.WithLabelValues("event").Inc()
			}
			return reply, err
		}
	}
}

func codeOf(err error) string {
	if err == nil {
		return "ok"
	}
	if e, ok := err.(*runtime.Error); ok {
		return string(e.Code)
	}
	return string(runtime.CodeInternal)
}

// Connected implements runtime.Observer.
func (m *Metrics) Connected(delta int) { m.connected.Add(float64(delta)) }

// Refused implements runtime.Observer.
func (m *Metrics) Refused(reason string) {
	m.refused.WithLabelValues(reason).Inc()
	switch reason {
	case "rate-limited":
		m.rateLimited.WithLabelValues("handshake").Inc()
	case "connect-rate-limited":
		m.rateLimited.WithLabelValues("connect").Inc()
	}
}

// Delivered implements runtime.Observer; broadcasts relayed by an adapter (-1) count once.
func (m *Metrics) Delivered(event string, sockets int) {
	if sockets < 0 {
		sockets = 1
	}
	m.deliveries.WithLabelValues(event).Add(float64(sockets))
}
