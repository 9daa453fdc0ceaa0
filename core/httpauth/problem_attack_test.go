package httpauth_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
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

// fixedDescriptions are the descriptions of every answer that is not a 400
// invalid_request (one per kind).
var fixedDescriptions = []string{
	"invalid credentials or refresh token", "authentication required", "invalid or expired access token",
	"insufficient permissions", "not found", "too many attempts, retry later",
	"service temporarily unavailable, retry later", "internal server error",
}

var attackCodes = []string{
	wire.CodeInvalidRequest, wire.CodeInvalidGrant, wire.CodeInvalidToken, wire.CodeInsufficientScope,
	wire.CodeNotFound, wire.CodeTooManyRequests, wire.CodeServerError, wire.CodeTemporarilyUnavailable,
}

// randomBody is a login, refresh or logout body, valid or broken in one of
// many ways, carrying a marker string that no answer may echo.
func randomBody(r *rand.Rand, marker string) string {
	vals := []string{
		`"` + marker + `"`, `"` + marker + `@example.com"`, `"` + authtest.UserEmail + `"`, `"nobody-` + marker + `@example.com"`,
		`1`, `true`, `null`, `[]`, `{}`, `{"name":"` + marker + `"}`, `"` + strings.Repeat("a", 300) + marker + `"`,
		`"\u0000` + marker + `"`, `"\ud800` + marker + `"`, `"` + marker + "\\n\\r" + `"`, `{"name":1}`, `-1e999`,
		`"` + authtest.Password + `"`, `""`,
	}
	keys := []string{"email", "password", "device", "refreshToken", "Email", marker, "email\u0000"}
	switch r.IntN(8) {
	case 0:
		return marker
	case 1:
		return `[` + vals[r.IntN(len(vals))] + `]`
	case 2:
		return `{"email":` + vals[r.IntN(len(vals))] + `,"password":` + vals[r.IntN(len(vals))] + `,"device":` + vals[r.IntN(len(vals))] + `}`
	case 3:
		return `{"refreshToken":` + vals[r.IntN(len(vals))] + `}`
	case 4:
		return `{"email":"a@b.c","email":` + vals[r.IntN(len(vals))] + `,"password":"x"}`
	case 5:
		return ""
	case 6:
		return `{"refreshToken":"` + marker + `"` // truncated
	}
	var b strings.Builder
	b.WriteString("{")
	for i := range r.IntN(4) {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%q:%s", keys[r.IntN(len(keys))], vals[r.IntN(len(vals))])
	}
	b.WriteString("}")
	return b.String()
}

// Random bodies and headers on login, refresh and logout: every answer is
// JSON; every error carries a code of the contract and a description from
// the fixed table (a 400 invalid_request names its cause from
// RequestDescriptions, any other answer has its kind's one text), never an
// echo of the request; and every refusal writes exactly one log line.
func TestAttackRandomTokenRequests(t *testing.T) {
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.LoginThrottle.DisabledUnsafe = true }})
	mux := http.NewServeMux()
	httpauth.Mount(mux, f.Service)
	h := httpauth.ExactPaths(f.Service, mux)
	table := slices.Collect(func(yield func(string) bool) {
		for _, d := range wire.RequestDescriptions() {
			if !yield(d) {
				return
			}
		}
	})
	table = append(table, wire.GenericRequestDescription)
	r := rand.New(rand.NewPCG(7, 7))
	seen := map[string]int{}
	defer func() {
		if len(seen) < 10 {
			t.Errorf("only %d distinct answers: the generator does not reach enough refusals: %v", len(seen), seen)
		}
	}()
	for i := range 400 {
		marker := fmt.Sprintf("Zq%dxK", i)
		path := []string{"/auth/login", "/auth/refresh", "/auth/logout"}[r.IntN(3)]
		body := randomBody(r, marker)
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		if body == "" && r.IntN(2) == 0 {
			req = httptest.NewRequest("POST", path, nil)
		}
		req.Header.Set("Content-Type", []string{"application/json", "application/json; charset=utf-8", "text/plain", "", "application/json;" + marker, "APPLICATION/JSON", "application/jsonx"}[r.IntN(7)])
		if r.IntN(3) == 0 {
			req.Header.Set(wire.HeaderTransport, []string{"cookie", "COOKIE", " cookie ", marker}[r.IntN(4)])
		}
		if r.IntN(4) == 0 {
			req.Header.Set("Origin", []string{"https://" + marker, "null", ""}[r.IntN(3)])
		}
		if r.IntN(4) == 0 {
			req.Header.Set("Sec-Fetch-Site", []string{"cross-site", "same-origin", marker}[r.IntN(3)])
		}
		for range r.IntN(3) {
			req.Header.Add("Cookie", wire.RefreshCookieName+"="+[]string{marker, "", `"` + marker + `"`}[r.IntN(3)])
		}
		for range r.IntN(3) {
			req.Header.Add("Authorization", []string{"Bearer " + marker, "Bearer", "Basic " + marker, "bearer  " + marker + "==", "Bearer a.b.c"}[r.IntN(5)])
		}
		before := strings.Count(f.Logs.String(), "\n")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		lines := strings.Count(f.Logs.String(), "\n") - before
		what := fmt.Sprintf("#%d POST %s %q %v", i, path, body, req.Header)
		seen[fmt.Sprint(w.Code, " ", w.Body.String())]++
		if w.Code == 204 {
			continue
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s: %d with Content-Type %q", what, w.Code, ct)
		}
		if strings.Contains(w.Body.String(), marker) {
			t.Fatalf("%s: the answer echoes the request: %s", what, w.Body)
		}
		if w.Code == 200 {
			continue
		}
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || !slices.Contains(attackCodes, e.Error) {
			t.Fatalf("%s: %d %s: not an error of the contract", what, w.Code, w.Body)
		}
		if e.Error == wire.CodeInvalidRequest && !slices.Contains(table, e.Description) ||
			e.Error != wire.CodeInvalidRequest && !slices.Contains(fixedDescriptions, e.Description) {
			t.Fatalf("%s: %d %s: description not from the fixed table", what, w.Code, w.Body)
		}
		if lines != 1 {
			t.Fatalf("%s: %d %s: %d log lines, want exactly one:\n%s", what, w.Code, w.Body, lines, f.Logs.String()[len(f.Logs.String())-min(len(f.Logs.String()), 2000):])
		}
	}
}

// A login for an account that exists and one for an address that does not,
// both with a wrong password, get the same answer.
func TestAttackLoginDoesNotTellAccountsApart(t *testing.T) {
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.LoginThrottle.DisabledUnsafe = true }})
	mux := http.NewServeMux()
	httpauth.Mount(mux, f.Service)
	send := func(email, password string) string {
		req := httptest.NewRequest("POST", "/auth/login", strings.NewReader(`{"email":"`+email+`","password":"`+password+`"}`))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		return fmt.Sprint(w.Code, w.Header(), w.Body)
	}
	for _, pw := range []string{"wrong password", "", strings.Repeat("x", 1000)} {
		if a, b := send(authtest.UserEmail, pw), send("nobody@example.com", pw); a != b {
			t.Errorf("password %.10q: existing account %s, unknown %s", pw, a, b)
		}
	}
}
