package httpauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/adaptertest"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/httpauth"
)

// ServeMux cleans the escaped path (r.URL.EscapedPath) and redirects with
// 307 when it changed; ExactPaths cleans the decoded one (r.URL.Path). An
// encoded slash before a dot-dot makes them disagree: DELETE
// /x%2Fy/../auth/sessions is, decoded and cleaned, /x/auth/sessions (not
// under the prefix, so ExactPaths lets it through), while the mux cleans the
// escaped path to /auth/sessions and redirects there: a client that follows
// the 307 revokes every other session. FAILS until ExactPaths also cleans
// the escaped path the way the mux does.
func TestAttackExactPathsEscapedDotDot(t *testing.T) {
	for _, p := range []string{"/x%2Fy/../auth/sessions", "/x%2Fy/%2E%2E/../auth/sessions", "/a%2Fb%2Fc/../../auth/sessions"} {
		f := authtest.New(t, authtest.Options{})
		mux := http.NewServeMux()
		httpauth.Mount(mux, f.Service)
		srv := httptest.NewServer(httpauth.ExactPaths(f.Service, mux))
		a, b := f.LoginUser(t), f.LoginUser(t)
		st, hops := adaptertest.DeleteFollowing(t, srv.URL+p, a.AccessToken)
		srv.Close()
		if _, err := f.Service.Authenticate(context.Background(), b.AccessToken); err != nil {
			t.Errorf("DELETE %s: %d after %q: the other session was revoked", p, st, hops)
		}
	}
}

// Variants the suite does not list, over a real socket with redirects
// followed, under the default and a deeper prefix: none revokes anything.
func TestAttackExactPathsVariantsReal(t *testing.T) {
	for _, prefix := range []string{"/auth", "/api/v1/auth"} {
		f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.MountPrefix = prefix }})
		mux := http.NewServeMux()
		httpauth.Mount(mux, f.Service)
		srv := httptest.NewServer(httpauth.ExactPaths(f.Service, mux))
		a, b := f.LoginUser(t), f.LoginUser(t)
		s := prefix + "/sessions"
		for _, p := range []string{
			s + "/", s + "//", s + ";x", s + "/;", s + "%00", s + "/%00", s + "%5C", s + "/%5C", s + "%09",
			s + "/..%2F", s + "%252F", s + "/%252F", s + "%C0%AF", s + "/%C0%AF", s + "/?", s + "/#", s + "/.%2F",
			prefix + "/./sessions", "/." + s, s + "/%2E%2E/", s + "%2F", "/" + s, prefix + "//sessions",
			prefix + "%2Fsessions", s + "/%20", s + "/+", s + "/.", s + "/..", "/x/.." + s, "/%2E" + s,
			s + "/%2E/", s + "/" + b.SessionID + "/..", s + "/x/..",
		} {
			if st, hops := adaptertest.DeleteFollowing(t, srv.URL+p, a.AccessToken); st != 404 && st != 405 && st != 400 {
				t.Errorf("DELETE %s: %d after %q, want 404", p, st, hops)
			}
		}
		srv.Close()
		for _, tk := range []*core.TokenResponse{a, b} {
			if _, err := f.Service.Authenticate(context.Background(), tk.AccessToken); err != nil {
				t.Fatalf("%s: a session was revoked: %v", prefix, err)
			}
		}
	}
}
