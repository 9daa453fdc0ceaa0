package core

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authguard/authguard/core/store"
)

// liveness is the per-instance cache of revoked sessions that lets guards
// refuse a revoked session's access tokens with no store round trip per
// request. A revocation made here is visible at once; one made by another
// instance sharing the store arrives through the store's revocation feed
// within one poll interval. When the feed cannot be read for longer than the
// configured staleness, guards fail closed with 503.
type liveness struct {
	mu      sync.RWMutex
	revoked map[string]time.Time // session id -> when the entry may be forgotten
	cursor  int64
	// lastSync is the monotonic reading (nanoseconds since start) of the last
	// successful feed read.
	lastSync atomic.Int64
	start    time.Time
	maxStale time.Duration
	retain   time.Duration
}

func newLiveness(maxStale, retain time.Duration) *liveness {
	return &liveness{revoked: make(map[string]time.Time), start: time.Now(), maxStale: maxStale, retain: retain}
}

// mono returns monotonic nanoseconds since l.start (immune to wall-clock jumps).
func (l *liveness) mono() int64 { return int64(time.Since(l.start)) }

// check reports whether sid may be trusted as live: nil, errSessionRevoked, or
// errFeedStale.
func (l *liveness) check(sid string) error {
	if l.mono()-l.lastSync.Load() > int64(l.maxStale) {
		return errFeedStale
	}
	l.mu.RLock()
	_, revoked := l.revoked[sid]
	l.mu.RUnlock()
	if revoked {
		return errSessionRevoked
	}
	return nil
}

// add records a revocation seen locally or through the feed.
func (l *liveness) add(sid string, revokedAt time.Time) {
	l.mu.Lock()
	l.revoked[sid] = revokedAt.Add(l.retain)
	l.mu.Unlock()
}

// sync reads the feed from the cursor to its end and forgets entries whose
// tokens have all expired (relative to now, the service clock).
func (l *liveness) sync(ctx context.Context, s store.Sessions, now time.Time) error {
	const page = 1000
	for {
		l.mu.RLock()
		after := l.cursor
		l.mu.RUnlock()
		revs, err := s.Revocations(ctx, after, page)
		if err != nil {
			return err
		}
		l.mu.Lock()
		for _, r := range revs {
			if r.Seq > l.cursor {
				l.cursor = r.Seq
			}
			if until := r.RevokedAt.Add(l.retain); until.After(now) {
				l.revoked[r.SessionID] = until
			}
		}
		l.mu.Unlock()
		if len(revs) < page {
			break
		}
	}
	l.mu.Lock()
	for sid, until := range l.revoked {
		if !until.After(now) {
			delete(l.revoked, sid)
		}
	}
	l.mu.Unlock()
	l.lastSync.Store(l.mono())
	return nil
}

var (
	errSessionRevoked = &Error{Kind: ErrInvalidToken, Reason: "session_revoked"}
	errFeedStale      = &Error{Kind: ErrUnavailable, Reason: "revocation_feed_stale"}
)
