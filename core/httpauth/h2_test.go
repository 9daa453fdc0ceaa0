package httpauth_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/httpauth"
	"github.com/authguard/authguard/core/wire"
)

// h2Server serves the contract's endpoints and a guarded /me over TLS with
// HTTP/2, whose header names arrive in lower case on the wire.
func h2Server(t *testing.T, f *authtest.Fixture) (*httptest.Server, *http.Client) {
	t.Helper()
	mux := http.NewServeMux()
	httpauth.Mount(mux, f.Service)
	mux.Handle("/me", httpauth.Require(f.Service)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := httpauth.PrincipalFrom(r.Context()); ok {
			_, _ = io.WriteString(w, p.Subject)
		}
	})))
	srv := httptest.NewUnstartedServer(mux)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, srv.Client()
}

// h2Do sends one request with exactly the header keys of h (the HTTP/2
// client writes them in lower case) and returns the status and body.
func h2Do(t *testing.T, c *http.Client, method, url, body string, h http.Header) (int, string, *http.Response) {
	t.Helper()
	var rb io.Reader
	if body != "" {
		rb = strings.NewReader(body)
	}
	r, err := http.NewRequest(method, url, rb)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		r.Header[k] = v
	}
	resp, err := c.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("served over %s, want HTTP/2", resp.Proto)
	}
	return resp.StatusCode, string(b), resp
}

// Over HTTP/2 the contract's headers reach the request view whatever the
// case of their names: a bearer under any spelling is accepted, two
// Authorization fields in different cases are two credentials, and the
// cookie transport's headers (X-Auth-Transport, Origin, Sec-Fetch-Site)
// are honoured on login, refresh and logout.
func TestHeaderNamesInAnyCaseOverHTTP2(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	srv, c := h2Server(t, f)
	creds := `{"email":"` + authtest.UserEmail + `","password":"` + authtest.Password + `"}`
	json := []string{"application/json"}

	// Login with cookie transport, its header in upper case.
	code, body, resp := h2Do(t, c, "POST", srv.URL+"/auth/login", creds, http.Header{
		"content-TYPE": json, "X-AUTH-TRANSPORT": {"cookie"}, "ORIGIN": {authtest.Origin}})
	if code != 200 {
		t.Fatalf("cookie login: %d %s", code, body)
	}
	var refresh string
	for _, ck := range resp.Cookies() {
		if ck.Name == wire.RefreshCookieName {
			refresh = ck.Value
		}
	}
	if refresh == "" || strings.Contains(body, `"refreshToken"`) {
		t.Fatalf("cookie login set no refresh cookie or returned the refresh token: %v %s", resp.Header, body)
	}
	tok := body[strings.Index(body, `"accessToken":"`)+len(`"accessToken":"`):]
	tok = tok[:strings.IndexByte(tok, '"')]

	cookie := []string{wire.RefreshCookieName + "=" + refresh}
	for _, tc := range []struct {
		name, method, path string
		h                  http.Header
		want               int
		reason             string // in the refusal's description
	}{
		{"bearer, lower case", "GET", "/me", http.Header{"authorization": {"Bearer " + tok}}, 200, ""},
		{"bearer, upper case", "GET", "/me", http.Header{"AUTHORIZATION": {"bearer " + tok}}, 200, ""},
		{"two bearers, two cases", "GET", "/me", http.Header{"authorization": {"Bearer " + tok}, "Authorization": {"Bearer " + tok}}, 400, "invalid_request"},
		{"refresh, cross-site", "POST", "/auth/refresh", http.Header{"x-auth-transport": {"cookie"}, "cookie": cookie, "SEC-FETCH-SITE": {"cross-site"}}, 400, "cross-site request refused"},
		{"refresh, foreign origin", "POST", "/auth/refresh", http.Header{"x-auth-transport": {"cookie"}, "cookie": cookie, "oRiGiN": {"https://evil.example"}}, 400, "origin not allowed"},
		{"refresh, two origins", "POST", "/auth/refresh", http.Header{"x-auth-transport": {"cookie"}, "cookie": cookie, "origin": {authtest.Origin}, "Origin": {authtest.Origin}}, 400, "origin not allowed"},
		{"logout, foreign origin", "POST", "/auth/logout", http.Header{"X-Auth-Transport": {"COOKIE"}, "cookie": cookie, "ORIGIN": {"https://evil.example"}}, 400, "origin not allowed"},
		{"refresh, allowed origin", "POST", "/auth/refresh", http.Header{"x-auth-transport": {"cookie"}, "cookie": cookie, "origin": {authtest.Origin}, "sec-fetch-site": {"same-origin"}}, 200, ""},
	} {
		code, body, _ := h2Do(t, c, tc.method, srv.URL+tc.path, "", tc.h)
		if code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, code, body, tc.want)
		}
		if !strings.Contains(body, tc.reason) {
			t.Errorf("%s: %s, want the reason %s", tc.name, body, tc.reason)
		}
		if tc.want == 200 && tc.path == "/me" && body != f.UserID {
			t.Errorf("%s: subject %q, want %q", tc.name, body, f.UserID)
		}
	}
}

// A middleware in front of the guard that sets the Authorization header
// under a key that is not canonical is not read, as Header.Get and
// Header.Values would not read it either; next to the canonical key, only
// the canonical one counts.
func TestNonCanonicalKeysFromAMiddleware(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	tr, err := f.Service.Login(context.Background(), core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	tok := tr.AccessToken
	guard := httpauth.Require(f.Service)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	for _, tc := range []struct {
		h    http.Header
		want int
	}{
		{http.Header{"authorization": {"Bearer " + tok}}, 401},
		{http.Header{"authorization": {"Bearer " + tok}, "Authorization": {"Bearer " + tok}}, 200},
		{http.Header{"AUTHORIZATION": {"Bearer x"}, "Authorization": {"Bearer " + tok}}, 200},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header = tc.h
		if n := len(r.Header.Values("Authorization")); (n == 1) != (tc.want == 200) {
			t.Fatalf("%v: Header.Values sees %d values", tc.h, n)
		}
		w := httptest.NewRecorder()
		guard.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("%v: %d %s, want %d", tc.h, w.Code, w.Body, tc.want)
		}
	}
}
