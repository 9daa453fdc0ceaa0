package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"path"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/core/token"
)

// Identity is who an Authenticator recognised.
type Identity struct {
	Subject string
	Roles   []string
	// Tenant is the tenant the account belongs to, carried by the access
	// token as the claim "tenant" and read back as Principal.Tenant; empty
	// for single-tenant apps (the token then has no such claim). At most
	// token.MaxTenantLength bytes of valid UTF-8: a longer one fails the
	// login or refresh with ErrInternal.
	Tenant string
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

// RoleChecker is an optional interface of an Authorizer whose policy, not
// the access token, says which roles a subject holds (as the rbac module's
// does). When the configured Authorizer implements it, Service.CheckRole
// asks it instead of reading the token's roles claim, so a role taken away
// in the policy is refused on the next request. Like Authorize, it must
// deny by default; an error denies and is answered with 503.
type RoleChecker interface {
	// HasAnyRole reports whether p holds at least one of roles.
	HasAnyRole(ctx context.Context, p *Principal, roles ...string) (bool, error)
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
	// IPv6Prefix is the prefix length under which IPv6 clients are counted
	// together for IPLimit (default 64: a client rotating addresses within
	// its /64 is still one client; 128 counts each address). IPv4 clients
	// are counted per address.
	IPv6Prefix int
	// DisabledUnsafe turns throttling off. Loudly named on purpose; never in production.
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
	Keys *token.KeySet
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

	// LoginThrottle sets the failed-login limits (default 10 per address
	// and 100 per IP in 15 minutes, no global limit).
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
	// When the store is a store.Notifier (Redis, PostgreSQL), every instance
	// reads the feed as soon as the store announces a change, and polling is
	// only the fallback for lost announcements: the default is then 500ms
	// (a third of RevocationMaxStaleness when that is under 1.5s, at least
	// 250ms), so that a revocation whose announcement is lost still reaches
	// every instance well within a second.
	RevocationPollInterval time.Duration
	// RevocationMaxStaleness is how old the last successful feed read may be
	// before guards answer 503 instead of trusting the cache (default 3s).
	RevocationMaxStaleness time.Duration
	// StoreTimeout bounds each call the core makes to Store, Throttle and
	// Authenticator.Lookup (default 2s): a store that hangs is answered
	// with 503 temporarily_unavailable within about that, never with a
	// 400 or 401. A request makes its calls one after another, and a write
	// whose answer is lost is read back once, so a refresh or logout takes
	// at most about twice StoreTimeout when the store fails mid-write. The
	// bound is per call, not per request: a store that answers every call
	// just within it makes a request take up to its number of calls times
	// StoreTimeout (a login makes about 8, a refresh 3).
	// Authenticate is not bounded here (it hashes): an Authenticator bounds
	// its own backend, as password.Options.StoreTimeout does.
	StoreTimeout time.Duration
	// MaxLiveSessions bounds the sessions an instance remembers as live, so
	// that guards read the store only at a session's first sight (default
	// 100000; beyond it the least lucky entries are read again).
	MaxLiveSessions int
	// TokenCacheMaxEntries bounds the cache of verified access tokens
	// (default 200000; negative turns the cache off). A token that passed
	// every check of a guard is kept there, so that its next request costs
	// a map lookup instead of a signature verification; a cached token is
	// still refused once it expires, once its session is revoked (here or on
	// any instance sharing the store), or once a key is removed from the key
	// set. Tokens that fail a check are never cached. When full, the entries
	// least recently read go first.
	TokenCacheMaxEntries int
	// TokenCacheMaxBytes bounds the memory of the token cache, counting each
	// entry as its token's length, its decoded claims and 448 bytes (about
	// 1.2 KB for an EdDSA access token of the usual shape; default 128 MiB,
	// at least 64 KiB): whichever of the two bounds is reached first applies.
	TokenCacheMaxBytes int

	// MeterProvider receives the service's metrics (login, refresh,
	// revocation and guard counters, token-cache lookups, store call
	// durations; see "Metrics and traces" in core/README.md). Default: none. The core
	// does not read OpenTelemetry's global provider on its own, since the
	// otel package brings net/http along; pass otel.GetMeterProvider() to
	// use it.
	MeterProvider metric.MeterProvider
	// TracerProvider receives spans around login, refresh and every store
	// call (never on a guard's cache hit). Default: none; pass
	// otel.GetTracerProvider() to use the global provider.
	TracerProvider trace.TracerProvider

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

// withDefaults returns c with the documented defaults applied, or every
// problem of c at once (each wrapping ErrConfig).
func (c *Config) withDefaults() (Config, error) {
	cfg := *c
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		return Config{}, err
	}
	if cfg.Throttle == nil && !cfg.LoginThrottle.DisabledUnsafe {
		cfg.Throttle = cfg.Store.(store.Throttle) // validate checked it
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

// applyDefaults fills in every zero value. A negative Leeway or RefreshGrace
// asks for none.
func (c *Config) applyDefaults() {
	orNone := func(d *time.Duration, v time.Duration) {
		switch {
		case *d < 0:
			*d = 0
		case *d == 0:
			*d = v
		}
	}
	orNone(&c.Leeway, 5*time.Second)
	orNone(&c.RefreshGrace, 10*time.Second)
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.AccessTTL, 10*time.Minute)
	def(&c.RefreshIdleTTL, 336*time.Hour)
	def(&c.RefreshAbsoluteTTL, 720*time.Hour)
	def(&c.LoginThrottle.Window, 15*time.Minute)
	def(&c.RevocationMaxStaleness, 3*time.Second)
	if _, ok := c.Store.(store.Notifier); ok {
		// Polling is the fallback: a third of the staleness bound, in [250ms, 500ms].
		def(&c.RevocationPollInterval, min(500*time.Millisecond, max(250*time.Millisecond, c.RevocationMaxStaleness/3)))
	}
	def(&c.RevocationPollInterval, 250*time.Millisecond)
	def(&c.StoreTimeout, 2*time.Second)
	defInt := func(n *int, v int) {
		if *n == 0 {
			*n = v
		}
	}
	defInt(&c.RefreshGraceReplays, 10)
	defInt(&c.MaxTokenBytes, 8192)
	defInt(&c.LoginThrottle.AccountLimit, 10)
	defInt(&c.LoginThrottle.IPLimit, 100)
	defInt(&c.LoginThrottle.IPv6Prefix, 64)
	defInt(&c.MaxLiveSessions, 100000)
	defInt(&c.TokenCacheMaxEntries, 200000)
	defInt(&c.TokenCacheMaxBytes, 128<<20)
	defStr := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	defStr(&c.Realm, "authguard")
	defStr(&c.MountPrefix, "/auth")
	c.MountPrefix = "/" + strings.Trim(c.MountPrefix, "/") // "auth/" means "/auth"
	defStr(&c.Cookie.SameSite, "Strict")
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// validate reports every problem of a configuration with defaults applied.
func (c *Config) validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
		}
	}
	check(c.Issuer != "", "Issuer is required")
	check(c.Audience != "", "Audience is required")
	check(c.Keys != nil, "Keys is required")
	check(c.Store != nil, "Store is required")
	check(c.Authenticator != nil, "Authenticator is required")
	check(c.AccessTTL >= time.Second && c.AccessTTL <= MaxAccessTTL, "AccessTTL %s is outside [1s, %s]", c.AccessTTL, MaxAccessTTL)
	check(c.AccessTTL%time.Second == 0, "AccessTTL %s is not a whole number of seconds (tokens carry their lifetime in seconds)", c.AccessTTL)
	check(c.Leeway <= MaxLeeway, "Leeway %s is over %s", c.Leeway, MaxLeeway)
	check(c.RefreshGrace <= MaxRefreshGrace, "RefreshGrace %s is over %s", c.RefreshGrace, MaxRefreshGrace)
	check(c.RefreshGraceReplays >= 0, "RefreshGraceReplays must not be negative")
	check(c.RefreshIdleTTL > 0 && c.RefreshAbsoluteTTL > 0, "RefreshIdleTTL and RefreshAbsoluteTTL must be positive")
	check(c.RefreshIdleTTL <= c.RefreshAbsoluteTTL, "RefreshIdleTTL %s exceeds RefreshAbsoluteTTL %s", c.RefreshIdleTTL, c.RefreshAbsoluteTTL)
	check(c.MaxLiveSessions > 0, "MaxLiveSessions must be positive")
	check(c.TokenCacheMaxBytes >= 64<<10, "TokenCacheMaxBytes %d is under 64 KiB", c.TokenCacheMaxBytes)
	check(validMountPrefix(c.MountPrefix), "MountPrefix %q must be a clean absolute path other than \"/\" (for example \"/auth\" or \"/api/v1/auth\")", c.MountPrefix)
	check(c.MaxTokenBytes >= 256 && c.MaxTokenBytes <= 1<<20, "MaxTokenBytes %d is outside [256, 1 MiB]", c.MaxTokenBytes)
	t := c.LoginThrottle
	check(t.AccountLimit >= 0 && t.IPLimit >= 0 && t.GlobalLimit >= 0 && t.Window >= 0, "LoginThrottle limits must not be negative")
	check(t.IPv6Prefix >= 1 && t.IPv6Prefix <= 128, "LoginThrottle.IPv6Prefix %d is outside [1, 128]", t.IPv6Prefix)
	check(c.Cookie.SameSite == "Strict" || c.Cookie.SameSite == "Lax", "Cookie.SameSite must be Strict or Lax, not %q", c.Cookie.SameSite)
	check(c.RevocationPollInterval >= time.Millisecond && c.RevocationMaxStaleness >= c.RevocationPollInterval,
		"RevocationMaxStaleness must be at least RevocationPollInterval (at least 1ms)")
	check(c.StoreTimeout >= time.Millisecond, "StoreTimeout %s is under 1ms", c.StoreTimeout)
	if c.Store != nil && c.Throttle == nil && !t.DisabledUnsafe {
		_, ok := c.Store.(store.Throttle)
		check(ok, "Throttle is required (Store does not implement store.Throttle)")
	}
	return errors.Join(errs...)
}

// validMountPrefix reports whether p is a clean rooted path under which the
// token endpoints can live: not "/", no empty, "." or ".." segment, no
// trailing slash, and only characters a route can match literally.
func validMountPrefix(p string) bool {
	if p == "/" || path.Clean(p) != p || !strings.HasPrefix(p, "/") {
		return false
	}
	for _, r := range p {
		if !(r == '/' || r == '-' || r == '_' || r == '.' || r == '~' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return false
		}
	}
	return true
}
