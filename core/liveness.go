package core

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authguard/authguard/core/store"
)

// liveness is the per-instance view of sessions that lets guards accept an
// access token only for a live session of this store, whose subject is the
// token's, with no store round trip per request once the session was seen:
//
//   - seen caches the sessions found live (subject and deadline), filled on
//     a session's first sight with one store read, bounded in size;
//   - revoked holds the sessions revoked here (at once) or by any instance
//     sharing the store (through its revocation feed, within one poll
//     interval); it is checked first, so it always wins over seen.
//
// When the feed cannot be read for longer than the configured staleness,
// guards fail closed with 503, and so does a first sight while the store is
// unreachable: never 200, never 401.
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

	seen    sync.Map // session id -> *seenSession
	seenN   atomic.Int64
	maxSeen int64
	// forgets counts the times sync forgot revocations: a session read
	// before one may have been revoked and forgotten since, so what the
	// read found is not cached (see firstSight).
	forgets atomic.Int64
}

// seenSession is a session found live in the store.
type seenSession struct {
	subject string
	until   time.Time // its earlier deadline when read; read again after it
}

func newLiveness(maxStale, retain time.Duration, maxSeen int) *liveness {
	return &liveness{revoked: make(map[string]time.Time), start: time.Now(), maxStale: maxStale, retain: retain,
		maxSeen: int64(maxSeen)}
}

// mono returns monotonic nanoseconds since l.start (immune to wall-clock jumps).
func (l *liveness) mono() int64 { return int64(time.Since(l.start)) }

// check reports whether the access token of subject for session sid may be
// trusted at now: nil, or an *Error of kind ErrInvalidToken (revoked,
// unknown or expired session, another subject) or ErrUnavailable (stale
// feed, store unreachable at first sight).
func (l *liveness) check(ctx context.Context, st store.Sessions, sid, subject string, now time.Time) error {
	if l.mono()-l.lastSync.Load() > int64(l.maxStale) {
		return errFeedStale
	}
	// A session in seen is not revoked: a revocation removes it from seen
	// after recording it, and remember re-checks after adding (see there).
	if v, ok := l.seen.Load(sid); ok {
		e := v.(*seenSession)
		if e.subject != subject {
			return errSessionSubject
		}
		if now.Before(e.until) {
			return nil
		}
		l.forget(sid)
	}
	if l.isRevoked(sid) {
		return errSessionRevoked
	}
	return l.firstSight(ctx, st, sid, subject, now)
}

func (l *liveness) isRevoked(sid string) bool {
	l.mu.RLock()
	_, revoked := l.revoked[sid]
	l.mu.RUnlock()
	return revoked
}

// firstSight reads a session not seen yet (or whose cached deadline passed).
func (l *liveness) firstSight(ctx context.Context, st store.Sessions, sid, subject string, now time.Time) error {
	forgets := l.forgets.Load()
	s, err := st.Session(ctx, sid)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errSessionUnknown
	case err != nil:
		return &Error{Kind: ErrUnavailable, Reason: "session_store", Err: err}
	case !s.RevokedAt.IsZero():
		l.add(sid, s.RevokedAt)
		return errSessionRevoked
	case !s.Active(now):
		return errSessionExpired
	case s.Subject != subject:
		return errSessionSubject
	}
	if l.forgets.Load() == forgets {
		l.remember(&s)
	}
	return nil
}

// remember records s, which this instance just read, created or wrote, as
// live. A revocation records the session as revoked, then removes it from
// seen; remember adds it to seen, then looks for a revocation: whichever
// order the two interleave in, a revoked session does not stay in seen.
func (l *liveness) remember(s *store.Session) {
	if l.seenN.Add(1) > l.maxSeen {
		l.evict()
	}
	if _, loaded := l.seen.Swap(s.ID, &seenSession{subject: s.Subject, until: minTime(s.IdleExpiresAt, s.AbsoluteExpiresAt)}); loaded {
		l.seenN.Add(-1)
	}
	if l.isRevoked(s.ID) {
		l.forget(s.ID)
	}
}

// forget drops sid from the sessions seen.
func (l *liveness) forget(sid string) {
	if _, ok := l.seen.LoadAndDelete(sid); ok {
		l.seenN.Add(-1)
	}
}

// evict makes room in seen by dropping about an eighth of it (whichever
// entries the map yields first: a dropped live session costs one store read
// at its next request).
func (l *liveness) evict() {
	n := max(l.maxSeen/8, 1)
	l.seen.Range(func(k, _ any) bool {
		l.forget(k.(string))
		n--
		return n > 0
	})
}

// add records a revocation seen locally or through the feed.
func (l *liveness) add(sid string, revokedAt time.Time) {
	l.mu.Lock()
	l.revoked[sid] = revokedAt.Add(l.retain)
	l.mu.Unlock()
	l.forget(sid)
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
			l.forget(r.SessionID)
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
			l.forgets.Add(1)
		}
	}
	l.mu.Unlock()
	l.lastSync.Store(l.mono())
	return nil
}

var (
	errSessionRevoked = &Error{Kind: ErrInvalidToken, Reason: "session_revoked"}
	errSessionUnknown = &Error{Kind: ErrInvalidToken, Reason: "session_unknown"}
	errSessionExpired = &Error{Kind: ErrInvalidToken, Reason: "session_expired"}
	errSessionSubject = &Error{Kind: ErrInvalidToken, Reason: "session_subject_mismatch"}
	errFeedStale      = &Error{Kind: ErrUnavailable, Reason: "revocation_feed_stale"}
)
