package core

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/authguard/authguard/core/store"
)

// maxRepairs bounds the rotations remembered as possibly lost.
const maxRepairs = 10000

// repairs remembers rotations whose write reported an error: the write may
// have landed while its answer (the new refresh token) never reached the
// client, who then retries with the token it has, possibly long after the
// grace window. Until the store has recorded such a rotation as open for
// retry (RetryOpen), this instance honours it from memory; the poller writes
// it to the store as soon as the store answers again, so every instance
// honours it from then on.
type repairs struct {
	mu sync.Mutex
	m  map[string]repair // session id -> the rotation that may be lost
}

type repair struct {
	version int64     // the session's version if the write landed
	digest  string    // and its current token's digest then
	until   time.Time // the session's idle deadline after it: no retry comes later
}

// note records that the write of version of session sid, whose current
// token has digest, may have landed unseen. It reports false when the notes
// are full (the caller's client may then be refused after the grace window).
func (r *repairs) note(sid string, version int64, digest []byte, until time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[string]repair)
	}
	if len(r.m) >= maxRepairs {
		return false
	}
	r.m[sid] = repair{version: version, digest: string(digest), until: until}
	return true
}

// open reports whether the session sid, read at version with current token
// digest, is exactly a state whose answer may have been lost. The digest
// matters: a write that never landed, followed by a rotation that was
// answered, reaches the same version with another token.
func (r *repairs) open(sid string, version int64, digest []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	rp, ok := r.m[sid]
	return ok && rp.version == version && rp.digest == string(digest)
}

func (r *repairs) snapshot() map[string]repair {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]repair, len(r.m))
	for k, v := range r.m {
		out[k] = v
	}
	return out
}

func (r *repairs) done(sid string, rp repair) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m[sid] == rp {
		delete(r.m, sid)
	}
}

// repair writes the remembered rotations to the store: a rotation that landed
// and was not used since is marked RetryOpen; any other outcome (it never
// landed, the session moved on, it is gone or past its deadline) needs
// nothing. An unreachable store keeps the note for the next round.
func (s *Service) repair(ctx context.Context) {
	now := s.now()
	for sid, rp := range s.repairs.snapshot() {
		if !now.Before(rp.until) {
			s.repairs.done(sid, rp)
			continue
		}
		cur, err := s.sessions.Session(ctx, sid)
		if errors.Is(err, store.ErrNotFound) {
			s.repairs.done(sid, rp)
			continue
		}
		if err != nil {
			return
		}
		if cur.Version == rp.version && string(cur.TokenDigest) == rp.digest && !cur.RetryOpen && cur.RevokedAt.IsZero() {
			err = s.sessions.UpdateSession(ctx, store.Update{Session: retryOpenedState(cur), Version: cur.Version})
			if err != nil && !errors.Is(err, store.ErrStale) && !errors.Is(err, store.ErrNotFound) {
				return
			}
			if err == nil {
				s.log.InfoContext(ctx, "authguard: a rotation whose answer may have been lost stays open for retry",
					slog.String("session_id", sid))
			}
		}
		s.repairs.done(sid, rp)
	}
}
