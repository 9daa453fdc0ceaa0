package adaptertest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/wire"
)

// CheckCookiePath checks a server whose token endpoints are mounted under a
// router group or sub-router, as a browser would use it: a cookie-transport
// login at {MountPrefix}/login must set the refresh cookie with a Path that
// is a prefix of {MountPrefix}/refresh (else the browser never sends it
// back), and the refresh with that cookie must rotate it. svc must come
// from an authtest fixture (its users and password).
func CheckCookiePath(t *testing.T, svc *core.Service, do Do) {
	t.Helper()
	prefix := svc.Config().MountPrefix
	send := func(path, body, cookie string) *http.Response {
		t.Helper()
		r := httptest.NewRequest("POST", path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(wire.HeaderTransport, "cookie")
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		resp, err := do(r)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		_ = resp.Body.Close()
		return resp
	}
	cookieOf := func(resp *http.Response, what string) *http.Cookie {
		t.Helper()
		for _, c := range resp.Cookies() {
			if c.Name == wire.RefreshCookieName && c.Value != "" {
				return c
			}
		}
		t.Fatalf("%s: %d, no refresh cookie", what, resp.StatusCode)
		return nil
	}
	c := cookieOf(send(prefix+"/login", loginJSON(authtest.UserEmail, authtest.Password), ""), "login at "+prefix+"/login")
	refresh := prefix + "/refresh"
	if p := strings.TrimSuffix(c.Path, "/"); c.Path == "" || refresh != p && !strings.HasPrefix(refresh, p+"/") {
		t.Fatalf("refresh cookie Path %q is not a prefix of %s: a browser would not send it back", c.Path, refresh)
	}
	next := cookieOf(send(refresh, "", c.Name+"="+c.Value), "cookie refresh at "+refresh)
	if next.Value == c.Value {
		t.Fatalf("the refresh at %s did not rotate the cookie", refresh)
	}
}
