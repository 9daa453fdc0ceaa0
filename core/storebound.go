package core

import (
	"context"
	"time"

	"github.com/authguard/authguard/core/store"
)

// The core bounds every call it makes to the session store, the throttle and
// Authenticator.Lookup by Config.StoreTimeout, so a store that hangs (paused,
// partitioned, overloaded) costs a request at most that much per call and is
// answered with 503 rather than held open. The wrappers keep the caller's
// context (and its values); the timeout only shortens its deadline.
//
// Optional interfaces of the configured store and authenticator are looked
// up on Config.Store and Config.Authenticator, never on these wrappers.

// bounded returns ctx with the store timeout d applied.
func bounded(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

// boundedSessions applies a per-call timeout to a store.Sessions.
type boundedSessions struct {
	s store.Sessions
	d time.Duration
}

func (b boundedSessions) CreateSession(ctx context.Context, s store.Session) error {
	ctx, cancel := bounded(ctx, b.d)
	defer cancel()
	return b.s.CreateSession(ctx, s)
}

func (b boundedSessions) Session(ctx context.Context, id string) (store.Session, error) {
	ctx, cancel := bounded(ctx, b.d)
	defer cancel()
	return b.s.Session(ctx, id)
}

func (b boundedSessions) UpdateSession(ctx context.Context, u store.Update) error {
	ctx, cancel := bounded(ctx, b.d)
	defer cancel()
	return b.s.UpdateSession(ctx, u)
}

func (b boundedSessions) ListSessions(ctx context.Context, subject string, now time.Time) ([]store.Session, error) {
	ctx, cancel := bounded(ctx, b.d)
	defer cancel()
	return b.s.ListSessions(ctx, subject, now)
}

func (b boundedSessions) Revocations(ctx context.Context, after int64, limit int) ([]store.Revocation, error) {
	ctx, cancel := bounded(ctx, b.d)
	defer cancel()
	return b.s.Revocations(ctx, after, limit)
}

// Prune is not bounded by the store timeout: it is a background sweep that
// may take longer, under the poller's own deadline.
func (b boundedSessions) Prune(ctx context.Context, cutoff time.Time) (int, error) {
	return b.s.Prune(ctx, cutoff)
}

// boundedThrottle applies a per-call timeout to a store.Throttle.
type boundedThrottle struct {
	t store.Throttle
	d time.Duration
}

func (b boundedThrottle) Hit(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	ctx, cancel := bounded(ctx, b.d)
	defer cancel()
	return b.t.Hit(ctx, key, now, window)
}

func (b boundedThrottle) Peek(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	ctx, cancel := bounded(ctx, b.d)
	defer cancel()
	return b.t.Peek(ctx, key, now, window)
}

func (b boundedThrottle) Reset(ctx context.Context, key string) error {
	ctx, cancel := bounded(ctx, b.d)
	defer cancel()
	return b.t.Reset(ctx, key)
}

func (b boundedThrottle) Forgive(ctx context.Context, key string, windowStart time.Time) error {
	ctx, cancel := bounded(ctx, b.d)
	defer cancel()
	return b.t.Forgive(ctx, key, windowStart)
}

// boundedAuth bounds Lookup, a plain read of the user at refresh time.
// Authenticate is left to the Authenticator, since it includes the password
// hash, whose cost is not a store's: the password authenticator bounds its
// own store calls (password.Options.StoreTimeout), and a login reads the
// throttle, bounded here, before it.
type boundedAuth struct {
	Authenticator
	d time.Duration
}

func (b boundedAuth) Lookup(ctx context.Context, subject string) (Identity, error) {
	ctx, cancel := bounded(ctx, b.d)
	defer cancel()
	return b.Authenticator.Lookup(ctx, subject)
}
