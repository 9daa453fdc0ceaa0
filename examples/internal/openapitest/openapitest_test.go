package openapitest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCheckRefusesWhatTheDescriptionForbids: the validation can fail. Each
// exchange breaks the description in one way (or keeps it), and check must
// say so (or not).
func TestCheckRefusesWhatTheDescriptionForbids(t *testing.T) {
	s := Load(t)
	const (
		refresh = "ikqqtv7ygVfmikqqtv7ygVfmikqqtv7ygVfmikqqtv7ygVfm"
		token   = `{"accessToken":"a.b.c","refreshToken":"` + refresh + `","tokenType":"Bearer","expiresIn":600,"refreshExpiresIn":1209600,"sessionId":"s1"}`
		login   = `{"email":"user@example.com","password":"pw"}`
		clear   = "__Secure-authguard-refresh=; Path=/auth; Max-Age=0; HttpOnly; Secure; SameSite=Strict"
		noStore = "Cache-Control: no-store"
		jsonCT  = "Content-Type: application/json"
		grant   = `{"error":"invalid_grant","error_description":"invalid credentials or refresh token"}`
		notJSON = `{"error":"not_found","error_description":"not found"}`
	)
	cases := []struct {
		name           string
		method, target string
		reqHeader      []string
		reqBody        string
		status         int
		header         []string
		body           string
		ok             bool
	}{
		{"a login", "POST", "/auth/login", []string{jsonCT}, login, 200, []string{jsonCT, noStore}, token, true},
		{"a failed login", "POST", "/auth/login", []string{jsonCT}, login, 400, []string{jsonCT, noStore}, grant, true},
		{"a malformed login, answered as such", "POST", "/auth/login", []string{jsonCT}, `[]`, 400, []string{jsonCT, noStore},
			`{"error":"invalid_request","error_description":"request body must be a JSON object"}`, true},
		{"a logout", "POST", "/auth/logout", []string{jsonCT}, `{"refreshToken":"x"}`, 204, []string{noStore, "Set-Cookie: " + clear}, "", true},
		{"the session list", "GET", "/auth/sessions", []string{"Authorization: Bearer a.b.c"}, "", 200, []string{jsonCT, noStore}, `{"sessions":[]}`, true},

		{"an unknown member in a token response", "POST", "/auth/login", []string{jsonCT}, login, 200, []string{jsonCT, noStore},
			strings.Replace(token, `{`, `{"scope":"x",`, 1), false},
		{"a refreshToken of null", "POST", "/auth/login", []string{jsonCT}, login, 200, []string{jsonCT, noStore},
			strings.Replace(token, `"`+refresh+`"`, "null", 1), false},
		{"a token response without Cache-Control", "POST", "/auth/login", []string{jsonCT}, login, 200, []string{jsonCT}, token, false},
		{"a Content-Type with parameters", "POST", "/auth/login", []string{jsonCT}, login, 200,
			[]string{"Content-Type: application/json; charset=utf-8", noStore}, token, false},
		{"a login without a password answered 200", "POST", "/auth/login", []string{jsonCT}, `{"email":"a@b.c"}`, 200, []string{jsonCT, noStore}, token, false},
		{"an undeclared status", "POST", "/auth/login", []string{jsonCT}, login, 401, []string{jsonCT, noStore},
			`{"error":"invalid_token","error_description":"authentication required"}`, false},
		{"a 429 without Retry-After", "POST", "/auth/login", []string{jsonCT}, login, 429, []string{jsonCT, noStore},
			`{"error":"too_many_requests","error_description":"too many attempts, retry later"}`, false},
		{"an error with another description", "POST", "/auth/login", []string{jsonCT}, login, 400, []string{jsonCT, noStore},
			`{"error":"invalid_grant","error_description":"wrong password"}`, false},
		{"a 401 without WWW-Authenticate", "GET", "/auth/me", nil, "", 401, []string{jsonCT, noStore},
			`{"error":"invalid_token","error_description":"authentication required"}`, false},
		{"a challenge of another scheme", "GET", "/auth/me", nil, "", 401, []string{jsonCT, noStore, `WWW-Authenticate: Basic realm="authguard"`},
			`{"error":"invalid_token","error_description":"authentication required"}`, false},
		{"a refresh cookie without HttpOnly", "POST", "/auth/login", []string{jsonCT}, login, 200,
			[]string{jsonCT, noStore, "Set-Cookie: __Secure-authguard-refresh=" + refresh + "; Path=/auth; Max-Age=60; Secure; SameSite=Strict"}, token, false},
		{"a cookie-transport login", "POST", "/auth/login", []string{jsonCT, "X-Auth-Transport: Cookie"}, login, 200,
			[]string{jsonCT, noStore, "Set-Cookie: __Secure-authguard-refresh=" + refresh + "; Path=/auth; Max-Age=60; HttpOnly; Secure; SameSite=Strict"},
			strings.Replace(token, `"refreshToken":"`+refresh+`",`, "", 1), true},
		{"a 200 for a guarded route without a credential", "GET", "/auth/sessions", nil, "", 200, []string{jsonCT, noStore}, `{"sessions":[]}`, false},
		{"a logout 204 with a body", "POST", "/auth/logout", []string{jsonCT}, `{"refreshToken":"x"}`, 204,
			[]string{jsonCT, noStore, "Set-Cookie: " + clear}, `{}`, false},
		{"a logout 204 that does not clear the cookie", "POST", "/auth/logout", []string{jsonCT}, `{"refreshToken":"x"}`, 204, []string{noStore}, "", false},
		{"a JWKS with a private member", "GET", "/.well-known/jwks.json", nil, "", 200, []string{jsonCT, "Cache-Control: public, max-age=300"},
			`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"abc","d":"secret","kid":"k","alg":"EdDSA","use":"sig"}]}`, false},
		{"an unrouted path answered in text", "GET", "/auth//sessions", nil, "", 404, []string{"Content-Type: text/plain", noStore}, "404 page not found", false},
		{"an unrouted path answered 200", "DELETE", "/AUTH/SESSIONS", nil, "", 204, []string{noStore}, "", false},
		{"an unrouted path answered with the JSON 404", "DELETE", "/auth/sessions/", nil, "", 404, []string{jsonCT, noStore}, notJSON, true},
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, c.target, strings.NewReader(c.reqBody))
		for _, kv := range c.reqHeader {
			k, v, _ := strings.Cut(kv, ": ")
			r.Header.Add(k, v)
		}
		h := http.Header{}
		for _, kv := range c.header {
			k, v, _ := strings.Cut(kv, ": ")
			h.Add(k, v)
		}
		msg := s.check(r, []byte(c.reqBody), server{prefix: Prefix}, c.status, h, []byte(c.body), &Tally{})
		if c.ok && msg != "" {
			t.Errorf("%s: refused: %s", c.name, msg)
		}
		if !c.ok && msg == "" {
			t.Errorf("%s: accepted", c.name)
		}
	}
}

// TestSpecPath: paths under a configured prefix map to the description's,
// and the default prefix is not served when another is configured.
func TestSpecPath(t *testing.T) {
	for _, c := range []struct {
		path, prefix, want string
		ok                 bool
	}{
		{"/auth/login", "/auth", "/auth/login", true},
		{"/v1/auth/login", "/v1/auth", "/auth/login", true},
		{"/auth/login", "/v1/auth", "", false},
		{"/.well-known/jwks.json", "/v1/auth", "/.well-known/jwks.json", true},
		{"/v1/authx", "/v1/auth", "/v1/authx", true},
	} {
		if got, ok := specPath(c.path, c.prefix); got != c.want || ok != c.ok {
			t.Errorf("specPath(%q, %q) = %q, %v; want %q, %v", c.path, c.prefix, got, ok, c.want, c.ok)
		}
	}
}
