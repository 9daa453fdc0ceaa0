package redisstore

import (
	"context"
	"time"

	"github.com/authguard/authguard/core/store"
)

// WithSweepAfter exposes withSweepAfter to the tests.
func WithSweepAfter(d time.Duration) Option { return withSweepAfter(d) }

// WithClockSkew exposes withClockSkew to the tests.
func WithClockSkew(d time.Duration) Option { return withClockSkew(d) }

// Announce is step 1 of a revoking UpdateSession.
func (s *Store) Announce(ctx context.Context, sid string) (string, error) {
	return s.announce(ctx, sid)
}

// WriteAnnounced is step 2 of a revoking UpdateSession, without step 3: a
// writer that dies after its write.
func (s *Store) WriteAnnounced(ctx context.Context, u store.Update, nonce string) error {
	return s.write(ctx, u, nonce)
}
