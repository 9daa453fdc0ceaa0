package core

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/authguard/authguard/core/store"
)

// Identity is who an Authenticator recognised.
type Identity struct {
	Subject string
	Roles   []string
}

// Authenticator checks login credentials. Implementations return an error
// wrapping ErrInvalidCredentials for an unknown user, a wrong password, or a
// locked or disabled account (the Reason of an *Error says which, for the log
// only), and an error wrapping ErrUnavailable when their backend is down.
type Authenticator interface {
	// Authenticate checks an e-mail address and password. On failure it may
	// return the Subject of a known account, which goes to the audit log only.
	Authenticate(ctx context.Context, email, password string) (Identity, error)
	// Lookup returns the current identity of subject at refresh time;
	// ErrInvalidCredentials when the account no longer exists or may not log in.
	Lookup(ctx context.Context, subject string) (Identity, error)
}

// Authorizer decides permissions. It must deny by default; an error denies
// and is answered with 503.
type Authorizer interface {
	Authorize(ctx context.Context, p *Principal, object, action string) (bool, error)
}

// ThrottleConfig sets the login throttling limits.
type ThrottleConfig struct {
	// AccountLimit is how many failed logins one e-mail address may have in
	// Window before further attempts get 429 (default 10).
	AccountLimit int
	// IPLimit is the same for one client IP (default 100).
	IPLimit int
	// GlobalLimit, when positive, bounds failed logins across all accounts
	// and addresses in Window (default 0: off). Every login is refused with
	// 429 while it is reached, so set it well above normal traffic: it is a
	// brake on a distributed attack, and one an attacker can pull.
	GlobalLimit int
	// Window is the counting window (default 15m).
	Window time.Duration
	// Disabled turns throttling off. Loudly named on purpose; never in production.
	DisabledUnsafe bool
}

// CookieConfig sets the cookie transport for web clients.
type CookieConfig struct {
	// SameSite is "Strict" (default) or "Lax".
	SameSite string
	// AllowedOrigins may send cookie-transport requests (default: the origin
	// of the issuer URL).
	AllowedOrigins []string
	// AccessCookie, when set, names a cookie the guards also accept as the
	// access-token credential (off by default).
	AccessCookie string
}

// Config configures a Service. Zero values take the documented defaults.
type Config struct {
	// Issuer is the iss claim and, by default, the origin allowed for cookie
	// transport (required).
	Issuer string
	// Audience is the aud claim (required).
	Audience string
	// Keys signs and verifies access tokens (required).
	Keys *KeySet
	// Store keeps sessions and the revocation feed (required).
	Store store.Sessions
	// Throttle keeps login failure counters (required unless throttling is
	// disabled; defaults to Store when it implements store.Throttle).
	Throttle store.Throttle
	// Authenticator checks login credentials (required).
	Authenticator Authenticator
	// Authorizer decides RequirePermission (default: deny everything).
	Authorizer Authorizer

	// AccessTTL is the access-token lifetime (default 10m, at most 24h).
	AccessTTL time.Duration
	// RefreshIdleTTL ends a session not refreshed for that long (default 336h).
	RefreshIdleTTL time.Duration
	// RefreshAbsoluteTTL ends every session that long after login (default 720h).
	RefreshAbsoluteTTL time.Duration
	// RefreshGrace is the window in which a replay of the previous refresh
	// token returns the same successor (default 10s, at most 60s; a negative
	// value means no grace window at all).
	RefreshGrace time.Duration
	// RefreshGraceReplays bounds replays within the window (default 10).
	RefreshGraceReplays int
	// Leeway is the clock leeway on exp, nbf and iat (default 5s, at most
	// 60s; a negative value means no leeway at all).
	Leeway time.Duration
	// MaxTokenBytes caps the raw access token length (default 8192).
	MaxTokenBytes int

	// Throttle limits for login.
	LoginThrottle ThrottleConfig
	// TrustedProxies are the peers whose X-Forwarded-For is believed (default none).
	TrustedProxies []netip.Prefix
	// Realm is the WWW-Authenticate realm (default "authguard").
	Realm string
	// MountPrefix is where the token endpoints live (default "/auth").
	MountPrefix string
	// Cookie configures cookie transport.
	Cookie CookieConfig

	// RevocationPollInterval is how often the revocation feed is read
	// (default 250ms): other instances see a revocation within about that.
	RevocationPollInterval time.Duration
	// RevocationMaxStaleness is how old the last successful feed read may be
	// before guards answer 503 instead of trusting the cache (default 3s).
	RevocationMaxStaleness time.Duration

	// Logger receives the audit events (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now). Tests inject a settable one.
	Now func() time.Time
}

// Limits enforced on configuration.
const (
	MaxLeeway       = 60 * time.Second
	MaxRefreshGrace = 60 * time.Second
	MaxAccessTTL    = 24 * time.Hour
)

func (c *Config) withDefaults() (Config, error) {
	cfg := *c
	bad := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	if cfg.Issuer == "" {
		return bad("Issuer is required")
	}
	if cfg.Audience == "" {
		return bad("Audience is required")
	}
	if cfg.Keys == nil {
		return bad("Keys is required")
	}
	if cfg.Store == nil {
		return bad("Store is required")
	}
	if cfg.Authenticator == nil {
		return bad("Authenticator is required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	// Zero takes the default; a negative leeway or grace asks for none.
	none := func(d *time.Duration) {
		if *d < 0 {
			*d = 0
		} else if *d == 0 {
			*d = -1 // marker: take the default below
		}
	}
	none(&cfg.Leeway)
	none(&cfg.RefreshGrace)
	defNeg := func(d *time.Duration, v time.Duration) {
		if *d == -1 {
			*d = v
		}
	}
	defNeg(&cfg.Leeway, 5*time.Second)
	defNeg(&cfg.RefreshGrace, 10*time.Second)
	def(&cfg.AccessTTL, 10*time.Minute)
	def(&cfg.RefreshIdleTTL, 336*time.Hour)
	def(&cfg.RefreshAbsoluteTTL, 720*time.Hour)
	def(&cfg.LoginThrottle.Window, 15*time.Minute)
	def(&cfg.RevocationPollInterval, 250*time.Millisecond)
	def(&cfg.RevocationMaxStaleness, 3*time.Second)
	if cfg.RefreshGraceReplays == 0 {
		cfg.RefreshGraceReplays = 10
	}
	if cfg.MaxTokenBytes == 0 {
		cfg.MaxTokenBytes = 8192
	}
	if cfg.LoginThrottle.AccountLimit == 0 {
		cfg.LoginThrottle.AccountLimit = 10
	}
	if cfg.LoginThrottle.IPLimit == 0 {
		cfg.LoginThrottle.IPLimit = 100
	}
	if cfg.Realm == "" {
		cfg.Realm = "authguard"
	}
	if cfg.MountPrefix == "" {
		cfg.MountPrefix = "/auth"
	}
	cfg.MountPrefix = "/" + strings.Trim(cfg.MountPrefix, "/")
	if cfg.Cookie.SameSite == "" {
		cfg.Cookie.SameSite = "Strict"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	switch {
	case cfg.AccessTTL < time.Second || cfg.AccessTTL > MaxAccessTTL:
		return bad("AccessTTL %s is outside [1s, %s]", cfg.AccessTTL, MaxAccessTTL)
	case cfg.Leeway < 0 || cfg.Leeway > MaxLeeway:
		return bad("Leeway %s is outside [0, %s]", cfg.Leeway, MaxLeeway)
	case cfg.RefreshGrace < 0 || cfg.RefreshGrace > MaxRefreshGrace:
		return bad("RefreshGrace %s is outside [0, %s]", cfg.RefreshGrace, MaxRefreshGrace)
	case cfg.RefreshGraceReplays < 0:
		return bad("RefreshGraceReplays must not be negative")
	case cfg.RefreshIdleTTL <= 0 || cfg.RefreshAbsoluteTTL <= 0:
		return bad("refresh lifetimes must be positive")
	case cfg.RefreshIdleTTL > cfg.RefreshAbsoluteTTL:
		return bad("RefreshIdleTTL %s exceeds RefreshAbsoluteTTL %s", cfg.RefreshIdleTTL, cfg.RefreshAbsoluteTTL)
	case cfg.MaxTokenBytes < 256 || cfg.MaxTokenBytes > 1<<20:
		return bad("MaxTokenBytes %d is outside [256, 1 MiB]", cfg.MaxTokenBytes)
	case cfg.LoginThrottle.AccountLimit < 0 || cfg.LoginThrottle.IPLimit < 0 || cfg.LoginThrottle.GlobalLimit < 0 || cfg.LoginThrottle.Window < 0:
		return bad("LoginThrottle limits must not be negative")
	case cfg.Cookie.SameSite != "Strict" && cfg.Cookie.SameSite != "Lax":
		return bad("Cookie.SameSite must be Strict or Lax, not %q", cfg.Cookie.SameSite)
	case cfg.RevocationPollInterval < time.Millisecond || cfg.RevocationMaxStaleness < cfg.RevocationPollInterval:
		return bad("RevocationMaxStaleness must be at least RevocationPollInterval")
	}
	if cfg.Throttle == nil && !cfg.LoginThrottle.DisabledUnsafe {
		t, ok := cfg.Store.(store.Throttle)
		if !ok {
			return bad("Throttle is required (Store does not implement store.Throttle)")
		}
		cfg.Throttle = t
	}
	if len(cfg.Cookie.AllowedOrigins) == 0 {
		u, err := url.Parse(cfg.Issuer)
		if err == nil && u.Scheme != "" && u.Host != "" {
			cfg.Cookie.AllowedOrigins = []string{u.Scheme + "://" + u.Host}
		}
	}
	origins := make([]string, 0, len(cfg.Cookie.AllowedOrigins))
	for _, o := range cfg.Cookie.AllowedOrigins {
		origins = append(origins, strings.TrimRight(strings.TrimSpace(o), "/"))
	}
	cfg.Cookie.AllowedOrigins = origins
	cfg.TrustedProxies = append([]netip.Prefix(nil), cfg.TrustedProxies...)
	return cfg, nil
}
