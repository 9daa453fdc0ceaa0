package core

import (
	"context"
	"errors"
	"time"

	"github.com/authguard/authguard/core/token"
)

// Authenticate verifies an access token (strictly, see token.KeySet.Verify) and
// checks that its session is live, with no store round trip. It is the hot
// path of every guard.
//
// A token that passed every check is kept in the service's token cache (see
// Config.TokenCacheMaxEntries): the next request presenting exactly that
// token skips the signature and claim parsing, but is still refused once
// the token expires (with Leeway, on the service clock), once its session
// is revoked here or by any instance sharing the store, or once a key of the
// key set is removed or added (the token is then verified again). The
// returned Principal is shared by every request presenting the same token:
// treat it as read-only.
func (s *Service) Authenticate(ctx context.Context, accessToken string) (*Principal, error) {
	now := s.now() // the one clock read of a request (see liveness.monoAt)
	mono := s.live.monoAt(now)
	if e, ok := s.cached(accessToken, now); ok {
		s.tel.CacheLookup(ctx, true)
		if e.sess != nil && e.sess.vouches(now) && !s.live.stale(mono) {
			return e.p, nil
		}
		sess, err := s.live.check(ctx, s.sessions, e.p.SessionID, e.p.Subject, now, mono)
		if err != nil {
			if errors.Is(err, ErrInvalidToken) {
				s.forgetToken(accessToken)
			}
			return nil, err
		}
		s.revouch(accessToken, e, sess)
		return e.p, nil
	}
	s.tel.CacheLookup(ctx, false)
	keyGen := s.keys.Generation() // before verifying: a key removed meanwhile changes it
	var c token.AccessClaims
	if err := s.verify(accessToken, &c, now, false); err != nil {
		return nil, err
	}
	sess, err := s.live.check(ctx, s.sessions, c.SessionID, c.Subject, now, mono)
	if err != nil {
		return nil, err
	}
	p := &Principal{
		Subject:   c.Subject,
		SessionID: c.SessionID,
		Roles:     c.Roles,
		Tenant:    c.Tenant,
		TokenID:   c.ID,
		IssuedAt:  time.Unix(c.IssuedAt, 0).UTC(),
		ExpiresAt: time.Unix(c.ExpiresAt, 0).UTC(),
		AuthTime:  time.Unix(c.AuthTime, 0).UTC(),
	}
	s.admit(accessToken, &c, p, sess, keyGen)
	return p, nil
}

func (s *Service) verify(accessToken string, c *token.AccessClaims, now time.Time, ignoreExpiry bool) error {
	o := token.VerifyOptions{
		Issuer:       s.cfg.Issuer,
		Audience:     s.cfg.Audience,
		Now:          now,
		Leeway:       s.cfg.Leeway,
		MaxTTL:       s.cfg.AccessTTL,
		MaxLength:    s.cfg.MaxTokenBytes,
		IgnoreExpiry: ignoreExpiry,
	}
	return tokenError(s.keys.Verify(accessToken, &o, c))
}
