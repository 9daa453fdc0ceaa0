package core

import (
	"context"
	"errors"
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
		got.Cookie.SameSite != "Strict" || len(got.Cookie.AllowedOrigins) != 1 || got.Cookie.AllowedOrigins[0] != "https://api.example.com" {
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
