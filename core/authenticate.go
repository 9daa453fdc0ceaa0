package core

import (
	"context"
	"time"

	"github.com/authguard/authguard/core/token"
)

// Authenticate verifies an access token (strictly, see token.KeySet.Verify) and
// checks that its session is live, with no store round trip. It is the hot
// path of every guard.
func (s *Service) Authenticate(ctx context.Context, accessToken string) (*Principal, error) {
	var c token.AccessClaims
	now := s.now()
	if err := s.verify(accessToken, &c, now, false); err != nil {
		return nil, err
	}
	if err := s.live.check(ctx, s.sessions, c.SessionID, c.Subject, now); err != nil {
		return nil, err
	}
	return &Principal{
		Subject:   c.Subject,
		SessionID: c.SessionID,
		Roles:     c.Roles,
		TokenID:   c.ID,
		IssuedAt:  time.Unix(c.IssuedAt, 0).UTC(),
		ExpiresAt: time.Unix(c.ExpiresAt, 0).UTC(),
		AuthTime:  time.Unix(c.AuthTime, 0).UTC(),
	}, nil
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
