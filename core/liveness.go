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
	// startMono: the service clock is the real one (time.Now), so the
	// monotonic reading of its times is this process's monotonic clock.
	startMono bool
	maxStale  time.Duration
	retain    time.Duration

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
	// gone is set once the entry has left seen (revoked, evicted, replaced,
	// past its deadline): whoever kept a pointer to it (the token cache)
	// must then look the session up again.
	gone atomic.Bool
}

// vouches reports whether e, an entry check returned, still stands for a
// live session at now: it is still in seen (so not revoked, see check) and
// its deadline is ahead. The subject was compared when check returned it.
func (e *seenSession) vouches(now time.Time) bool {
	return !e.gone.Load() && now.Before(e.until)
}

// newLiveness returns an empty view. startMono tells that the service clock
// is time.Now, whose readings carry the monotonic clock (see monoAt).
func newLiveness(maxStale, retain time.Duration, maxSeen int, startMono bool) *liveness {
	return &liveness{revoked: make(map[string]time.Time), start: time.Now(), startMono: startMono,
		maxStale: maxStale, retain: retain, maxSeen: int64(maxSeen)}
}

// mono returns monotonic nanoseconds since l.start (immune to wall-clock jumps).
func (l *liveness) mono() int64 { return int64(time.Since(l.start)) }

// monoAt is mono at now, a reading of the service clock: with the real
// clock, now's own monotonic reading (no second clock read per request);
// with an injected clock, whose times may carry none, a fresh reading.
func (l *liveness) monoAt(now time.Time) int64 {
	if l.startMono {
		return int64(now.Sub(l.start))
	}
	return l.mono()
}

// stale reports whether the feed was last read longer ago than allowed, at
// mono (see monoAt): guards then fail closed.
func (l *liveness) stale(mono int64) bool {
	return mono-l.lastSync.Load() > int64(l.maxStale)
}

// check reports whether the access token of subject for session sid may be
// trusted at now (mono is monoAt(now)): nil, or an *Error of kind
// ErrInvalidToken (revoked, unknown or expired session, another subject) or
// ErrUnavailable (stale feed, store unreachable at first sight). On
// success it returns the entry of seen that vouched for the session, if
// any: while that entry vouches (see seenSession.vouches) and the feed is
// fresh, the session needs no lookup.
func (l *liveness) check(ctx context.Context, st store.Sessions, sid, subject string, now time.Time, mono int64) (*seenSession, error) {
	if l.stale(mono) {
		return nil, errFeedStale
	}
	// A session in seen is not revoked: a revocation records it in revoked,
	// then removes it from seen (marking the entry gone), and remember
	// re-checks revoked after adding (see there). So a hit here needs no
	// read of revoked, nor its lock.
	if v, ok := l.seen.Load(sid); ok {
		e := v.(*seenSession)
		if e.subject != subject {
			return nil, errSessionSubject
		}
		if now.Before(e.until) {
			return e, nil
		}
		l.forget(sid)
	}
	if l.isRevoked(sid) {
		return nil, errSessionRevoked
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
func (l *liveness) firstSight(ctx context.Context, st store.Sessions, sid, subject string, now time.Time) (*seenSession, error) {
	forgets := l.forgets.Load()
	s, err := st.Session(ctx, sid)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, errSessionUnknown
	case err != nil:
		return nil, &Error{Kind: ErrUnavailable, Reason: "session_store", Err: err}
	case !s.RevokedAt.IsZero():
		l.add(sid, s.RevokedAt)
		return nil, errSessionRevoked
	case !s.Active(now):
		return nil, errSessionExpired
	case s.Subject != subject:
		return nil, errSessionSubject
	}
	if l.forgets.Load() != forgets {
		return nil, nil
	}
	return l.remember(&s), nil
}

// remember records s, which this instance just read, created or wrote, as
// live. A revocation records the session as revoked, then removes it from
// seen; remember adds it to seen, then looks for a revocation: whichever
// order the two interleave in, a revoked session does not stay in seen
// (and its entry is marked gone). It returns the entry it added.
func (l *liveness) remember(s *store.Session) *seenSession {
	if l.seenN.Add(1) > l.maxSeen {
		l.evict()
	}
	e := &seenSession{subject: s.Subject, until: minTime(s.IdleExpiresAt, s.AbsoluteExpiresAt)}
	if old, loaded := l.seen.Swap(s.ID, e); loaded {
		old.(*seenSession).gone.Store(true)
		l.seenN.Add(-1)
	}
	if l.isRevoked(s.ID) {
		l.forget(s.ID)
	}
	return e
}

// forget drops sid from the sessions seen and marks its entry gone, so
// that no pointer kept to it vouches for the session any more.
func (l *liveness) forget(sid string) {
	if v, ok := l.seen.LoadAndDelete(sid); ok {
		v.(*seenSession).gone.Store(true)
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
