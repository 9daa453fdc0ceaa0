// Package telemetry holds the OpenTelemetry instruments of a core.Service:
// created once, from the providers of its configuration, and recorded
// through methods that are no-ops on a nil *T, so a service without
// providers pays a nil check per hook. It knows nothing of the core's
// errors: the core names each outcome, from fixed sets of strings. No
// attribute it records may carry a token, password, cookie or key.
package telemetry

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// Scope is the instrumentation scope of the core's meter and tracer.
const Scope = "github.com/authguard/authguard/core"

// Decision is a guard decision, counted in authguard.guard.decisions.
type Decision int

// The guard decisions.
const (
	Allowed Decision = iota
	Denied
	InvalidToken
	Unavailable
)

var decisionNames = [...]string{"allowed", "denied", "invalid_token", "unavailable"}

// T is a service's instruments; nil records nothing.
type T struct {
	tracer                                          trace.Tracer
	logins, refreshes, revocations, guards, lookups metric.Int64Counter
	storeTime                                       metric.Float64Histogram
	decisions                                       [len(decisionNames)][]metric.AddOption
	hit, miss                                       []metric.AddOption
	cacheOn                                         bool
}

// New creates the instruments of mp and tp (either may be nil, not both:
// New returns nil then). cacheOn says whether the service has a token cache
// whose lookups are counted.
func New(mp metric.MeterProvider, tp trace.TracerProvider, cacheOn bool) (*T, error) {
	if mp == nil && tp == nil {
		return nil, nil
	}
	if mp == nil {
		mp = metricnoop.NewMeterProvider()
	}
	if tp == nil {
		tp = tracenoop.NewTracerProvider()
	}
	m := mp.Meter(Scope)
	t := &T{tracer: tp.Tracer(Scope), cacheOn: cacheOn}
	var errs []error
	counter := func(dst *metric.Int64Counter, name, unit, desc string) {
		var err error
		*dst, err = m.Int64Counter(name, metric.WithDescription(desc), metric.WithUnit(unit))
		errs = append(errs, err)
	}
	counter(&t.logins, "authguard.logins", "{login}", "Login attempts by outcome.")
	counter(&t.refreshes, "authguard.refreshes", "{refresh}", "Refresh-token presentations by outcome.")
	counter(&t.revocations, "authguard.revocations", "{session}", "Sessions revoked, by reason.")
	counter(&t.guards, "authguard.guard.decisions", "{request}", "Route guard decisions.")
	counter(&t.lookups, "authguard.token_cache.lookups", "{lookup}", "Verified-token cache lookups by result.")
	var err error
	t.storeTime, err = m.Float64Histogram("authguard.store.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of the calls the core makes to its session store, throttle and user lookup."),
		metric.WithExplicitBucketBoundaries(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
	if err := errors.Join(append(errs, err)...); err != nil {
		return nil, err
	}
	for d, name := range decisionNames {
		t.decisions[d] = option("decision", name)
	}
	t.hit, t.miss = option("result", "hit"), option("result", "miss")
	return t, nil
}

// option is a precomputed attribute option: recording with it allocates nothing.
func option(key, value string) []metric.AddOption {
	return []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(attribute.String(key, value)))}
}

// Guard counts one guard decision.
func (t *T) Guard(ctx context.Context, d Decision) {
	if t != nil {
		t.guards.Add(ctx, 1, t.decisions[d]...)
	}
}

// CacheLookup counts one token-cache lookup, when the service has a cache.
func (t *T) CacheLookup(ctx context.Context, hit bool) {
	if t != nil && t.cacheOn {
		t.countLookup(ctx, hit)
	}
}

func (t *T) countLookup(ctx context.Context, hit bool) {
	if hit {
		t.lookups.Add(ctx, 1, t.hit...)
	} else {
		t.lookups.Add(ctx, 1, t.miss...)
	}
}

// Login counts one login ending with outcome (ok, failed, throttled, error).
func (t *T) Login(ctx context.Context, outcome string) {
	if t != nil {
		t.logins.Add(ctx, 1, metric.WithAttributes(attribute.String("outcome", outcome)))
	}
}

// Refresh counts one refresh ending with outcome (rotated, grace_replay,
// reuse_detected, failed, error).
func (t *T) Refresh(ctx context.Context, outcome string) {
	if t != nil {
		t.refreshes.Add(ctx, 1, metric.WithAttributes(attribute.String("outcome", outcome)))
	}
}

// Revoked counts one session revoked for reason.
func (t *T) Revoked(ctx context.Context, reason string) {
	if t != nil {
		t.revocations.Add(ctx, 1, metric.WithAttributes(attribute.String("reason", reason)))
	}
}

// Start opens the internal span name (nil span without telemetry).
func (t *T) Start(ctx context.Context, name string) (context.Context, trace.Span) {
	if t == nil {
		return ctx, nil
	}
	return t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindInternal))
}

// End ends span (nil: nothing) with the outcome attribute and, when
// reason is not empty, an error status described by reason.
func End(span trace.Span, outcome, reason string) {
	if span == nil {
		return
	}
	if outcome != "" {
		span.SetAttributes(attribute.String("authguard.outcome", outcome))
	}
	if reason != "" {
		span.SetAttributes(attribute.String("authguard.reason", reason))
		span.SetStatus(codes.Error, reason)
	}
	span.End()
}

// Call is one store call in flight.
type Call struct {
	t     *T
	op    string
	span  trace.Span
	start time.Time
}

// Begin opens the span of the store call op and starts its clock.
func (t *T) Begin(ctx context.Context, op string) (context.Context, Call) {
	if t == nil {
		return ctx, Call{}
	}
	c := Call{t: t, op: op}
	ctx, c.span = t.tracer.Start(ctx, "authguard.store."+op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("authguard.store.operation", op)))
	c.start = time.Now()
	return ctx, c
}

// End records the call's duration and whether it failed, and ends its span.
func (c Call) End(ctx context.Context, failed bool) {
	if c.t == nil {
		return
	}
	c.t.storeTime.Record(ctx, time.Since(c.start).Seconds(),
		metric.WithAttributes(attribute.String("operation", c.op), attribute.Bool("error", failed)))
	if failed {
		c.span.SetStatus(codes.Error, "store call failed")
	}
	c.span.End()
}
