// Package demo is the wiring the example servers (chi, gin, fiber) share:
// configuration from the AUTHGUARD_* environment variables of the wire
// contract, the store, the signing key, the demo users and policy, the HTTP
// server with clean shutdown, and the bodies of the demo API. Each example's
// main only builds its router.
package demo

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/authguard/authguard/core"
)

// Environment variables of the example servers (see the contract's "Example
// servers" section).
const (
	EnvAddr               = "AUTHGUARD_ADDR"
	EnvStore              = "AUTHGUARD_STORE"
	EnvAccessTTL          = "AUTHGUARD_ACCESS_TTL"
	EnvRefreshIdleTTL     = "AUTHGUARD_REFRESH_IDLE_TTL"
	EnvRefreshAbsoluteTTL = "AUTHGUARD_REFRESH_ABSOLUTE_TTL"
	EnvRefreshGrace       = "AUTHGUARD_REFRESH_GRACE"
	EnvLeeway             = "AUTHGUARD_LEEWAY"
	EnvAllowedOrigins     = "AUTHGUARD_ALLOWED_ORIGINS"
	EnvIssuer             = "AUTHGUARD_ISSUER"
	EnvAudience           = "AUTHGUARD_AUDIENCE"
	EnvSigningKey         = "AUTHGUARD_SIGNING_KEY"
	EnvDemoPassword       = "AUTHGUARD_DEMO_PASSWORD"
	EnvMetrics            = "AUTHGUARD_METRICS"
)

// Defaults of the contract.
const (
	DefaultAddr               = "127.0.0.1:8080"
	DefaultStore              = "sqlite:authguard-demo.db"
	DefaultAccessTTL          = 10 * time.Minute
	DefaultRefreshIdleTTL     = 336 * time.Hour
	DefaultRefreshAbsoluteTTL = 720 * time.Hour
	DefaultRefreshGrace       = 10 * time.Second
	DefaultLeeway             = 5 * time.Second
	DefaultAudience           = "authguard-demo"
	DefaultDemoPassword       = "demo-password"
)

// Store kinds of AUTHGUARD_STORE.
const (
	StoreSQLite   = "sqlite"
	StoreMemory   = "memory"
	StoreRedis    = "redis"
	StorePostgres = "postgres"
)

// StoreSpec is a parsed AUTHGUARD_STORE.
type StoreSpec struct {
	// Kind is StoreSQLite, StoreMemory, StoreRedis or StorePostgres.
	Kind string
	// Location is the SQLite path, or the redis or postgres URL (which may
	// hold a password: log String(), never Location), or "" for memory.
	Location string
}

// String returns the store as written in AUTHGUARD_STORE, with any password
// replaced by "xxxxx": safe to log.
func (s StoreSpec) String() string {
	switch s.Kind {
	case StoreMemory:
		return "memory:"
	case StoreSQLite:
		return "sqlite:" + s.Location
	}
	return redactURL(s.Location)
}

// GoString is String, so %#v does not print a password either.
func (s StoreSpec) GoString() string { return s.String() }

// LogValue implements slog.LogValuer with the redacted form.
func (s StoreSpec) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Config is the example servers' configuration, read by LoadConfig.
type Config struct {
	// Addr is the listen address (AUTHGUARD_ADDR).
	Addr string
	// Store is the parsed AUTHGUARD_STORE.
	Store StoreSpec
	// Token and session lifetimes (Go durations in the environment).
	AccessTTL          time.Duration
	RefreshIdleTTL     time.Duration
	RefreshAbsoluteTTL time.Duration
	RefreshGrace       time.Duration
	Leeway             time.Duration
	// AllowedOrigins may use cookie transport and get CORS answers
	// (AUTHGUARD_ALLOWED_ORIGINS, default the issuer's origin).
	AllowedOrigins []string
	// Issuer and Audience are the iss and aud claims.
	Issuer   string
	Audience string
	// SigningKeyFile is the PEM file of AUTHGUARD_SIGNING_KEY ("" = a key
	// kept next to the store).
	SigningKeyFile string
	// DemoPassword is the password given to the demo users when they are
	// created. Never log it.
	DemoPassword string
	// DemoPasswordFromEnv is true when AUTHGUARD_DEMO_PASSWORD was set: the
	// password is then never printed.
	DemoPasswordFromEnv bool
	// Metrics is true when AUTHGUARD_METRICS=1: the service reports
	// OpenTelemetry metrics, served at /metrics in the Prometheus format.
	Metrics bool
}

// String describes the configuration without the demo password and with
// store credentials redacted.
func (c Config) String() string {
	return fmt.Sprintf("demo.Config{Addr:%s Store:%s Issuer:%s Audience:%s AllowedOrigins:%v AccessTTL:%s RefreshIdleTTL:%s RefreshAbsoluteTTL:%s RefreshGrace:%s Leeway:%s SigningKeyFile:%q}",
		c.Addr, c.Store, c.Issuer, c.Audience, c.AllowedOrigins, c.AccessTTL, c.RefreshIdleTTL,
		c.RefreshAbsoluteTTL, c.RefreshGrace, c.Leeway, c.SigningKeyFile)
}

// GoString is String, so %#v does not print the password either.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer: no password, store redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("addr", c.Addr),
		slog.String("store", c.Store.String()),
		slog.String("issuer", c.Issuer),
		slog.String("audience", c.Audience),
		slog.Any("allowed_origins", c.AllowedOrigins),
		slog.Bool("metrics", c.Metrics),
	)
}

// OriginAllowed reports whether origin (an Origin header value) is one of
// AllowedOrigins. The gin and fiber examples apply their CORS middleware
// only to requests without an Origin or from an allowed one: requests from
// other origins get no CORS header and reach the handlers, where the core
// decides (400 invalid_request for a cross-origin cookie-transport request),
// instead of a 403 from the middleware.
func (c Config) OriginAllowed(origin string) bool {
	o := strings.ToLower(strings.TrimRight(strings.TrimSpace(origin), "/"))
	for _, a := range c.AllowedOrigins {
		if o == a {
			return true
		}
	}
	return false
}

// LoadConfig reads every AUTHGUARD_* variable of the contract through getenv
// (os.Getenv in the servers; an unset and an empty variable are the same)
// and applies the contract's defaults. A value that cannot be used is an
// error naming the variable; nothing is silently replaced by a default.
func LoadConfig(getenv func(string) string) (Config, error) {
	env := func(name string) string { return strings.TrimSpace(getenv(name)) }
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
	}

	cfg := Config{
		Addr:     env(EnvAddr),
		Issuer:   env(EnvIssuer),
		Audience: env(EnvAudience),
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	host, port, addrErr := net.SplitHostPort(cfg.Addr)
	if addrErr != nil {
		bad(EnvAddr, "%q is not a host:port listen address (for example 127.0.0.1:8080)", cfg.Addr)
	}

	raw := env(EnvStore)
	if raw == "" {
		raw = DefaultStore
	}
	var err error
	if cfg.Store, err = ParseStore(raw); err != nil {
		bad(EnvStore, "%v", err)
	}

	dur := func(name string, def time.Duration, zeroOK bool) time.Duration {
		v := env(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			bad(name, "%q is not a Go duration (for example 10m, 1h30m, 336h)", v)
			return def
		}
		if d < 0 || (d == 0 && !zeroOK) {
			bad(name, "%q must be greater than zero", v)
			return def
		}
		return d
	}
	cfg.AccessTTL = dur(EnvAccessTTL, DefaultAccessTTL, false)
	cfg.RefreshIdleTTL = dur(EnvRefreshIdleTTL, DefaultRefreshIdleTTL, false)
	cfg.RefreshAbsoluteTTL = dur(EnvRefreshAbsoluteTTL, DefaultRefreshAbsoluteTTL, false)
	// 0s is a real setting for these two: no grace window, no leeway.
	cfg.RefreshGrace = dur(EnvRefreshGrace, DefaultRefreshGrace, true)
	cfg.Leeway = dur(EnvLeeway, DefaultLeeway, true)

	// The core refuses these too (core.New); checking them here names the
	// variable in the message.
	if cfg.AccessTTL < time.Second || cfg.AccessTTL > core.MaxAccessTTL {
		bad(EnvAccessTTL, "%s is outside the allowed range [1s, %s]", cfg.AccessTTL, core.MaxAccessTTL)
	}
	if cfg.AccessTTL%time.Second != 0 {
		bad(EnvAccessTTL, "%s is not a whole number of seconds (access tokens carry their lifetime in whole seconds)", cfg.AccessTTL)
	}
	if cfg.Leeway > core.MaxLeeway {
		bad(EnvLeeway, "%s is more than the %s maximum: authguard refuses a larger clock leeway (it would let expired tokens through)", cfg.Leeway, core.MaxLeeway)
	}
	if cfg.RefreshGrace > core.MaxRefreshGrace {
		bad(EnvRefreshGrace, "%s is more than the %s maximum", cfg.RefreshGrace, core.MaxRefreshGrace)
	}
	if cfg.RefreshIdleTTL > cfg.RefreshAbsoluteTTL {
		bad(EnvRefreshIdleTTL, "%s is longer than %s (%s): the idle timeout must not exceed the absolute session lifetime",
			cfg.RefreshIdleTTL, EnvRefreshAbsoluteTTL, cfg.RefreshAbsoluteTTL)
	}

	if cfg.Issuer == "" && addrErr == nil {
		if host == "" || host == "0.0.0.0" || host == "::" {
			// Listening on every interface: "http://:8080" is no URL.
			host = "localhost"
		}
		cfg.Issuer = "http://" + net.JoinHostPort(host, port)
	}
	if cfg.Audience == "" {
		cfg.Audience = DefaultAudience
	}

	if v := env(EnvAllowedOrigins); v != "" {
		for _, o := range strings.Split(v, ",") {
			o = strings.TrimSpace(o)
			if o == "" {
				continue
			}
			norm, err := parseOrigin(o)
			if err != nil {
				bad(EnvAllowedOrigins, "%v", err)
				continue
			}
			cfg.AllowedOrigins = append(cfg.AllowedOrigins, norm)
		}
		if len(cfg.AllowedOrigins) == 0 && len(errs) == 0 {
			bad(EnvAllowedOrigins, "%q names no origin", v)
		}
	} else if cfg.Issuer != "" {
		o, err := issuerOrigin(cfg.Issuer)
		if err != nil {
			bad(EnvIssuer, "%q has no http(s) origin to allow by default (%v); set %s", cfg.Issuer, err, EnvAllowedOrigins)
		} else {
			cfg.AllowedOrigins = []string{o}
		}
	}

	cfg.SigningKeyFile = env(EnvSigningKey)

	// The password is not trimmed: it is used exactly as given.
	if pw := getenv(EnvDemoPassword); pw != "" {
		cfg.DemoPassword, cfg.DemoPasswordFromEnv = pw, true
		if len(pw) > core.MaxPasswordBytes {
			bad(EnvDemoPassword, "longer than %d bytes", core.MaxPasswordBytes)
		}
	} else {
		cfg.DemoPassword = DefaultDemoPassword
	}

	switch v := env(EnvMetrics); v {
	case "", "0":
	case "1":
		cfg.Metrics = true
	default:
		bad(EnvMetrics, "%q is neither 1 nor 0", v)
	}

	if len(errs) > 0 {
		return Config{}, fmt.Errorf("demo: invalid configuration: %w", errors.Join(errs...))
	}
	return cfg, nil
}

// ParseStore parses an AUTHGUARD_STORE value: "sqlite:<path>", "memory:",
// "redis://host:port/db" or "postgres://...".
func ParseStore(v string) (StoreSpec, error) {
	scheme, rest, ok := strings.Cut(v, ":")
	if !ok {
		return StoreSpec{}, fmt.Errorf("%q has no scheme; want sqlite:<path>, memory:, redis://host:port/db or postgres://...", v)
	}
	switch strings.ToLower(scheme) {
	case "sqlite":
		if rest == "" {
			return StoreSpec{}, fmt.Errorf("%q names no database file; want sqlite:<path>, for example %s", v, DefaultStore)
		}
		if rest == ":memory:" || strings.HasPrefix(rest, "file:") || strings.ContainsAny(rest, "?#") {
			return StoreSpec{}, fmt.Errorf("%q: want a plain file path after sqlite: (no file: URI, query or :memory:; for an in-memory store write memory:)", v)
		}
		return StoreSpec{Kind: StoreSQLite, Location: rest}, nil
	case "memory":
		if rest != "" {
			return StoreSpec{}, fmt.Errorf("%q: the memory store takes no location; write memory:", v)
		}
		return StoreSpec{Kind: StoreMemory}, nil
	case "redis", "rediss":
		if err := checkStoreURL(v); err != nil {
			return StoreSpec{}, err
		}
		return StoreSpec{Kind: StoreRedis, Location: v}, nil
	case "postgres", "postgresql":
		if err := checkStoreURL(v); err != nil {
			return StoreSpec{}, err
		}
		return StoreSpec{Kind: StorePostgres, Location: v}, nil
	}
	return StoreSpec{}, fmt.Errorf("unknown store scheme %q in %q; want sqlite:<path>, memory:, redis://host:port/db or postgres://...",
		scheme, redactURL(v))
}

func checkStoreURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		// url's error quotes the input, password included: not repeated.
		return fmt.Errorf("%q is not a valid %s URL (want scheme://host:port/...)", redactURL(v), strings.SplitN(v, ":", 2)[0])
	}
	return nil
}

// redactURL hides the password of a URL's user info and of a "password"
// query parameter. A value that does not parse is hidden entirely after
// its scheme, since it cannot be known which part is secret.
func redactURL(v string) string {
	u, err := url.Parse(v)
	if err != nil {
		scheme, _, _ := strings.Cut(v, ":")
		return scheme + "://(unparsable, hidden)"
	}
	q := u.Query()
	changed := false
	for k := range q {
		if strings.EqualFold(k, "password") {
			q.Set(k, "xxxxx")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// parseOrigin checks and normalises one allowed origin: scheme://host[:port],
// no path, query or user info.
func parseOrigin(o string) (string, error) {
	if o == "*" {
		return "", errors.New(`"*" is not allowed: credentials are allowed, so list each origin`)
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q is not an origin (want scheme://host[:port], for example http://localhost:8081)", o)
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host), nil
}

// issuerOrigin returns scheme://host of an http(s) issuer URL.
func issuerOrigin(issuer string) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil {
		return "", errors.New("not a URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("not an http(s) URL")
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host), nil
}
