package core

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authguard/authguard/core/memstore"
	"github.com/authguard/authguard/core/token"
)

func TestConfigDefaultsAndBounds(t *testing.T) {
	key, err := token.GenerateKey(token.AlgEdDSA)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := token.NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	st := memstore.New()
	var auth Authenticator = refusingAuth{}
	base := func() Config {
		return Config{Issuer: "https://api.example.com", Audience: "app", Keys: ks, Store: st, Authenticator: auth}
	}
	c := base()
	got, err := c.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessTTL != 10*time.Minute || got.RefreshIdleTTL != 336*time.Hour || got.RefreshAbsoluteTTL != 720*time.Hour ||
		got.RefreshGrace != 10*time.Second || got.RefreshGraceReplays != 10 || got.Leeway != 5*time.Second ||
		got.MaxTokenBytes != 8192 || got.LoginThrottle.AccountLimit != 10 || got.LoginThrottle.IPLimit != 100 ||
		got.LoginThrottle.Window != 15*time.Minute || got.Realm != "authguard" || got.MountPrefix != "/auth" ||
		got.Cookie.SameSite != "Strict" || got.StoreTimeout != 2*time.Second || len(got.Cookie.AllowedOrigins) != 1 || got.Cookie.AllowedOrigins[0] != "https://api.example.com" {
		t.Fatalf("defaults: %+v", got)
	}
	c = base()
	c.Leeway, c.RefreshGrace = -1, -time.Second
	if got, err = c.withDefaults(); err != nil || got.Leeway != 0 || got.RefreshGrace != 0 {
		t.Fatalf("negative leeway/grace must mean none: %v %v %v", got.Leeway, got.RefreshGrace, err)
	}
	bad := map[string]func(*Config){
		"leeway_61s":        func(c *Config) { c.Leeway = 61 * time.Second },
		"grace_61s":         func(c *Config) { c.RefreshGrace = 61 * time.Second },
		"no_issuer":         func(c *Config) { c.Issuer = "" },
		"no_audience":       func(c *Config) { c.Audience = "" },
		"no_keys":           func(c *Config) { c.Keys = nil },
		"no_store":          func(c *Config) { c.Store = nil },
		"no_authenticator":  func(c *Config) { c.Authenticator = nil },
		"idle_over_abs":     func(c *Config) { c.RefreshIdleTTL = 2 * c.RefreshAbsoluteTTL; c.RefreshAbsoluteTTL = time.Hour },
		"samesite_none":     func(c *Config) { c.Cookie.SameSite = "None" },
		"access_ttl_25h":    func(c *Config) { c.AccessTTL = 25 * time.Hour },
		"token_cap_tiny":    func(c *Config) { c.MaxTokenBytes = 10 },
		"negative_replays":  func(c *Config) { c.RefreshGraceReplays = -1 },
		"negative_throttle": func(c *Config) { c.LoginThrottle.AccountLimit = -1 },
		"access_ttl_90.5s":  func(c *Config) { c.AccessTTL = 90*time.Second + 500*time.Millisecond },
		"access_ttl_1.5s":   func(c *Config) { c.AccessTTL = 1500 * time.Millisecond },
		"ipv6_prefix_129":   func(c *Config) { c.LoginThrottle.IPv6Prefix = 129 },
		"store_timeout_neg": func(c *Config) { c.StoreTimeout = -time.Second },
	}
	for name, edit := range bad {
		t.Run(name, func(t *testing.T) {
			c := base()
			edit(&c)
			if _, err := New(c); !errors.Is(err, ErrConfig) {
				t.Fatalf("New = %v, want ErrConfig", err)
			}
		})
	}
}

// New reports every problem of a configuration at once, not only the first,
// so a deployment is fixed in one round.
func TestConfigReportsEveryProblem(t *testing.T) {
	_, err := New(Config{AccessTTL: 1500 * time.Millisecond, Cookie: CookieConfig{SameSite: "None"}})
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("New = %v, want ErrConfig", err)
	}
	for _, want := range []string{"Issuer is required", "Audience is required", "Keys is required", "Store is required",
		"Authenticator is required", "AccessTTL 1.5s is not a whole number of seconds", "Cookie.SameSite must be Strict or Lax"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// A fractional access-token lifetime would leave tokens whose exp-iat, in
// whole seconds, exceeds the configured maximum (half of them refused for
// their whole life): it is refused at start, whole seconds are accepted.
func TestAccessTTLWholeSeconds(t *testing.T) {
	c := Config{AccessTTL: 91 * time.Second}
	c.applyDefaults()
	if err := c.validate(); err != nil && strings.Contains(err.Error(), "AccessTTL") {
		t.Fatalf("91s refused: %v", err)
	}
}

func TestStaticAuthorizerSplitsAtLastColon(t *testing.T) {
	a := StaticAuthorizer{"admin": {"/api/reports/:id:DELETE", "reports:*"}, "user": {"reports:read"}}
	admin := &Principal{Roles: []string{"admin"}}
	user := &Principal{Roles: []string{"user"}}
	cases := []struct {
		p        *Principal
		obj, act string
		want     bool
	}{
		{admin, "/api/reports/:id", "DELETE", true},
		{admin, "/api/reports/", "id:DELETE", false},
		{admin, "reports", "delete", true},
		{user, "reports", "read", true},
		{user, "reports", "delete", false},
		{nil, "reports", "read", false},
		{&Principal{Roles: []string{"ghost"}}, "reports", "read", false},
	}
	for _, c := range cases {
		got, err := a.Authorize(context.Background(), c.p, c.obj, c.act)
		if err != nil || got != c.want {
			t.Errorf("Authorize(%v, %q, %q) = %v, %v; want %v", c.p, c.obj, c.act, got, err, c.want)
		}
	}
}

// refusingAuth is an Authenticator that knows nobody.
type refusingAuth struct{}

func (refusingAuth) Authenticate(context.Context, string, string) (Identity, error) {
	return Identity{}, ErrInvalidCredentials
}

func (refusingAuth) Lookup(context.Context, string) (Identity, error) {
	return Identity{}, ErrInvalidCredentials
}

func TestConfigTokenCache(t *testing.T) {
	key, err := token.GenerateKey(token.AlgEdDSA)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := token.NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	c := Config{Issuer: "https://api.example.com", Audience: "app", Keys: ks, Store: memstore.New(), Authenticator: refusingAuth{}}
	got, err := c.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if got.TokenCacheMaxEntries != 200000 || got.TokenCacheMaxBytes != 128<<20 {
		t.Fatalf("token cache defaults: %d entries, %d bytes", got.TokenCacheMaxEntries, got.TokenCacheMaxBytes)
	}
	c.TokenCacheMaxBytes = 1000
	if _, err := c.withDefaults(); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "TokenCacheMaxBytes") {
		t.Fatalf("a 1000-byte token cache: %v", err)
	}
	c.TokenCacheMaxBytes, c.TokenCacheMaxEntries = 0, -1
	if got, err := c.withDefaults(); err != nil || got.TokenCacheMaxEntries != -1 || newTokenCache(&got) != nil {
		t.Fatalf("a token cache turned off: %v", err)
	}
}
