package wire_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/wire"
)

// Routes mounted on a group are relative to it, and a group the configured
// prefix is not under is refused, naming the prefix to set.
func TestRoutesUnder(t *testing.T) {
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.MountPrefix = "/api/v1/auth" }})
	srv := wire.New(f.Service)
	for _, base := range []string{"", "/"} {
		rs, err := srv.RoutesUnder(base)
		if err != nil || len(rs) != len(srv.Routes()) || rs[0].Path != "/api/v1/auth/login" {
			t.Fatalf("RoutesUnder(%q) = %v, %v; want every route, unchanged", base, rs, err)
		}
	}
	rs, err := srv.RoutesUnder("/api/v1/")
	if err != nil || len(rs) != len(srv.Routes())-1 {
		t.Fatalf("RoutesUnder(/api/v1/) = %v, %v; want every route but the JWKS", rs, err)
	}
	for _, rt := range rs {
		if !strings.HasPrefix(rt.Path, "/auth/") || rt.Endpoint == wire.EndpointJWKS {
			t.Errorf("route %+v is not relative to /api/v1", rt)
		}
	}
	for _, base := range []string{"/api/v2", "/api/v", "/api/v1/auth/login"} {
		if _, err := srv.RoutesUnder(base); !errors.Is(err, core.ErrConfig) {
			t.Errorf("RoutesUnder(%q): err = %v, want ErrConfig", base, err)
		}
	}
	def := wire.New(authtest.New(t, authtest.Options{}).Service)
	_, err = def.RoutesUnder("/api/v1")
	if !errors.Is(err, core.ErrConfig) || !strings.Contains(err.Error(), `MountPrefix = "/api/v1/auth"`) {
		t.Errorf("RoutesUnder(/api/v1) with the default prefix: %v, want ErrConfig naming MountPrefix = \"/api/v1/auth\"", err)
	}
}
