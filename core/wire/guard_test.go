package wire_test

import (
	"context"
	"errors"
	"net/textproto"
	"slices"
	"strings"
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

// policyRoles is an Authorizer and core.RoleChecker whose roles are its
// own, not the token's; fail makes every answer an error.
type policyRoles struct {
	roles map[string][]string
	fail  bool
}

func (a *policyRoles) Authorize(context.Context, *core.Principal, string, string) (bool, error) {
	return false, nil
}

func (a *policyRoles) HasAnyRole(_ context.Context, p *core.Principal, roles ...string) (bool, error) {
	if a.fail {
		return false, errors.New("policy engine down")
	}
	for _, r := range roles {
		if slices.Contains(a.roles[p.Subject], r) {
			return true, nil
		}
	}
	return false, nil
}

// With a RoleChecker configured, RequireRole asks the policy, not the
// token: the admin's token still lists "admin" but the policy took it away
// (403 and an audit line), the user's token does not list it but the
// policy gives it, and a failing policy engine is 503, never a pass.
func TestRequireRoleAsksThePolicy(t *testing.T) {
	pol := &policyRoles{roles: map[string][]string{}}
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.Authorizer = pol }})
	pol.roles[f.UserID] = []string{"admin"}
	ctx := context.Background()
	srv := wire.New(f.Service)
	bearer := func(email string) *secRequest {
		tok := secLogin(t, f, email, core.ClientInfo{}).AccessToken
		return newSecRequest("192.0.2.1:1").with("Authorization", "Bearer "+tok)
	}
	admin, user := bearer(authtest.AdminEmail), bearer(authtest.UserEmail)

	resp := func(r *secRequest) *wire.Response {
		_, resp := srv.RequireRole("admin").Check(ctx, r, nil, nil)
		return resp
	}
	if r := resp(admin); r == nil || r.Status != 403 || !strings.Contains(string(r.Body), "insufficient_scope") {
		t.Fatalf("admin role taken away in the policy: %+v, want 403 insufficient_scope", r)
	}
	if !strings.Contains(f.Logs.String(), `"event":"access_denied"`) || !strings.Contains(f.Logs.String(), `"reason":"missing_role"`) {
		t.Fatalf("no audit line for the refusal: %s", f.Logs.String())
	}
	if r := resp(user); r != nil {
		t.Fatalf("role given in the policy: %+v, want a pass", r)
	}
	pol.fail = true
	if r := resp(user); r == nil || r.Status != 503 {
		t.Fatalf("policy engine down: %+v, want 503", r)
	}
}

// A Bearer header whose token has a character outside token68 is refused
// as malformed_authorization, also when it differs by that one character
// from a token the guard accepts (and caches): the guard checks the
// characters after the core refused, never skips them. With an access
// cookie configured, a malformed header is judged before the second
// credential, as before.
func TestGuardRefusesMalformedBearerOfACachedToken(t *testing.T) {
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.Cookie.AccessCookie = "at" }})
	ctx := context.Background()
	g := wire.New(f.Service).Require()
	tok := secLogin(t, f, authtest.UserEmail, core.ClientInfo{}).AccessToken
	valid := func() *secRequest { return newSecRequest("192.0.2.1:1").with("Authorization", "Bearer "+tok) }
	for range 2 {
		if p, resp := g.Check(ctx, valid(), nil, nil); resp != nil || p == nil {
			t.Fatalf("valid token refused: %+v", resp)
		}
	}
	malformed := func() int { return strings.Count(f.Logs.String(), `"reason":"malformed_authorization"`) }
	for _, bad := range []string{
		tok[:40] + "!" + tok[41:], tok + "%", tok[:40] + " " + tok[40:], tok[:len(tok)-1] + "\x00",
	} {
		before := malformed()
		req := newSecRequest("192.0.2.1:1").with("Authorization", "Bearer "+bad)
		if p, resp := g.Check(ctx, req, nil, nil); resp == nil || resp.Status != 401 || p != nil {
			t.Fatalf("%q: %v %+v; want 401", bad, p, resp)
		}
		if malformed() != before+1 {
			t.Fatalf("%q: not refused as malformed_authorization", bad)
		}
		before = malformed()
		req = newSecRequest("192.0.2.1:1").with("Authorization", "Bearer "+bad)
		req.cookies["at"] = []string{tok}
		if _, resp := g.Check(ctx, req, nil, nil); resp == nil || resp.Status != 401 || malformed() != before+1 {
			t.Fatalf("%q with an access cookie: %+v; want 401 malformed_authorization", bad, resp)
		}
	}
	req := valid()
	req.cookies["at"] = []string{tok}
	if _, resp := g.Check(ctx, req, nil, nil); resp == nil || resp.Status != 400 {
		t.Fatalf("header and cookie: %+v; want 400", resp)
	}
	if p, resp := g.Check(ctx, valid(), nil, nil); resp != nil || p == nil {
		t.Fatalf("valid token refused after malformed ones: %+v", resp)
	}
}

// Adapters over http.Header index the map with the names the contract
// passes (see Request), so every one of them must be canonical.
func TestHeaderNamesAreCanonical(t *testing.T) {
	for _, name := range []string{
		wire.HeaderAuthorization, wire.HeaderTransport, wire.HeaderOrigin, wire.HeaderSecFetchSite,
		wire.HeaderUserAgent, wire.HeaderRequestID, wire.HeaderForwardedFor, wire.HeaderContentType,
	} {
		if c := textproto.CanonicalMIMEHeaderKey(name); c != name {
			t.Errorf("%q is not canonical (%q)", name, c)
		}
	}
}
