package wire_test

import (
	"context"
	"testing"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/wire"
)

// The one guard composition: an outer principal is reused without
// authenticating, Optional lets an anonymous request through, the route is
// asked for only after authentication, and no route fails closed.
func TestGuardComposition(t *testing.T) {
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) {
		c.Authorizer = core.StaticAuthorizer{"user": {"/r/{id}:GET"}}
	}})
	ctx := context.Background()
	srv := wire.New(f.Service)
	anon := newSecRequest("192.0.2.1:1")
	tok := secLogin(t, f, authtest.UserEmail, core.ClientInfo{}).AccessToken
	user := newSecRequest("192.0.2.1:1").with("Authorization", "Bearer "+tok)
	outer := &core.Principal{Subject: "outer", Roles: []string{"admin"}}

	if p, resp := srv.RequireRole("admin").Check(ctx, anon, outer, nil); resp != nil || p != outer {
		t.Fatalf("outer principal not reused: %v %+v", p, resp)
	}
	if p, resp := srv.Optional().Check(ctx, anon, nil, nil); resp != nil || p != nil {
		t.Fatalf("optional, anonymous: %v %+v", p, resp)
	}
	if p, resp := srv.Optional().Check(ctx, user, nil, nil); resp != nil || p == nil || p.Subject != f.UserID {
		t.Fatalf("optional, with a token: %v %+v", p, resp)
	}
	called := false
	route := func() (string, string, bool) { called = true; return "/r/{id}", "GET", true }
	if _, resp := srv.AuthorizeRoute().Check(ctx, anon, nil, route); resp == nil || resp.Status != 401 || called {
		t.Fatalf("anonymous: %+v, route asked: %v", resp, called)
	}
	if p, resp := srv.AuthorizeRoute().Check(ctx, user, nil, route); resp != nil || p == nil || !called {
		t.Fatalf("allowed route: %+v", resp)
	}
	noRoute := func() (string, string, bool) { return "", "", false }
	for _, rf := range []wire.RouteFunc{noRoute, nil} {
		if _, resp := srv.AuthorizeRoute().Check(ctx, user, nil, rf); resp == nil || resp.Status != 403 {
			t.Fatalf("no route: %+v", resp)
		}
	}
	if _, resp := srv.RequireRole().Check(ctx, user, nil, nil); resp == nil || resp.Status != 403 {
		t.Fatalf("RequireRole with no role: %+v", resp)
	}
}
