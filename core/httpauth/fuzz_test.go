package httpauth_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/httpauth"
	"github.com/authguard/authguard/core/wire"
)

// The Authorization values of adaptertest's guard table.
var authorizationSeeds = []string{
	"", "Bearer", "Bearer ", "bearer", "Bearer a b", "Bearer !!!", "Bearer a,b", `Bearer "abc"`,
	"Basic dXNlcjpwYXNz", "Token abc", "Bearerabc", "Digest username=x",
	"Bearer abc", "bearer abc", "BEARER abc", "BeArEr abc", "Bearer abc.def.ghi",
	"Bearer eyJhbGciOiJFZERTQSIsImtpZCI6ImsiLCJ0eXAiOiJhdCtqd3QifQ.eyJzdWIiOiJ1In0.c2ln",
	"Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "Bearer a==", "Bearer =a", "Bearer\tabc", "Bearer  abc",
	"Bearer " + strings.Repeat("a", 9000),
}

func isToken68(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~+/=", c) >= 0) {
			return false
		}
	}
	return s != ""
}

// FuzzParseBearer checks wire.ParseBearer's three outcomes: another scheme
// (ok=false, no error), a malformed bearer (ErrInvalidToken), or a token of
// token68 characters that round-trips.
func FuzzParseBearer(f *testing.F) {
	for _, s := range authorizationSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		tok, ok, err := wire.ParseBearer(h)
		isBearer := len(h) >= 6 && strings.EqualFold(h[:6], "bearer") && (len(h) == 6 || h[6] == ' ')
		switch {
		case err != nil:
			if !ok || tok != "" || !errors.Is(err, core.ErrInvalidToken) {
				t.Fatalf("%q: error %v with ok=%v tok=%q", h, err, ok, tok)
			}
			if !isBearer {
				t.Fatalf("%q: not a Bearer header but refused as a malformed one", h)
			}
		case !ok:
			if tok != "" || isBearer {
				t.Fatalf("%q: a Bearer header reported as another scheme (tok=%q)", h, tok)
			}
		default:
			if !isBearer || !isToken68(tok) || !strings.HasSuffix(h, tok) {
				t.Fatalf("%q: accepted token %q", h, tok)
			}
			if again, ok2, err2 := wire.ParseBearer("Bearer " + tok); again != tok || !ok2 || err2 != nil {
				t.Fatalf("%q: token %q does not round-trip", h, tok)
			}
		}
	})
}

// FuzzLoginBody sends arbitrary bytes as the JSON body of the login,
// refresh and logout endpoints: never a panic or a 5xx, only the statuses
// of the contract, and every error body is a contract error body.
func FuzzLoginBody(f *testing.F) {
	for _, s := range []string{
		`{"email":"user@example.com","password":"correct horse battery staple"}`,
		`{"email":"user@example.com","password":"correct horse battery staple","device":{"name":"Pixel"}}`,
		`{"email":"user@example.com","password":"wrong"}`, `{"email":null,"password":1}`, `{"email":["a"]}`,
		`[]`, `null`, `"x"`, `{`, ``, ` `, `{}`, `{"refreshToken":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`,
		`{"refreshToken":5}`, `{"refreshToken":""}`, `{"email":"a","password":"b"} {}`, "{\"email\":\"\xff\",\"password\":\"x\"}",
		`{"EMAIL":"user@example.com","PASSWORD":"x"}`, `{"email":"user@example.com","password":"` + strings.Repeat("p", 1025) + `"}`,
	} {
		f.Add([]byte(s))
	}
	fx := authtest.New(f, authtest.Options{})
	mux := http.NewServeMux()
	httpauth.Mount(mux, fx.Service)
	allowed := map[string][]int{
		"/auth/login":   {200, 400, 413, 429},
		"/auth/refresh": {200, 400, 413},
		"/auth/logout":  {204, 400, 413},
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for path, statuses := range allowed {
			r := httptest.NewRequest("POST", path, bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			if !slices.Contains(statuses, w.Code) {
				t.Fatalf("%s %q: status %d, want one of %v (body %s)", path, body, w.Code, statuses, w.Body)
			}
			if w.Code >= 400 {
				var e map[string]string
				if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || len(e) != 2 || e["error"] == "" || e["error_description"] == "" {
					t.Fatalf("%s %q: error body %s", path, body, w.Body)
				}
			}
		}
	})
}

// FuzzLogoutAuthorization sends arbitrary Authorization values to logout,
// which must stay idempotent: 204, or 400 when no bearer credential is
// given; never 401.
func FuzzLogoutAuthorization(f *testing.F) {
	for _, s := range authorizationSeeds {
		f.Add(s)
	}
	fx := authtest.New(f, authtest.Options{})
	h := httpauth.Logout(fx.Service)
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest("POST", "/auth/logout", nil)
		r.Header["Authorization"] = []string{v}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 204 && w.Code != 400 {
			t.Fatalf("%q: status %d %s", v, w.Code, w.Body)
		}
	})
}
