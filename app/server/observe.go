package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/karl-app/karl/app/store"
	"github.com/karl-app/karl/runtime"
)

// observedStore times every store call (karl_store_operation_duration_seconds)
// and runs it in a child span of the event's, so a trace goes from the client
// through the handler to the database.
type observedStore struct {
	next   store.Store
	hist   *prometheus.HistogramVec // nil: no metrics
	tracer trace.Tracer
}

func observeStore(st store.Store, reg prometheus.Registerer, tp trace.TracerProvider) *observedStore {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	o := &observedStore{next: st, tracer: tp.Tracer("github.com/karl-app/karl/app/store")}
	if reg != nil {
		o.hist = prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "karl_store_operation_duration_seconds", Help: "Time of one store call, by operation.",
			Buckets: []float64{.0001, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"op"})
		reg.MustRegister(o.hist)
	}
	return o
}

// op starts the span and the clock of one call; call the returned func with its error.
func (o *observedStore) op(ctx context.Context, name string) (context.Context, func(error)) {
	start := time.Now()
	ctx, span := o.tracer.Start(ctx, "store."+name, trace.WithSpanKind(trace.SpanKindClient))
	return ctx, func(err error) {
		if o.hist != nil {
			o.hist.WithLabelValues(name).Observe(time.Since(start).Seconds())
		}
		if err != nil {
			span.SetStatus(otelcodes.Error, err.Error())
		}
		span.End()
	}
}

func (o *observedStore) CreateSession(ctx context.Context, username string, token store.TokenHash, issuedAt, expiresAt time.Time) (store.SessionID, error) {
	ctx, done := o.op(ctx, "CreateSession")
	id, err := o.next.CreateSession(ctx, username, token, issuedAt, expiresAt)
	done(err)
	return id, err
}

func (o *observedStore) RenameSession(ctx context.Context, id store.SessionID, username string, now time.Time) error {
	ctx, done := o.op(ctx, "RenameSession")
	err := o.next.RenameSession(ctx, id, username, now)
	done(err)
	return err
}

func (o *observedStore) SetProfileImage(ctx context.Context, id store.SessionID, mime string, data []byte, now time.Time) error {
	ctx, done := o.op(ctx, "SetProfileImage")
	err := o.next.SetProfileImage(ctx, id, mime, data, now)
	done(err)
	return err
}

func (o *observedStore) Session(ctx context.Context, id store.SessionID) (store.Session, error) {
	ctx, done := o.op(ctx, "Session")
	s, err := o.next.Session(ctx, id)
	done(err)
	return s, err
}

func (o *observedStore) SessionByToken(ctx context.Context, token store.TokenHash, now time.Time) (store.Session, time.Time, error) {
	ctx, done := o.op(ctx, "SessionByToken")
	s, exp, err := o.next.SessionByToken(ctx, token, now)
	done(err)
	return s, exp, err
}

func (o *observedStore) RevokeToken(ctx context.Context, token store.TokenHash, now time.Time) error {
	ctx, done := o.op(ctx, "RevokeToken")
	err := o.next.RevokeToken(ctx, token, now)
	done(err)
	return err
}

func (o *observedStore) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	ctx, done := o.op(ctx, "DeleteExpired")
	n, err := o.next.DeleteExpired(ctx, now)
	done(err)
	return n, err
}

func (o *observedStore) Claim(ctx context.Context, key, fingerprint string, now time.Time, lease, window time.Duration) (runtime.ClaimState, []byte, error) {
	ctx, done := o.op(ctx, "IdempotencyClaim")
	state, answer, err := o.next.Claim(ctx, key, fingerprint, now, lease, window)
	done(err)
	return state, answer, err
}

func (o *observedStore) Complete(ctx context.Context, key string, answer []byte) error {
	ctx, done := o.op(ctx, "IdempotencyComplete")
	err := o.next.Complete(ctx, key, answer)
	done(err)
	return err
}

func (o *observedStore) Release(ctx context.Context, key string) error {
	ctx, done := o.op(ctx, "IdempotencyRelease")
	err := o.next.Release(ctx, key)
	done(err)
	return err
}

func (o *observedStore) DeleteExpiredIdempotency(ctx context.Context, now time.Time) (int64, error) {
	ctx, done := o.op(ctx, "DeleteExpiredIdempotency")
	n, err := o.next.DeleteExpiredIdempotency(ctx, now)
	done(err)
	return n, err
}

func (o *observedStore) Ping(ctx context.Context) error { return o.next.Ping(ctx) } // polled by balancers: neither timed nor traced

func (o *observedStore) Close() error { return o.next.Close() }
