package chiauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	chiauth "github.com/authguard/authguard/adapters/chi"
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/adaptertest"
	"github.com/authguard/authguard/core/authtest"
)

var attackVariants = []string{
	"/auth/sessions/", "/auth/sessions//", "/auth/sessions;x", "/auth/sessions/;", "/auth/sessions%00",
	"/auth/sessions/%00", "/auth/sessions%5C", "/auth/sessions/%5C", "/auth/sessions%09", "/auth/sessions/..%2F",
	"/auth/sessions%252F", "/auth/sessions/%252F", "/auth/sessions%C0%AF", "/auth/sessions/%C0%AF",
	"/auth/sessions/?", "/auth/sessions/#", "/auth/sessions/.%2F", "/auth/./sessions", "/./auth/sessions",
	"/auth/sessions/%2E%2E/", "/auth/sessions%2F", "//auth/sessions", "/auth//sessions", "/auth%2Fsessions",
	"/auth/sessions/%20", "/auth/sessions/+", "/auth/sessions/.", "/auth/sessions/..", "/x%2Fy/../auth/sessions",
	"/AUTH/SESSIONS", "/auth/sessions/x/..",
}

// The default router: no variant revokes anything.
func TestAttackSessionPathVariantsReal(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	r := chi.NewRouter()
	chiauth.Mount(r, f.Service)
	srv := httptest.NewServer(r)
	defer srv.Close()
	a, b := f.LoginUser(t), f.LoginUser(t)
	for _, p := range attackVariants {
		if st, hops := adaptertest.DeleteFollowing(t, srv.URL+p, a.AccessToken); st != 404 && st != 405 && st != 400 {
			t.Errorf("DELETE %s: %d after %q, want 404", p, st, hops)
		}
	}
	for _, tk := range []*core.TokenResponse{a, b} {
		if _, err := f.Service.Authenticate(context.Background(), tk.AccessToken); err != nil {
			t.Fatalf("a session was revoked: %v", err)
		}
	}
}

// chi's own path-rewriting middleware (StripSlashes, CleanPath) change the
// path chi routes on without a redirect: DELETE /auth/sessions/ and
// DELETE //auth/sessions then reach the endpoint that revokes every other
// session, the very answers gin's Mount refuses RedirectFixedPath for.
// FAILS until chiauth's endpoints without a parameter check that the path
// of the request is the route's (as fiber's do with c.Path()), or the docs
// warn.
func TestAttackPathRewritingMiddleware(t *testing.T) {
	for name, mw := range map[string]func(http.Handler) http.Handler{"StripSlashes": middleware.StripSlashes, "CleanPath": middleware.CleanPath} {
		f := authtest.New(t, authtest.Options{})
		r := chi.NewRouter()
		r.Use(mw)
		chiauth.Mount(r, f.Service)
		srv := httptest.NewServer(r)
		a, b := f.LoginUser(t), f.LoginUser(t)
		for _, p := range []string{"/auth/sessions/", "//auth/sessions", "/auth//sessions", "/auth/x/../sessions"} {
			st, _ := adaptertest.DeleteFollowing(t, srv.URL+p, a.AccessToken)
			if _, err := f.Service.Authenticate(context.Background(), b.AccessToken); err != nil {
				t.Errorf("with middleware.%s, DELETE %s: %d: the other session was revoked", name, p, st)
				break
			}
		}
		srv.Close()
	}
}
