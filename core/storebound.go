package core

import (
	"context"
	"time"

	"github.com/authguard/authguard/core/internal/telemetry"
	"github.com/authguard/authguard/core/store"
)

// The core bounds every call it makes to the session store, the throttle and
// Authenticator.Lookup by Config.StoreTimeout, so a store that hangs (paused,
// partitioned, overloaded) costs a request at most that much per call and is
// answered with 503 rather than held open. The wrappers keep the caller's
// context (and its values); the timeout only shortens its deadline. They
// are also where every store call gets its span and its duration recorded
// (authguard.store.duration), when the service has telemetry.
//
// Optional interfaces of the configured store and authenticator are looked
// up on Config.Store and Config.Authenticator, never on these wrappers.

// boundedSessions applies a per-call timeout to a store.Sessions.
type boundedSessions struct {
	s store.Sessions
	d time.Duration
	t *telemetry.T
}

func (b boundedSessions) CreateSession(ctx context.Context, s store.Session) (err error) {
	ctx, c := begin(ctx, b.t, b.d, "sessions.CreateSession")
	defer c.end(ctx, &err)
	return b.s.CreateSession(ctx, s)
}

func (b boundedSessions) Session(ctx context.Context, id string) (_ store.Session, err error) {
	ctx, c := begin(ctx, b.t, b.d, "sessions.Session")
	defer c.end(ctx, &err)
	return b.s.Session(ctx, id)
}

func (b boundedSessions) UpdateSession(ctx context.Context, u store.Update) (err error) {
	ctx, c := begin(ctx, b.t, b.d, "sessions.UpdateSession")
	defer c.end(ctx, &err)
	return b.s.UpdateSession(ctx, u)
}

func (b boundedSessions) ListSessions(ctx context.Context, subject string, now time.Time) (_ []store.Session, err error) {
	ctx, c := begin(ctx, b.t, b.d, "sessions.ListSessions")
	defer c.end(ctx, &err)
	return b.s.ListSessions(ctx, subject, now)
}

func (b boundedSessions) Revocations(ctx context.Context, after int64, limit int) (_ []store.Revocation, err error) {
	ctx, c := begin(ctx, b.t, b.d, "sessions.Revocations")
	defer c.end(ctx, &err)
	return b.s.Revocations(ctx, after, limit)
}

// Prune is not bounded by the store timeout: it is a background sweep that
// may take longer, under the poller's own deadline.
func (b boundedSessions) Prune(ctx context.Context, cutoff time.Time) (int, error) {
	return b.s.Prune(ctx, cutoff)
}

// boundedThrottle applies a per-call timeout to a store.Throttle.
type boundedThrottle struct {
	th store.Throttle
	d  time.Duration
	t  *telemetry.T
}

func (b boundedThrottle) Hit(ctx context.Context, key string, now time.Time, window time.Duration) (_ int, _ time.Time, err error) {
	ctx, c := begin(ctx, b.t, b.d, "throttle.Hit")
	defer c.end(ctx, &err)
	return b.th.Hit(ctx, key, now, window)
}

func (b boundedThrottle) Peek(ctx context.Context, key string, now time.Time, window time.Duration) (_ int, _ time.Time, err error) {
	ctx, c := begin(ctx, b.t, b.d, "throttle.Peek")
	defer c.end(ctx, &err)
	return b.th.Peek(ctx, key, now, window)
}

func (b boundedThrottle) Reset(ctx context.Context, key string) (err error) {
	ctx, c := begin(ctx, b.t, b.d, "throttle.Reset")
	defer c.end(ctx, &err)
	return b.th.Reset(ctx, key)
}

func (b boundedThrottle) Forgive(ctx context.Context, key string, windowStart time.Time) (err error) {
	ctx, c := begin(ctx, b.t, b.d, "throttle.Forgive")
	defer c.end(ctx, &err)
	return b.th.Forgive(ctx, key, windowStart)
}

// boundedAuth bounds Lookup, a plain read of the user at refresh time.
// Authenticate is left to the Authenticator, since it includes the password
// hash, whose cost is not a store's: the password authenticator bounds its
// own store calls (password.Options.StoreTimeout), and a login reads the
// throttle, bounded here, before it.
type boundedAuth struct {
	Authenticator
	d time.Duration
	t *telemetry.T
}

func (b boundedAuth) Lookup(ctx context.Context, subject string) (_ Identity, err error) {
	ctx, c := begin(ctx, b.t, b.d, "users.Lookup")
	defer c.end(ctx, &err)
	return b.Authenticator.Lookup(ctx, subject)
}
