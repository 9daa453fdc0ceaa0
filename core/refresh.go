package core

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"time"

	"github.com/authguard/authguard/core/store"
)

// maxWriteAttempts bounds the read-decide-write rounds of one session change
// under contention. Every lost round means another writer won one, and the
// writes a session accepts in a burst are few (one rotation and the bounded
// replays), so the bound is only reached under pathological contention; the
// caller then gets 503 and retries.
const maxWriteAttempts = 16

var errContended = &Error{Kind: ErrUnavailable, Reason: "session_contended"}

// Refresh rotates a refresh token (see the state machine in lineage.go).
// Every check that can fail (the token, the session, the user, the signing of
// the access token) runs before anything is written, so an answer of 503
// leaves the client's token exactly as good as before. Every failure is the
// same ErrInvalidGrant to the client; the reason goes to the log.
func (s *Service) Refresh(ctx context.Context, refreshToken string, client ClientInfo) (_ *TokenResponse, err error) {
	ctx, span := s.tel.Start(ctx, "authguard.Refresh")
	defer endSpan(span, &err)
	tok, ok := parseRefresh(refreshToken)
	if !ok {
		s.audit(ctx, slog.LevelInfo, "refresh_failed", client, "", "", "malformed_token")
		return nil, newError(ErrInvalidGrant, "malformed_token", nil)
	}
	cur, err := s.sessions.Session(ctx, tok.sid)
	if err != nil {
		return nil, s.refreshStoreError(ctx, client, err)
	}
	if !tok.provenBy(cur.SecretDigest) {
		s.audit(ctx, slog.LevelWarn, "refresh_failed", client, "", "", "forged_token")
		return nil, newError(ErrInvalidGrant, "forged_token", nil)
	}
	r := refresher{s: s, tok: &tok, client: client, now: s.now()}
	for range maxWriteAttempts {
		resp, err := r.attempt(ctx, &cur)
		if !errors.Is(err, store.ErrStale) {
			return resp, err
		}
		if cur, err = s.sessions.Session(ctx, tok.sid); err != nil {
			return nil, s.refreshStoreError(ctx, client, err)
		}
	}
	s.audit(ctx, slog.LevelWarn, "refresh_error", client, cur.Subject, cur.ID, errContended.Reason)
	return nil, errContended
}

func (s *Service) refreshStoreError(ctx context.Context, client ClientInfo, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		s.audit(ctx, slog.LevelInfo, "refresh_failed", client, "", "", "unknown_token")
		return newError(ErrInvalidGrant, "unknown_token", nil)
	}
	s.audit(ctx, slog.LevelError, "refresh_error", client, "", "", errText(err))
	return newError(ErrUnavailable, "session_store", err)
}

// refresher is one refresh request: its token, and the identity looked up
// once for all of its attempts.
type refresher struct {
	s      *Service
	tok    *refreshToken
	client ClientInfo
	now    time.Time
	id     *Identity
}

// attempt decides on cur and writes the outcome; store.ErrStale means another
// writer moved the session on and the caller must read it again.
func (r *refresher) attempt(ctx context.Context, cur *store.Session) (*TokenResponse, error) {
	s, now := r.s, r.now
	p := presentation{gen: r.tok.gen, current: r.tok.isCurrent(cur.TokenDigest),
		retryOpen: s.repairs.open(cur.ID, cur.Version, cur.TokenDigest)}
	st, reason := s.cfg.decide(cur, p, now)
	switch st {
	case stepRefuse:
		if !cur.RevokedAt.IsZero() {
			s.live.add(cur.ID, cur.RevokedAt)
		}
		s.audit(ctx, slog.LevelInfo, "refresh_failed", r.client, cur.Subject, cur.ID, reason)
		return nil, newError(ErrInvalidGrant, reason, nil)
	case stepReuse:
		return nil, r.revoke(ctx, cur, "reuse", reason)
	}
	next, out, err := r.outcome(ctx, cur, st)
	if err != nil {
		return nil, err
	}
	id, err := r.identity(ctx, cur)
	if err != nil {
		return nil, err
	}
	resp, err := s.issue(now, &next, id, out)
	if err != nil {
		if errors.Is(err, ErrInvalidGrant) {
			s.audit(ctx, slog.LevelInfo, "refresh_failed", r.client, cur.Subject, cur.ID, ReasonOf(err))
		}
		return nil, err
	}
	if st != stepRetry {
		if err := s.sessions.UpdateSession(ctx, store.Update{Session: next, Version: cur.Version}); err != nil {
			if err = r.writeFailed(ctx, cur, &next, err); err != nil {
				return nil, err
			}
		}
	}
	s.live.remember(&next)
	event := "refresh_succeeded"
	if st != stepRotate {
		event = "refresh_grace_replay"
	}
	s.audit(ctx, slog.LevelInfo, event, r.client, cur.Subject, cur.ID, "")
	return resp, nil
}

// outcome is the state to write and the refresh token to answer for a
// rotation or a replay. A replay whose successor the presented token cannot
// open carries the session's secret without being the token it claims to be:
// reuse.
func (r *refresher) outcome(ctx context.Context, cur *store.Session, st step) (store.Session, string, error) {
	if st == stepRotate {
		return r.rotation(cur)
	}
	succ, err := openSuccessor(r.tok.raw, cur.Successor)
	if err != nil {
		return store.Session{}, "", r.revoke(ctx, cur, "reuse", "reuse_detected")
	}
	if st == stepRetry {
		return *cur, succ, nil
	}
	return replayedState(*cur, r.now), succ, nil
}

// rotation mints the next token of cur's lineage and the state that records it.
func (r *refresher) rotation(cur *store.Session) (store.Session, string, error) {
	next, err := mintRefresh(cur.ID, cur.Generation+1, r.tok.secret)
	if err != nil {
		return store.Session{}, "", newError(ErrInternal, "mint", err)
	}
	sealed, err := sealSuccessor(r.tok.raw, next)
	if err != nil {
		return store.Session{}, "", newError(ErrInternal, "seal", err)
	}
	return r.s.cfg.rotatedState(*cur, tokenDigest(next), sealed, r.now), next, nil
}

// identity looks the session's user up once per request. A user who may no
// longer log in (disabled, locked, deleted) ends the session.
func (r *refresher) identity(ctx context.Context, cur *store.Session) (Identity, error) {
	if r.id != nil {
		return *r.id, nil
	}
	id, err := r.s.auth.Lookup(ctx, cur.Subject)
	if errors.Is(err, ErrInvalidCredentials) {
		if rerr := r.revoke(ctx, cur, "subject_disabled", "subject_"+ReasonOf(err)); !errors.Is(rerr, ErrInvalidGrant) {
			return Identity{}, rerr
		}
		return Identity{}, newError(ErrInvalidGrant, "subject_unavailable", err)
	}
	if err != nil {
		r.s.audit(ctx, slog.LevelError, "refresh_error", r.client, cur.Subject, cur.ID, errText(err))
		return Identity{}, asUnavailable(err, "authenticator")
	}
	r.id = &id
	return id, nil
}

// revoke ends cur (reuse detected, or its user gone) and answers invalid_grant;
// store.ErrStale when the session moved on meanwhile.
func (r *refresher) revoke(ctx context.Context, cur *store.Session, reason, logReason string) error {
	next := revokedState(*cur, r.now, reason)
	if err := r.s.sessions.UpdateSession(ctx, store.Update{Session: next, Version: cur.Version, Revoked: true}); err != nil {
		if errors.Is(err, store.ErrStale) {
			return err
		}
		return r.s.refreshStoreError(ctx, r.client, err)
	}
	r.s.live.add(cur.ID, r.now)
	r.s.tel.Revoked(ctx, reason)
	event := "refresh_token_reuse"
	if reason != "reuse" {
		event = "refresh_failed"
	}
	r.s.audit(ctx, slog.LevelWarn, event, r.client, cur.Subject, cur.ID, logReason)
	return newError(ErrInvalidGrant, logReason, nil)
}

// readBackTimeout bounds the read that settles a write whose outcome is unknown.
const readBackTimeout = 2 * time.Second

// writeFailed settles a write of next that returned err. A lost compare-and-
// set (store.ErrStale) goes back to the caller; otherwise the outcome is
// unknown: the session is read back, and when next is what the store holds
// the write landed and the answer stands (nil). When the store cannot tell,
// the answer is 503, and the state is remembered as possibly landed with its
// answer lost, so the presented token keeps working until the new one is
// used (see repairs.go).
func (r *refresher) writeFailed(ctx context.Context, cur, next *store.Session, err error) error {
	if errors.Is(err, store.ErrStale) {
		return err
	}
	if errors.Is(err, store.ErrNotFound) {
		return r.s.refreshStoreError(ctx, r.client, err)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readBackTimeout)
	got, rerr := r.s.sessions.Session(rctx, next.ID)
	cancel()
	switch {
	case rerr == nil && got.Version == next.Version && subtle.ConstantTimeCompare(got.TokenDigest, next.TokenDigest) == 1:
		return nil
	case rerr == nil && got.Version == cur.Version:
		// Nothing landed: the token is exactly as good as before.
	case rerr == nil:
		// Another writer came after: whatever it was, it was answered.
	default:
		if !r.s.repairs.note(next.ID, next.Version, next.TokenDigest, next.IdleExpiresAt) {
			r.s.log.WarnContext(ctx, "authguard: too many refreshes with lost answers to remember; this one is not kept open for retry",
				slog.String("session_id", next.ID))
		}
	}
	r.s.audit(ctx, slog.LevelError, "refresh_error", r.client, cur.Subject, cur.ID, errText(err))
	return newError(ErrUnavailable, "session_store", err)
}
