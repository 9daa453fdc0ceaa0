package rbac_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/httpauth"
	"github.com/authguard/authguard/rbac"
)

// tenantServer is a fixture service with a ModelDomains Authorizer naming
// the domain with domain, behind two routes guarded by the permission
// reports/read: "/t/{tenant}/reports", whose tenant parameter a middleware
// puts in the context with ContextWithDomain, and "/reports". The policy
// lets role user read reports in acme and in globex; grants gives roles
// ("g" lines: subject, role, tenant) once the fixture's subjects exist, and
// tenantOf names an account's tenant (the token's claim). It returns the
// handler and the access tokens of the user and the admin.
func tenantServer(t *testing.T, domain rbac.DomainFunc, grants func(user, admin string) [][]string, tenantOf func(user, admin, subject string) string) (http.Handler, string, string) {
	t.Helper()
	e, err := rbac.NewEnforcer(rbac.ModelDomains, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.AddPolicies([][]string{{"user", "acme", "reports", "read"}, {"user", "globex", "reports", "read"}}); err != nil {
		t.Fatal(err)
	}
	a, err := rbac.New(e, rbac.WithDomain(domain))
	if err != nil {
		t.Fatal(err)
	}
	var f *authtest.Fixture
	f = authtest.New(t, authtest.Options{
		Config: func(c *core.Config) { c.Authorizer = a },
		Tenant: func(subject string) string { return tenantOf(f.UserID, f.AdminID, subject) },
	})
	if _, err := e.AddGroupingPolicies(grants(f.UserID, f.AdminID)); err != nil {
		t.Fatal(err)
	}
	a.PolicyChanged()
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	guard := httpauth.RequirePermission(f.Service, "reports", "read")
	routeTenant := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(rbac.ContextWithDomain(r.Context(), r.PathValue("tenant"))))
		})
	}
	mux := http.NewServeMux()
	mux.Handle("GET /t/{tenant}/reports", routeTenant(guard(ok)))
	mux.Handle("GET /reports", guard(ok))
	tokenOf := func(email string) string {
		tr, err := f.Service.Login(context.Background(), core.LoginInput{Email: email, Password: authtest.Password})
		if err != nil {
			t.Fatal(err)
		}
		return tr.AccessToken
	}
	return mux, tokenOf(authtest.UserEmail), tokenOf(authtest.AdminEmail)
}

func wantStatus(t *testing.T, h http.Handler, accessToken, path string, want int) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.Header.Set("Authorization", "Bearer "+accessToken)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != want {
		t.Errorf("GET %s = %d, want %d", path, w.Code, want)
	}
}

// The tenant from a route parameter: the policy's roles in that tenant
// decide, so a user of tenant acme is denied in globex's domain.
func TestTenantFromRouteParameter(t *testing.T) {
	grants := func(user, admin string) [][]string {
		return [][]string{{user, "user", "acme"}, {admin, "user", "globex"}}
	}
	noClaim := func(_, _, _ string) string { return "" }
	h, user, admin := tenantServer(t, rbac.DomainFromContext, grants, noClaim)
	wantStatus(t, h, user, "/t/acme/reports", http.StatusOK)
	wantStatus(t, h, user, "/t/globex/reports", http.StatusForbidden)
	wantStatus(t, h, user, "/t/ACME/reports", http.StatusForbidden)
	wantStatus(t, h, admin, "/t/globex/reports", http.StatusOK)
	wantStatus(t, h, admin, "/t/acme/reports", http.StatusForbidden)
	wantStatus(t, h, user, "/reports", http.StatusForbidden) // no domain named: denied
}

// The tenant from the access token's claim: a user of acme acts in acme
// only, even where the policy gives the same subject id a role in globex
// and the route names globex; a token without a tenant is denied.
func TestTenantFromClaim(t *testing.T) {
	grants := func(user, admin string) [][]string {
		return [][]string{{user, "user", "acme"}, {user, "user", "globex"}, {admin, "user", "globex"}}
	}
	userInAcme := func(user, _, subject string) string {
		if subject == user {
			return "acme"
		}
		return "" // the admin's account names no tenant
	}
	h, user, admin := tenantServer(t, rbac.DomainFromTenant, grants, userInAcme)
	wantStatus(t, h, user, "/reports", http.StatusOK)
	wantStatus(t, h, user, "/t/acme/reports", http.StatusOK)
	wantStatus(t, h, user, "/t/globex/reports", http.StatusForbidden)
	wantStatus(t, h, admin, "/reports", http.StatusForbidden)
	wantStatus(t, h, admin, "/t/globex/reports", http.StatusForbidden)

	// The claim is the whole domain: without the acme grant the user is
	// denied, although the policy still gives the subject globex's role.
	noAcmeGrant := func(user, admin string) [][]string {
		return [][]string{{user, "user", "globex"}, {admin, "user", "globex"}}
	}
	h, user, _ = tenantServer(t, rbac.DomainFromTenant, noAcmeGrant, userInAcme)
	wantStatus(t, h, user, "/reports", http.StatusForbidden)
	wantStatus(t, h, user, "/t/globex/reports", http.StatusForbidden)
}

// DomainFromTenant on its own: the principal's tenant, none without one,
// none when the context names another domain.
func TestDomainFromTenant(t *testing.T) {
	bg := context.Background()
	acme := &core.Principal{Subject: "u", Tenant: "acme"}
	cases := []struct {
		ctx  context.Context
		p    *core.Principal
		want string
		ok   bool
	}{
		{bg, acme, "acme", true},
		{rbac.ContextWithDomain(bg, "acme"), acme, "acme", true},
		{rbac.ContextWithDomain(bg, "globex"), acme, "", false},
		{rbac.ContextWithDomain(bg, ""), acme, "", false},
		{bg, &core.Principal{Subject: "u"}, "", false},
		{bg, nil, "", false},
	}
	for i, c := range cases {
		if d, ok := rbac.DomainFromTenant(c.ctx, c.p, "reports"); d != c.want || ok != c.ok {
			t.Errorf("case %d: DomainFromTenant = %q, %v; want %q, %v", i, d, ok, c.want, c.ok)
		}
	}
}
