package core

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/core/token"
)

// TokenResponse is what login and refresh return.
type TokenResponse struct {
	AccessToken      string `json:"accessToken"`
	RefreshToken     string `json:"refreshToken,omitempty"`
	TokenType        string `json:"tokenType"`
	ExpiresIn        int64  `json:"expiresIn"`
	RefreshExpiresIn int64  `json:"refreshExpiresIn"`
	SessionID        string `json:"sessionId"`
}

// ClientInfo describes the caller of one request, for limits and audit.
type ClientInfo struct {
	IP        string
	UserAgent string
	RequestID string
}

// LoginInput is one login attempt.
type LoginInput struct {
	Email      string
	Password   string
	DeviceName string
	Client     ClientInfo
}

// Login checks the throttles, then the credentials, then creates a new
// session (never adopting a client-supplied id) and issues its tokens.
func (s *Service) Login(ctx context.Context, in LoginInput) (_ *TokenResponse, err error) {
	ctx, span := s.tel.Start(ctx, "authguard.Login")
	defer s.endLogin(ctx, span, &err)
	if err := checkLoginInput(in); err != nil {
		s.audit(ctx, slog.LevelInfo, "request_refused", in.Client, "", "", ReasonOf(err), slog.String("endpoint", "login"))
		return nil, err
	}
	now := s.now()
	accountKey, ipKey := "account:"+NormalizeEmail(in.Email), "ip:"+ipThrottleKey(in.Client.IP, s.cfg.LoginThrottle.IPv6Prefix)
	if err := s.checkThrottle(ctx, now, accountKey, ipKey); err != nil {
		s.audit(ctx, slog.LevelWarn, "login_throttled", in.Client, "", "", ReasonOf(err))
		return nil, err
	}
	// Count the attempt before the expensive check, so a burst of parallel
	// guesses cannot all pass the check above before any of them is counted.
	ipWindow, err := s.hitThrottle(ctx, now, accountKey, ipKey)
	if err != nil {
		if errors.Is(err, ErrTooManyRequests) {
			s.audit(ctx, slog.LevelWarn, "login_throttled", in.Client, "", "", ReasonOf(err))
		}
		return nil, err
	}
	id, err := s.auth.Authenticate(ctx, in.Email, in.Password)
	if err != nil {
		if !errors.Is(err, ErrInvalidCredentials) {
			s.audit(ctx, slog.LevelError, "login_error", in.Client, "", "", errText(err))
			return nil, asUnavailable(err, "authenticator")
		}
		if s.cfg.LoginThrottle.GlobalLimit > 0 && !s.cfg.LoginThrottle.DisabledUnsafe {
			if _, _, herr := s.throttle.Hit(ctx, globalThrottleKey, now, s.cfg.LoginThrottle.Window); herr != nil {
				s.log.WarnContext(ctx, "authguard: counting a failed login globally failed", slog.String("error", herr.Error()))
			}
		}
		s.audit(ctx, slog.LevelInfo, "login_failed", in.Client, id.Subject, "", ReasonOf(err))
		return nil, &Error{Kind: ErrInvalidGrant, Reason: ReasonOf(err), Err: err}
	}
	if s.throttle != nil && !s.cfg.LoginThrottle.DisabledUnsafe {
		// A success resets the address's count and takes back the IP's hit:
		// only failures stay counted against an IP.
		if err := s.throttle.Reset(ctx, accountKey); err != nil {
			s.log.WarnContext(ctx, "authguard: resetting the login throttle failed", slog.String("error", err.Error()))
		}
		if err := s.throttle.Forgive(ctx, ipKey, ipWindow); err != nil {
			s.log.WarnContext(ctx, "authguard: forgiving the login throttle failed", slog.String("error", err.Error()))
		}
	}
	sid, err := newSessionID()
	if err != nil {
		return nil, err
	}
	secret, err := newSecret()
	if err != nil {
		return nil, newError(ErrInternal, "random", err)
	}
	tok, err := mintRefresh(sid, 0, secret)
	if err != nil {
		return nil, newError(ErrInternal, "mint", err)
	}
	sess := s.cfg.newSessionState(sid, id.Subject, in.Client, in.DeviceName, tokenDigest(tok), secretDigest(secret), now)
	resp, err := s.issue(now, &sess, id, tok)
	if err != nil {
		return nil, err
	}
	if err := s.sessions.CreateSession(ctx, sess); err != nil {
		s.audit(ctx, slog.LevelError, "login_error", in.Client, id.Subject, sid, errText(err))
		return nil, newError(ErrUnavailable, "session_store", err)
	}
	s.live.remember(&sess)
	s.audit(ctx, slog.LevelInfo, "login_succeeded", in.Client, id.Subject, sid, "")
	return resp, nil
}

// checkLoginInput refuses a login without an e-mail address or password
// (Reason "missing_email", "missing_password") or with one too long (see
// CheckCredentialLengths), before any store access or hashing.
func checkLoginInput(in LoginInput) error {
	switch {
	case in.Email == "":
		return newError(ErrInvalidRequest, "missing_email", nil)
	case in.Password == "":
		return newError(ErrInvalidRequest, "missing_password", nil)
	}
	return CheckCredentialLengths(in.Email, in.Password)
}

// issue mints an access token for sess and builds the token response. The
// access token never outlives the session's deadlines.
func (s *Service) issue(now time.Time, sess *store.Session, id Identity, refresh string) (*TokenResponse, error) {
	deadline := minTime(sess.IdleExpiresAt, sess.AbsoluteExpiresAt)
	exp := minTime(now.Add(s.cfg.AccessTTL), deadline)
	if exp.Unix() <= now.Unix() {
		// Less than a second of the session is left: no token could be valid.
		return nil, newError(ErrInvalidGrant, "session_expiring", nil)
	}
	jti, err := randomID(16)
	if err != nil {
		return nil, err
	}
	roles := id.Roles
	if roles == nil {
		roles = []string{}
	}
	claims := token.AccessClaims{
		Issuer:    s.cfg.Issuer,
		Subject:   id.Subject,
		Audience:  []string{s.cfg.Audience},
		ExpiresAt: exp.Unix(),
		IssuedAt:  now.Unix(),
		AuthTime:  sess.AuthTime.Unix(),
		ID:        jti,
		SessionID: sess.ID,
		Roles:     roles,
		Tenant:    id.Tenant,
	}
	at, err := s.keys.Sign(&claims)
	if err != nil {
		return nil, newError(ErrInternal, "sign", err)
	}
	return &TokenResponse{
		AccessToken:      at,
		RefreshToken:     refresh,
		TokenType:        "Bearer",
		ExpiresIn:        claims.ExpiresAt - claims.IssuedAt,
		RefreshExpiresIn: int64(deadline.Sub(now) / time.Second),
		SessionID:        sess.ID,
	}, nil
}
