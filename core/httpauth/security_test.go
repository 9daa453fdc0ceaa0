package httpauth_test

// HTTP-level tests for items of the security checklist (the R-numbers of
// SECURITY.md) that had no test of their own. Each test name carries the
// item number; SECURITY.md maps every item to its tests.

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/httpauth"
	"github.com/authguard/authguard/core/wire"
)

// send serves one request on h and returns the recorded answer.
func secSend(h http.Handler, method, target, body string, header ...string) *httptest.ResponseRecorder {
	var r *http.Request
	if body != "" {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

type secTokenBody struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	SessionID    string `json:"sessionId"`
}

func secTokens(t *testing.T, w *httptest.ResponseRecorder) secTokenBody {
	t.Helper()
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var tb secTokenBody
	if err := json.Unmarshal(w.Body.Bytes(), &tb); err != nil || tb.AccessToken == "" || tb.SessionID == "" {
		t.Fatalf("not a token response: %s", w.Body)
	}
	return tb
}

// secRefreshCookie returns the refresh cookie a response sets.
func secRefreshCookie(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	for _, c := range w.Result().Cookies() {
		if c.Name == wire.RefreshCookieName {
			return c.Value
		}
	}
	t.Fatalf("no refresh cookie set: %v", w.Header())
	return ""
}

// R44: every login creates a new session (refresh-token family) with an id
// the server chooses; a session or family id offered by the client (in the
// body, a header, a cookie, the refresh cookie or a bearer) is never adopted.
func TestR44_LoginNeverAdoptsClientSessionID(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	mux := http.NewServeMux()
	httpauth.Mount(mux, f.Service)
	creds := `"email":"` + authtest.UserEmail + `","password":"` + authtest.Password + `"`

	a := secTokens(t, secSend(mux, "POST", "/auth/login", "{"+creds+"}"))
	planted := "attacker-chosen-session-id"
	seen := map[string]bool{a.SessionID: true}
	for _, id := range []string{a.SessionID, planted} {
		body := `{` + creds + `,"sessionId":"` + id + `","sid":"` + id + `","session_id":"` + id + `","familyId":"` + id + `"}`
		b := secTokens(t, secSend(mux, "POST", "/auth/login", body,
			"X-Session-Id", id, "Cookie", "sid="+id, "Authorization", "Bearer "+a.AccessToken))
		if seen[b.SessionID] || b.SessionID == planted || b.RefreshToken == a.RefreshToken {
			t.Fatalf("login adopted a session id (%q) or reused a refresh token", b.SessionID)
		}
		seen[b.SessionID] = true
	}

	// A cookie-transport login that presents a live refresh cookie starts a
	// new family too; the old cookie keeps its own session.
	first := secSend(mux, "POST", "/auth/login", "{"+creds+"}", "X-Auth-Transport", "cookie")
	c := secTokens(t, first)
	oldCookie := secRefreshCookie(t, first)
	second := secSend(mux, "POST", "/auth/login", "{"+creds+"}", "X-Auth-Transport", "cookie",
		"Cookie", wire.RefreshCookieName+"="+oldCookie)
	d := secTokens(t, second)
	if d.SessionID == c.SessionID || secRefreshCookie(t, second) == oldCookie || seen[d.SessionID] {
		t.Fatal("a login with a refresh cookie continued the existing session")
	}
	again := secSend(mux, "POST", "/auth/refresh", "", "X-Auth-Transport", "cookie", "Cookie", wire.RefreshCookieName+"="+oldCookie)
	if secTokens(t, again).SessionID != c.SessionID {
		t.Fatal("the old cookie no longer names its own session")
	}

	// Every login is its own session in the list, and ending one leaves the others.
	list := secSend(mux, "GET", "/auth/sessions", "", "Authorization", "Bearer "+a.AccessToken)
	var sessions struct {
		Sessions []struct {
			ID string `json:"id"`
		} `json:"sessions"`
	}
	if err := json.Unmarshal(list.Body.Bytes(), &sessions); err != nil || len(sessions.Sessions) != 5 {
		t.Fatalf("sessions: %s, want 5 distinct sessions", list.Body)
	}
	if w := secSend(mux, "POST", "/auth/logout", `{"refreshToken":"`+a.RefreshToken+`"}`); w.Code != 204 {
		t.Fatalf("logout: %d", w.Code)
	}
	if w := secSend(mux, "GET", "/auth/me", "", "Authorization", "Bearer "+d.AccessToken); w.Code != 200 {
		t.Fatalf("another session ended with the first: %d", w.Code)
	}
}

// R61: every token response, and every other answer of the token endpoints
// and the session endpoints (errors and 204s included), carries
// Cache-Control: no-store.
func TestR61_NoStoreOnTokenResponses(t *testing.T) {
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.LoginThrottle.AccountLimit = 1 }})
	mux := http.NewServeMux()
	httpauth.Mount(mux, f.Service)
	login := func(email, password string, header ...string) *httptest.ResponseRecorder {
		b, _ := json.Marshal(map[string]string{"email": email, "password": password})
		return secSend(mux, "POST", "/auth/login", string(b), header...)
	}
	check := func(what string, w *httptest.ResponseRecorder, status int) {
		t.Helper()
		if w.Code != status {
			t.Fatalf("%s: status %d, want %d: %s", what, w.Code, status, w.Body)
		}
		if got := w.Header().Values("Cache-Control"); len(got) != 1 || got[0] != "no-store" {
			t.Fatalf("%s: Cache-Control %q, want no-store", what, got)
		}
	}
	ok := login(authtest.AdminEmail, authtest.Password)
	check("login", ok, 200)
	tk := secTokens(t, ok)
	cookieLogin := login(authtest.AdminEmail, authtest.Password, "X-Auth-Transport", "cookie")
	check("cookie login", cookieLogin, 200)
	cookie := secRefreshCookie(t, cookieLogin)
	refreshed := secSend(mux, "POST", "/auth/refresh", `{"refreshToken":"`+tk.RefreshToken+`"}`)
	check("refresh", refreshed, 200)
	tk = secTokens(t, refreshed)
	check("grace replay", secSend(mux, "POST", "/auth/refresh", `{"refreshToken":"`+secTokens(t, ok).RefreshToken+`"}`), 200)
	check("cookie refresh", secSend(mux, "POST", "/auth/refresh", "", "X-Auth-Transport", "cookie", "Cookie", wire.RefreshCookieName+"="+cookie), 200)
	check("failed refresh", secSend(mux, "POST", "/auth/refresh", `{"refreshToken":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`), 400)
	check("failed login", login(authtest.UserEmail, "a wrong password"), 400)
	check("throttled login", login(authtest.UserEmail, "a wrong password"), 429)
	check("malformed login", secSend(mux, "POST", "/auth/login", `{"email":1}`), 400)
	check("me", secSend(mux, "GET", "/auth/me", "", "Authorization", "Bearer "+tk.AccessToken), 200)
	check("sessions", secSend(mux, "GET", "/auth/sessions", "", "Authorization", "Bearer "+tk.AccessToken), 200)
	check("no credential", secSend(mux, "GET", "/auth/me", ""), 401)
	check("bad token", secSend(mux, "GET", "/auth/me", "", "Authorization", "Bearer a.b.c"), 401)
	check("revoke others", secSend(mux, "DELETE", "/auth/sessions", "", "Authorization", "Bearer "+tk.AccessToken), 204)
	check("logout", secSend(mux, "POST", "/auth/logout", `{"refreshToken":"`+tk.RefreshToken+`"}`), 204)
}
