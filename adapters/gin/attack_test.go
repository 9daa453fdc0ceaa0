package ginauth_test

import (
	"context"
	"net/http/httptest"
	"testing"

	ginauth "github.com/authguard/authguard/adapters/gin"
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/adaptertest"
	"github.com/authguard/authguard/core/authtest"
	"github.com/gin-gonic/gin"
)

// twoSessions logs the fixture's user in twice.
func twoSessions(t *testing.T, f *authtest.Fixture) (a, b *core.TokenResponse) {
	t.Helper()
	return f.LoginUser(t), f.LoginUser(t)
}

// mustLive fails if b's access token is no longer accepted.
func mustLive(t *testing.T, f *authtest.Fixture, b *core.TokenResponse, after string) {
	t.Helper()
	if _, err := f.Service.Authenticate(context.Background(), b.AccessToken); err != nil {
		t.Fatalf("after %s: the other session was revoked: %v", after, err)
	}
}

// gin routes on the decoded path (UseRawPath is off by default): an encoded
// slash inside the prefix, DELETE /auth%2Fsessions, reaches the endpoint
// that revokes every other session, where chi, fiber and net/http answer
// 404 (they route on the escaped path). FAILS until gin's Mount compares the
// escaped path with the route's (as fiber's endpoint does with c.Path()).
func TestAttackEncodedSlashInPrefix(t *testing.T) {
	gin.SetMode(gin.TestMode)
	for _, path := range []string{"/auth%2Fsessions", "/auth%2fsessions"} {
		f := authtest.New(t, authtest.Options{})
		e := gin.New()
		ginauth.Mount(e, f.Service)
		srv := httptest.NewServer(e)
		a, b := twoSessions(t, f)
		st, hops := adaptertest.DeleteFollowing(t, srv.URL+path, a.AccessToken)
		srv.Close()
		if _, err := f.Service.Authenticate(context.Background(), b.AccessToken); err != nil {
			t.Errorf("DELETE %s: %d after %q: the other session was revoked", path, st, hops)
		}
	}
}

// Variants the suite does not list, over a real socket with redirects
// followed: none revokes anything.
func TestAttackSessionPathVariantsReal(t *testing.T) {
	gin.SetMode(gin.TestMode)
	f := authtest.New(t, authtest.Options{})
	e := gin.New()
	ginauth.Mount(e, f.Service)
	srv := httptest.NewServer(e)
	defer srv.Close()
	a, b := twoSessions(t, f)
	for _, p := range []string{
		"/auth/sessions/", "/auth/sessions;x", "/auth/sessions/;", "/auth/sessions%00", "/auth/sessions/%00",
		"/auth/sessions%5C", "/auth/sessions/%5C", "/auth/sessions%09", "/auth/sessions/%09", "/auth/sessions/..%2F",
		"/auth/sessions%252F", "/auth/sessions/%252F", "/auth/sessions/%C0%AF", "/auth/sessions%C0%AF", "/auth/sessions/?",
		"/auth/sessions/#", "/auth/sessions/.%2F", "/auth/./sessions", "/./auth/sessions", "/auth/sessions/%2E%2E/",
		"/auth/sessions//" + b.SessionID + "/..", "/auth/sessions/%20", "/auth/sessions/+",
	} {
		st, hops := adaptertest.DeleteFollowing(t, srv.URL+p, a.AccessToken)
		if st != 404 && st != 405 && st != 400 {
			t.Errorf("DELETE %s: %d after %q, want 404", p, st, hops)
		}
		mustLive(t, f, b, "DELETE "+p)
		mustLive(t, f, a, "DELETE "+p)
	}
}

// gin's RemoveExtraSlash (off by default, like RedirectFixedPath) cleans the
// path before routing: DELETE //auth/sessions then reaches the endpoint that
// revokes every other session, without a redirect. FAILS: Mount refuses
// RedirectFixedPath but not RemoveExtraSlash.
func TestAttackRemoveExtraSlash(t *testing.T) {
	gin.SetMode(gin.TestMode)
	f := authtest.New(t, authtest.Options{})
	e := gin.New()
	e.RemoveExtraSlash = true
	if err := mountPanic(e, f.Service); err != nil {
		return // refused: held
	}
	srv := httptest.NewServer(e)
	defer srv.Close()
	a, b := twoSessions(t, f)
	for _, p := range []string{"//auth/sessions", "/auth//sessions"} {
		st, hops := adaptertest.DeleteFollowing(t, srv.URL+p, a.AccessToken)
		if _, err := f.Service.Authenticate(context.Background(), b.AccessToken); err != nil {
			t.Fatalf("DELETE %s with RemoveExtraSlash: %d after %q: the other session was revoked", p, st, hops)
		}
	}
}
