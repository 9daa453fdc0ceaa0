package chiauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	chiauth "github.com/authguard/authguard/adapters/chi"
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/adaptertest"
	"github.com/authguard/authguard/core/authtest"
)

func writeJSON(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", adaptertest.DemoContentType)
	_, _ = w.Write(body)
}

// newRouter is the conformance server: the token endpoints and the demo
// routes of adaptertest.Factory on a chi router.
func newRouter(svc *core.Service) chi.Router {
	r := chi.NewRouter()
	chiauth.Mount(r, svc)
	chiauth.MountRoleAdmin(r, svc, adaptertest.RoleAdmin(svc))
	r.With(chiauth.AuthorizeRoute(svc)).Get("/admin", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, []byte(adaptertest.RouteJSON))
	})
	r.NotFound(chiauth.NotFound(svc))
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, []byte(adaptertest.HealthJSON)) })
	r.With(chiauth.Require(svc)).Get("/api/profile", func(w http.ResponseWriter, r *http.Request) {
		p, _ := chiauth.PrincipalFrom(r.Context())
		writeJSON(w, adaptertest.ProfileBody(p))
	})
	r.With(chiauth.Optional(svc)).Get("/api/optional", func(w http.ResponseWriter, r *http.Request) {
		p, _ := chiauth.PrincipalFrom(r.Context())
		writeJSON(w, adaptertest.OptionalBody(p))
	})
	r.With(chiauth.RequireRole(svc, "admin")).Get("/api/admin/stats", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, []byte(adaptertest.AdminStatsJSON))
	})
	r.With(chiauth.RequirePermission(svc, "reports", "read")).Get("/api/reports", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, []byte(adaptertest.ReportsJSON))
	})
	r.With(chiauth.RequirePermission(svc, "reports", "delete")).Delete("/api/reports/{id}", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	return r
}

func factory(t *testing.T, svc *core.Service) adaptertest.Do {
	h := newRouter(svc)
	return func(r *http.Request) (*http.Response, error) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Result(), nil
	}
}

func TestConformance(t *testing.T) { adaptertest.Run(t, factory) }

// TestGoldenParity: the chi adapter puts the same bytes on the wire as the
// net/http reference recording.
func TestGoldenParity(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode: the conformance run covers the assertions")
	}
	got := adaptertest.Record(t, factory)
	if d := adaptertest.Diff(adaptertest.Golden(), got); d != "" {
		t.Errorf("chi differs from the net/http reference:\n%s", d)
	}
}

func login(t *testing.T, f *authtest.Fixture, email string) string {
	t.Helper()
	tr, err := f.Service.Login(context.Background(), core.LoginInput{Email: email, Password: authtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	return tr.AccessToken
}

func do(h http.Handler, method, path, token string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestAuthorizeRoute checks that the object is the matched route pattern,
// wherever the middleware sits, and never the raw path.
func TestAuthorizeRoute(t *testing.T) {
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) {
		c.Authorizer = core.StaticAuthorizer{
			"user": {"/api/reports/{id}:GET", "/top/{id}:GET", "/inline/{id}:GET", "/group/{id}:GET", "/api/reports/42:DELETE"},
		}
	}})
	svc := f.Service
	user, admin := login(t, f, authtest.UserEmail), login(t, f, authtest.AdminEmail)
	ok := func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(chiauth.RoutePattern(r)))
	}

	root := chi.NewRouter()
	root.Use(chiauth.AuthorizeRoute(svc))
	root.Get("/top/{id}", ok)
	root.Route("/api", func(r chi.Router) {
		r.Get("/reports/{id}", ok)
		r.Delete("/reports/{id}", ok)
	})
	sub := chi.NewRouter()
	sub.Use(chiauth.AuthorizeRoute(svc))
	sub.Get("/{id}", ok)
	outer := chi.NewRouter()
	outer.Mount("/mounted", sub)
	outer.With(chiauth.AuthorizeRoute(svc)).Get("/inline/{id}", ok)
	outer.Group(func(r chi.Router) {
		r.Use(chiauth.AuthorizeRoute(svc))
		r.Get("/group/{id}", ok)
	})

	for _, tc := range []struct {
		h            http.Handler
		method, path string
		token        string
		want         int
		body         string
	}{
		{root, "GET", "/top/1", user, 200, "/top/{id}"},
		{root, "GET", "/api/reports/42", user, 200, "/api/reports/{id}"},
		{root, "GET", "/api/reports/42", "", 401, ""},
		{root, "GET", "/api/reports/42", admin, 403, ""},
		// the policy names the raw path: it must not match
		{root, "DELETE", "/api/reports/42", user, 403, ""},
		// no route: fail closed for an authenticated caller, 401 for anonymous
		{root, "GET", "/nowhere", user, 403, ""},
		{root, "GET", "/nowhere", "", 401, ""},
		{outer, "GET", "/inline/7", user, 200, "/inline/{id}"},
		{outer, "GET", "/group/7", user, 200, "/group/{id}"},
		// a sub-router's Use: pattern "/mounted/{id}" is not in the policy
		{outer, "GET", "/mounted/7", user, 403, ""},
	} {
		w := do(tc.h, tc.method, tc.path, tc.token)
		if w.Code != tc.want || (tc.body != "" && w.Body.String() != tc.body) {
			t.Errorf("%s %s: got %d %q, want %d %q", tc.method, tc.path, w.Code, w.Body.String(), tc.want, tc.body)
		}
	}
}

func TestRoutePatternInSubRouter(t *testing.T) {
	var before, after string
	mw := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			before = chiauth.RoutePattern(r)
			next.ServeHTTP(w, r)
			after = chi.RouteContext(r.Context()).RoutePattern()
		})
	}
	sub := chi.NewRouter()
	sub.Use(mw)
	sub.Get("/reports/{id}/items/{item}", func(http.ResponseWriter, *http.Request) {})
	root := chi.NewRouter()
	root.Mount("/api/v1", sub)
	do(root, "GET", "/api/v1/reports/3/items/9", "")
	if before != "/api/v1/reports/{id}/items/{item}" || before != after {
		t.Fatalf("pattern before routing %q, after %q", before, after)
	}
	if p := chiauth.RoutePattern(httptest.NewRequest("GET", "/", nil)); p != "" {
		t.Fatalf("pattern without chi = %q", p)
	}
}

func TestRevokeSessionUsesURLParam(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	ctx := context.Background()
	a, _ := f.Service.Login(ctx, core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
	b := login(t, f, authtest.UserEmail)
	r := chi.NewRouter()
	r.Method("DELETE", "/my/devices/{id}", chiauth.RevokeSession(f.Service))
	if w := do(r, "DELETE", "/my/devices/"+a.SessionID, b); w.Code != 204 {
		t.Fatalf("status %d, want 204", w.Code)
	}
	if _, err := f.Service.Authenticate(ctx, a.AccessToken); err == nil {
		t.Fatal("the revoked session still authenticates")
	}
}

// AuthorizeRoute gives the same answers under Use, as group middleware and
// per route: allowed, 403 when the policy denies, 401 without a token, and
// 403 without asking the Authorizer when no route matched.
func TestAuthorizeRouteSameEverywhere(t *testing.T) {
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) {
		c.Authorizer = core.StaticAuthorizer{"user": {"/api/reports/{id}:DELETE"}}
	}})
	svc := f.Service
	tok := login(t, f, authtest.UserEmail)
	ok := func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("served " + chiauth.RoutePattern(r))) }
	for _, mode := range []string{"route", "group", "use"} {
		r := chi.NewRouter()
		switch mode {
		case "route":
			r.With(chiauth.AuthorizeRoute(svc)).Get("/api/reports/{id}", ok)
			r.With(chiauth.AuthorizeRoute(svc)).Delete("/api/reports/{id}", ok)
		case "group":
			r.Route("/api", func(r chi.Router) {
				r.Use(chiauth.AuthorizeRoute(svc))
				r.Get("/reports/{id}", ok)
				r.Delete("/reports/{id}", ok)
			})
		case "use":
			r.Use(chiauth.AuthorizeRoute(svc))
			r.Get("/api/reports/{id}", ok)
			r.Delete("/api/reports/{id}", ok)
		}
		if w := do(r, "DELETE", "/api/reports/42", tok); w.Code != 200 || w.Body.String() != "served /api/reports/{id}" {
			t.Errorf("%s: allowed: got %d %s", mode, w.Code, w.Body)
		}
		if w := do(r, "GET", "/api/reports/42", tok); w.Code != 403 || !strings.Contains(w.Body.String(), "insufficient_scope") {
			t.Errorf("%s: denied: got %d %s", mode, w.Code, w.Body)
		}
		if w := do(r, "GET", "/api/reports/42", ""); w.Code != 401 {
			t.Errorf("%s: anonymous: got %d", mode, w.Code)
		}
		if mode != "route" { // a route's own middleware never runs for an unmatched request
			if w := do(r, "GET", "/api/unknown", tok); w.Code != 403 || !strings.Contains(w.Body.String(), "insufficient_scope") {
				t.Errorf("%s: unmatched route: got %d %s", mode, w.Code, w.Body)
			}
		}
	}
}
