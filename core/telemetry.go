package core

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/authguard/authguard/core/internal/telemetry"
)

// The service reports OpenTelemetry metrics and traces through
// Config.MeterProvider and Config.TracerProvider (see "Metrics and traces"
// in core/README.md); with neither set every hook below costs a nil check. No
// attribute carries a token, password, cookie or key: only outcomes,
// reasons and operation names, from fixed sets.

// RecordGuard counts one decision of a route guard in the
// authguard.guard.decisions metric: err is its refusal, nil when it let the
// request through (a missing credential counts as denied, a store or policy
// outage as unavailable, any other refusal of the credential as
// invalid_token). The guard composition every adapter runs calls it once
// per guard; without a MeterProvider it costs a nil check.
func (s *Service) RecordGuard(ctx context.Context, err error) {
	if s.tel != nil { // inlined: without telemetry the guard pays this check only
		s.recordGuard(ctx, err)
	}
}

func (s *Service) recordGuard(ctx context.Context, err error) {
	d := telemetry.Allowed
	switch {
	case err == nil:
	case errors.Is(err, ErrUnavailable), errors.Is(err, ErrInternal):
		d = telemetry.Unavailable
	case errors.Is(err, ErrInsufficientScope), errors.Is(err, ErrNoCredential):
		d = telemetry.Denied
	default:
		d = telemetry.InvalidToken
	}
	s.tel.Guard(ctx, d)
}

// refreshOutcomes maps the audit events that end a refresh to its outcome.
var refreshOutcomes = map[string]string{
	"refresh_succeeded": "rotated", "refresh_grace_replay": "grace_replay",
	"refresh_token_reuse": "reuse_detected", "refresh_failed": "failed", "refresh_error": "error",
}

// countEvent counts the refresh whose audit event is event, if it is one.
func (s *Service) countEvent(ctx context.Context, event string) {
	if o, ok := refreshOutcomes[event]; ok && s.tel != nil {
		s.tel.Refresh(ctx, o)
	}
}

// endLogin counts the login that ended with *err and ends its span.
func (s *Service) endLogin(ctx context.Context, span trace.Span, err *error) {
	outcome := "ok"
	switch {
	case *err == nil:
	case errors.Is(*err, ErrTooManyRequests):
		outcome = "throttled"
	case errors.Is(*err, ErrUnavailable), errors.Is(*err, ErrInternal):
		outcome = "error"
	default:
		outcome = "failed"
	}
	s.tel.Login(ctx, outcome)
	telemetry.End(span, outcome, reasonOrEmpty(*err))
}

// endSpan ends the span of an operation that ended with *err.
func endSpan(span trace.Span, err *error) { telemetry.End(span, "", reasonOrEmpty(*err)) }

// reasonOrEmpty is ReasonOf(err) ("error" when it has none), "" for nil.
func reasonOrEmpty(err error) string {
	if r := ReasonOf(err); r != "" || err == nil {
		return r
	}
	return "error"
}

// storeCall is one bounded store call in flight.
type storeCall struct {
	cancel context.CancelFunc
	call   telemetry.Call
}

// begin applies the store timeout d to ctx and opens the call's span.
func begin(ctx context.Context, t *telemetry.T, d time.Duration, op string) (context.Context, storeCall) {
	ctx, cancel := context.WithTimeout(ctx, d)
	ctx, call := t.Begin(ctx, op)
	return ctx, storeCall{cancel, call}
}

// end records the call's outcome (*err) and cancels its deadline.
func (c storeCall) end(ctx context.Context, err *error) {
	c.call.End(ctx, *err != nil)
	c.cancel()
}
