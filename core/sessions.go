package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"time"

	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/core/token"
)

// LogoutInput names the session to end: by refresh token, or (when none is
// given) by the session of an access token.
type LogoutInput struct {
	RefreshToken string
	AccessToken  string
	Client       ClientInfo
}

// Logout revokes the named session. It is idempotent: an unknown, invalid or
// already revoked credential is not an error. It fails only when no
// credential is given (ErrInvalidRequest) or the store cannot be reached
// (ErrUnavailable: nothing was revoked, the client retries).
func (s *Service) Logout(ctx context.Context, in LogoutInput) error {
	now := s.now()
	var sid string
	switch {
	case in.RefreshToken != "":
		tok, ok := parseRefresh(in.RefreshToken)
		if !ok {
			s.audit(ctx, slog.LevelInfo, "logout_noop", in.Client, "", "", "malformed_token")
			return nil
		}
		sess, err := s.sessions.Session(ctx, tok.sid)
		if errors.Is(err, store.ErrNotFound) {
			s.audit(ctx, slog.LevelInfo, "logout_noop", in.Client, "", "", "unknown_token")
			return nil
		}
		if err != nil {
			return newError(ErrUnavailable, "session_store", err)
		}
		if !tok.provenBy(sess.SecretDigest) {
			s.audit(ctx, slog.LevelInfo, "logout_noop", in.Client, "", "", "forged_token")
			return nil
		}
		sid = sess.ID
	case in.AccessToken != "":
		var c token.AccessClaims
		if err := s.verify(in.AccessToken, &c, now, true); err != nil {
			s.audit(ctx, slog.LevelInfo, "logout_noop", in.Client, "", "", ReasonOf(err))
			return nil
		}
		sid = c.SessionID
	default:
		s.audit(ctx, slog.LevelInfo, "request_refused", in.Client, "", "", "no_credential", slog.String("endpoint", "logout"))
		return newError(ErrInvalidRequest, "no_credential", nil)
	}
	sess, err := s.revoke(ctx, sid, now, "logout")
	if err != nil {
		return err
	}
	s.audit(ctx, slog.LevelInfo, "logout", in.Client, sess.Subject, sid, "")
	return nil
}

// revoke revokes one session in the store, the revocation feed and the local
// cache, and returns the session as it was read. A session past its deadline
// is revoked all the same (an instance whose clock is behind could still take
// it for live); a session that is gone is not an error.
func (s *Service) revoke(ctx context.Context, sid string, now time.Time, reason string) (store.Session, error) {
	for attempt := range maxRevokeAttempts {
		if attempt > 0 {
			// A revocation must win against a client refreshing in a loop:
			// let the refresh that beat it land, then read again.
			time.Sleep(time.Duration(1+mrand.IntN(attempt+1)) * time.Millisecond)
		}
		cur, err := s.sessions.Session(ctx, sid)
		if errors.Is(err, store.ErrNotFound) {
			return store.Session{}, nil
		}
		if err != nil {
			return store.Session{}, newError(ErrUnavailable, "session_store", err)
		}
		if !cur.RevokedAt.IsZero() {
			// Revoked already, perhaps by a write whose answer was lost:
			// refuse its access tokens here at once all the same.
			s.live.add(sid, cur.RevokedAt)
			return cur, nil
		}
		err = s.sessions.UpdateSession(ctx, store.Update{Session: revokedState(cur, now, reason), Version: cur.Version, Revoked: true})
		switch {
		case errors.Is(err, store.ErrStale):
			continue
		case errors.Is(err, store.ErrNotFound):
			return cur, nil
		case err != nil:
			return store.Session{}, newError(ErrUnavailable, "session_store", err)
		}
		s.live.add(sid, now)
		s.tel.Revoked(ctx, reason)
		return cur, nil
	}
	return store.Session{}, errContended
}

// SessionInfo is one entry of a subject's session list.
type SessionInfo struct {
	ID         string
	DeviceName string
	IP         string
	UserAgent  string
	CreatedAt  time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time
	Current    bool
}

// Sessions lists the caller's active sessions, marking the current one.
func (s *Service) Sessions(ctx context.Context, p *Principal) ([]SessionInfo, error) {
	list, err := s.sessions.ListSessions(ctx, p.Subject, s.now())
	if err != nil {
		return nil, newError(ErrUnavailable, "session_store", err)
	}
	out := make([]SessionInfo, 0, len(list))
	for _, ss := range list {
		out = append(out, SessionInfo{
			ID: ss.ID, DeviceName: ss.DeviceName, IP: ss.IP, UserAgent: ss.UserAgent,
			CreatedAt: ss.CreatedAt, LastUsedAt: ss.LastUsedAt,
			ExpiresAt: minTime(ss.IdleExpiresAt, ss.AbsoluteExpiresAt),
			Current:   ss.ID == p.SessionID,
		})
	}
	return out, nil
}

// RevokeSession ends one of the caller's sessions. A session of another
// subject, or an unknown one, is ErrNotFound (its existence is not revealed).
func (s *Service) RevokeSession(ctx context.Context, p *Principal, id string, client ClientInfo) error {
	sess, err := s.sessions.Session(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sess.Subject != p.Subject) {
		return newError(ErrNotFound, "session_not_owned", nil)
	}
	if err != nil {
		return newError(ErrUnavailable, "session_store", err)
	}
	if _, err := s.revoke(ctx, id, s.now(), "revoked"); err != nil {
		return err
	}
	s.audit(ctx, slog.LevelInfo, "session_revoked", client, p.Subject, id, "")
	return nil
}

// RevokeOtherSessions ends every session of the caller except the current one.
func (s *Service) RevokeOtherSessions(ctx context.Context, p *Principal, client ClientInfo) (int, error) {
	return s.revokeSubject(ctx, p.Subject, p.SessionID, "revoked_others", client)
}

// RevokeSubject ends every session of subject: call it when an account is
// disabled or deleted, or its password or MFA changes. Access tokens of
// those sessions stop working at once on this instance and within one poll
// interval on every instance sharing the store.
func (s *Service) RevokeSubject(ctx context.Context, subject string) (int, error) {
	return s.revokeSubject(ctx, subject, "", "subject", ClientInfo{})
}

// maxRevokeAttempts bounds the rounds of a revocation under contention; each
// lost round waits a little longer, so a client refreshing in a tight loop
// cannot starve it.
const maxRevokeAttempts = 64

// clockMargin is how far the clocks of instances sharing a store may differ
// for revocations to hold.
const clockMargin = time.Hour

func (s *Service) revokeSubject(ctx context.Context, subject, except, reason string, client ClientInfo) (int, error) {
	now := s.now()
	// Sessions that ended within the clock margin are revoked too: an
	// instance whose clock is behind could still take them for live.
	list, err := s.sessions.ListSessions(ctx, subject, now.Add(-clockMargin))
	if err != nil {
		return 0, newError(ErrUnavailable, "session_store", err)
	}
	n := 0
	for _, ss := range list {
		if ss.ID == except {
			continue
		}
		if _, err := s.revoke(ctx, ss.ID, now, reason); err != nil {
			return n, err
		}
		n++
	}
	s.audit(ctx, slog.LevelInfo, "sessions_revoked", client, subject, except, reason, slog.Int("count", n))
	return n, nil
}

// PasswordSetter is implemented by authenticators that can change a
// password, such as the password package's Authenticator.
type PasswordSetter interface {
	SetPassword(ctx context.Context, subject, password string) error
}

// ChangePassword sets subject's password through the Authenticator (which
// must implement PasswordSetter) and then revokes every other session of
// subject: keepSession, the session making the change, survives ("" revokes
// them all). A password change that leaves other devices logged in would let
// whoever stole the old password stay in. When disabling or deleting an
// account, call RevokeSubject.
func (s *Service) ChangePassword(ctx context.Context, subject, newPassword, keepSession string) (int, error) {
	ps, ok := s.cfg.Authenticator.(PasswordSetter)
	if !ok {
		return 0, fmt.Errorf("%w: the Authenticator cannot set passwords", ErrConfig)
	}
	if err := ps.SetPassword(ctx, subject, newPassword); err != nil {
		return 0, err
	}
	return s.revokeSubject(ctx, subject, keepSession, "password_changed", ClientInfo{})
}
