package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/core/token"
)

// Service is the transport-neutral authentication engine: login, access
// tokens, refresh-token rotation with reuse detection, logout, sessions and
// guards. It is safe for concurrent use. Create it with New and stop its
// background revocation poller with Close.
type Service struct {
	cfg      Config
	keys     *token.KeySet
	sessions store.Sessions
	throttle store.Throttle
	auth     Authenticator
	authz    Authorizer
	log      *slog.Logger
	now      func() time.Time
	live     *liveness
	repairs  repairs

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

// New validates cfg, applies defaults, reads the revocation feed once (an
// unreachable store is an error: the service must not start blind) and starts
// the background poller.
func New(cfg Config) (*Service, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Service{
		cfg:      c,
		keys:     c.Keys,
		sessions: c.Store,
		throttle: c.Throttle,
		auth:     c.Authenticator,
		authz:    c.Authorizer,
		log:      c.Logger,
		now:      c.Now,
		live:     newLiveness(c.RevocationMaxStaleness, c.AccessTTL+c.Leeway+time.Minute, c.MaxLiveSessions),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if s.authz == nil {
		s.authz = StaticAuthorizer(nil)
	}
	if sp, ok := c.Store.(interface{ SingleProcessOnly() bool }); ok && sp.SingleProcessOnly() {
		s.log.Warn("authguard: the session store is single-process only: run exactly one instance, and expect every user to log in again after a restart")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.live.sync(ctx, s.sessions, s.now()); err != nil {
		return nil, fmt.Errorf("%w: reading the revocation feed: %w", ErrUnavailable, err)
	}
	go s.poll()
	return s, nil
}

// Close stops the background poller. It does not close the store.
func (s *Service) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.done
	return nil
}

// Config returns the effective configuration (defaults applied).
func (s *Service) Config() Config { return s.cfg }

// Keys returns the key set the service signs with.
func (s *Service) Keys() *token.KeySet { return s.keys }

func (s *Service) poll() {
	defer close(s.done)
	t := time.NewTicker(s.cfg.RevocationPollInterval)
	defer t.Stop()
	const pruneEvery = time.Hour
	lastPrune := time.Now()
	failing := false
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RevocationMaxStaleness)
		err := s.live.sync(ctx, s.sessions, s.now())
		if err != nil && !failing {
			s.log.Error("authguard: revocation feed unreachable; guards fail closed until it recovers", slog.String("error", err.Error()))
		} else if err == nil && failing {
			s.log.Info("authguard: revocation feed reachable again")
		}
		failing = err != nil
		if err == nil {
			s.repair(ctx)
		}
		if err == nil && time.Since(lastPrune) >= pruneEvery {
			lastPrune = time.Now()
			retain := max(24*time.Hour, s.cfg.AccessTTL+s.cfg.Leeway+time.Hour)
			if n, err := s.sessions.Prune(ctx, s.now().Add(-retain)); err != nil {
				s.log.Warn("authguard: pruning sessions failed", slog.String("error", err.Error()))
			} else if n > 0 {
				s.log.Debug("authguard: pruned sessions", slog.Int("count", n))
			}
		}
		cancel()
	}
}

// SyncRevocations reads the revocation feed now (the poller does this every
// RevocationPollInterval). Useful in tests and after a known outage.
func (s *Service) SyncRevocations(ctx context.Context) error {
	if err := s.live.sync(ctx, s.sessions, s.now()); err != nil {
		return newError(ErrUnavailable, "revocation_feed", err)
	}
	return nil
}

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
func (s *Service) Login(ctx context.Context, in LoginInput) (*TokenResponse, error) {
	if in.Email == "" || in.Password == "" {
		return nil, newError(ErrInvalidRequest, "missing_credentials", nil)
	}
	if err := CheckCredentialLengths(in.Email, in.Password); err != nil {
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

func (s *Service) checkThrottle(ctx context.Context, now time.Time, keys ...string) error {
	if s.cfg.LoginThrottle.DisabledUnsafe {
		return nil
	}
	w := s.cfg.LoginThrottle.Window
	limits := s.throttleLimits()
	if limits[2] > 0 {
		keys = append(keys, globalThrottleKey)
	}
	for i, k := range keys {
		n, start, err := s.throttle.Peek(ctx, k, now, w)
		if err != nil {
			return newError(ErrUnavailable, "throttle_store", err)
		}
		if n >= limits[i] {
			return &Error{Kind: ErrTooManyRequests, Reason: throttleReasons[i], RetryAfter: start.Add(w).Sub(now)}
		}
	}
	return nil
}

// ipThrottleKey is the client's throttle identity: an IPv4 address as it is,
// an IPv6 address masked to prefix bits (a /64 is one client, however many
// addresses it rotates through), anything unparsable as given.
func ipThrottleKey(ip string, prefix int) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if !a.Is6() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(prefix)
	if err != nil {
		return a.String()
	}
	return p.String()
}

// globalThrottleKey counts failed logins across all accounts and addresses.
const globalThrottleKey = "global:"

func (s *Service) throttleLimits() [3]int {
	t := s.cfg.LoginThrottle
	return [3]int{t.AccountLimit, t.IPLimit, t.GlobalLimit}
}

// hitThrottle counts one credential check against each key (account, then
// IP) before the check runs, so a burst of parallel guesses cannot all pass
// checkThrottle before any is counted, and refuses the attempt when a burst
// pushed a count past its limit. It returns the IP window's start, for
// Forgive after a success.
func (s *Service) hitThrottle(ctx context.Context, now time.Time, keys ...string) (time.Time, error) {
	var last time.Time
	if s.cfg.LoginThrottle.DisabledUnsafe {
		return last, nil
	}
	limits := s.throttleLimits()
	w := s.cfg.LoginThrottle.Window
	for i, k := range keys {
		n, start, err := s.throttle.Hit(ctx, k, now, w)
		if err != nil {
			return last, newError(ErrUnavailable, "throttle_store", err)
		}
		if n > limits[i] {
			return last, &Error{Kind: ErrTooManyRequests, Reason: throttleReasons[i] + "_burst", RetryAfter: start.Add(w).Sub(now)}
		}
		last = start
	}
	return last, nil
}

var throttleReasons = [...]string{"account_limit", "ip_limit", "global_limit"}

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
	ps, ok := s.auth.(PasswordSetter)
	if !ok {
		return 0, fmt.Errorf("%w: the Authenticator cannot set passwords", ErrConfig)
	}
	if err := ps.SetPassword(ctx, subject, newPassword); err != nil {
		return 0, err
	}
	return s.revokeSubject(ctx, subject, keepSession, "password_changed", ClientInfo{})
}

// Authorize asks the configured Authorizer. It returns nil when allowed,
// ErrInsufficientScope when denied and ErrUnavailable when the policy engine
// fails (fail closed).
func (s *Service) Authorize(ctx context.Context, p *Principal, object, action string) error {
	ok, err := s.authz.Authorize(ctx, p, object, action)
	if err != nil {
		s.log.ErrorContext(ctx, "authguard: authorizer failed", slog.String("error", err.Error()))
		return newError(ErrUnavailable, "authorizer", err)
	}
	if !ok {
		return newError(ErrInsufficientScope, "permission_denied", nil)
	}
	return nil
}

// StaticAuthorizer maps a role to the permissions it grants, each written
// "object:action" (split at the last colon, so route patterns such as
// "/api/reports/:id:DELETE" work); "*" matches any object or action
// ("reports:*", "*:*").
// It is the simple default until a policy engine is plugged in; a nil map
// denies everything.
type StaticAuthorizer map[string][]string

// Authorize implements Authorizer.
func (a StaticAuthorizer) Authorize(_ context.Context, p *Principal, object, action string) (bool, error) {
	if p == nil {
		return false, nil
	}
	for _, r := range p.Roles {
		for _, perm := range a[r] {
			i := strings.LastIndexByte(perm, ':')
			if i < 0 {
				continue
			}
			obj, act, ok := perm[:i], perm[i+1:], true
			if ok && (obj == "*" || obj == object) && (act == "*" || act == action) {
				return true, nil
			}
		}
	}
	return false, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// asUnavailable keeps an error that already carries a kind, and otherwise
// wraps it as ErrUnavailable.
func asUnavailable(err error, reason string) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return newError(ErrUnavailable, reason, err)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
