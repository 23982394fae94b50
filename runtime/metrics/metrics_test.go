package metrics_test

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/karl-app/karl/runtime"
	"github.com/karl-app/karl/runtime/metrics"
)

// TestLabelsStayBounded: a name the schema lacks is counted as "unknown",
// codes are the client's, and refusals count their rate limits.
func TestLabelsStayBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	answer := map[string]error{
		"set-username":                    nil,
		"get-profile":                     runtime.NewError("no-session", "no session"),
		"evil" + strings.Repeat("x", 100): runtime.NewError(runtime.CodeUnknownEvent, "unknown event"),
		"connect":                         runtime.NewError(runtime.CodeRateLimited, "slow down"),
	}
	h := m.Interceptor()(func(_ context.Context, c *runtime.Call) (runtime.Message, error) { return nil, answer[c.Event] })
	for _, c := range []*runtime.Call{{Event: "set-username"}, {Event: "get-profile"}, {Event: "evil" + strings.Repeat("x", 100)}, {Event: "connect", Handshake: true}} {
		_, _ = h(context.Background(), c)
	}
	m.Refused("origin")
	m.Refused("rate-limited")
	m.Connected(1)
	m.Delivered("new-message", 3)
	want := `
# HELP karl_events_total Client events handled, by event and outcome code (ok or an error code).
# TYPE karl_events_total counter
karl_events_total{code="no-session",event="get-profile"} 1
karl_events_total{code="ok",event="set-username"} 1
karl_events_total{code="unknown-event",event="unknown"} 1
# HELP karl_rate_limited_total Answers refused for a rate limit, by scope: event, handshake (new connections per IP) or connect (namespace CONNECTs).
# TYPE karl_rate_limited_total counter
karl_rate_limited_total{scope="connect"} 1
karl_rate_limited_total{scope="handshake"} 1
# HELP karl_sockets_connected Sockets joined to a namespace on this node.
# TYPE karl_sockets_connected gauge
karl_sockets_connected 1
# HELP karl_broadcast_deliveries_total Broadcast messages written to sockets of this node, by server event.
# TYPE karl_broadcast_deliveries_total counter
karl_broadcast_deliveries_total{event="new-message"} 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "karl_events_total", "karl_rate_limited_total", "karl_sockets_connected", "karl_broadcast_deliveries_total"); err != nil {
		t.Error(err)
	}
	if got := testutil.ToFloat64(prometheusCounter(t, reg, "karl_handshakes_refused_total")); got != 3 {
		t.Errorf("karl_handshakes_refused_total sums to %v, want 3 (origin, rate-limited, the refused Connect)", got)
	}
}

func prometheusCounter(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, f := range families {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "sum"})
	c.Add(sum)
	return c
}
