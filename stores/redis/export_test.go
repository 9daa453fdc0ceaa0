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

// NoteUnsettled records an intent member as announced by s and not yet
// published, as a revoking UpdateSession whose publish failed does.
func (s *Store) NoteUnsettled(member string) { s.mine.add(member) }

// Unsettled is how many such members s still holds.
func (s *Store) Unsettled() int {
	s.mine.mu.Lock()
	defer s.mine.mu.Unlock()
	return len(s.mine.m)
}
