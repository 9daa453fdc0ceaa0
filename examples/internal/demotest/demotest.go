// Package demotest holds the end-to-end checks every example server runs
// against its real handler: the contract's token flow and the demo API over
// HTTP, CORS, and a start of the example's run function as `go run` does it.
package demotest

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/authguard/authguard/core/authtest"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authguard/authguard/examples/internal/demo"
	"github.com/authguard/authguard/examples/internal/openapitest"
)

// AllowedOrigin is the cross-origin web app the tests configure
// (AUTHGUARD_ALLOWED_ORIGINS), as an Expo web build on another port.
const AllowedOrigin = "http://localhost:8081"

// OtherOrigin is an origin that is not allowed.
const OtherOrigin = "https://evil.example"

// Env returns an environment for an example: a fresh SQLite file in a test
// directory, AllowedOrigin allowed, plus kv.
func Env(t testing.TB, kv map[string]string) map[string]string {
	m := map[string]string{
		demo.EnvStore:          "sqlite:" + filepath.Join(t.TempDir(), "authguard-demo.db"),
		demo.EnvAllowedOrigins: AllowedOrigin,
	}
	for k, v := range kv {
		m[k] = v
	}
	return m
}

// Getenv turns a map into a getenv function.
func Getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// OpenApp opens a demo App over Env(t, nil); it is closed when the test ends.
func OpenApp(t testing.TB) *demo.App {
	t.Helper()
	return openApp(t, Env(t, nil))
}

func openApp(t testing.TB, env map[string]string) *demo.App {
	t.Helper()
	app, err := demo.Start(context.Background(), Getenv(env), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Close() })
	return app
}

// Client talks to one running example.
type Client struct {
	T    testing.TB
	Base string
	HTTP *http.Client
}

// Response is a read response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map.
func (r *Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.Body, err)
	}
	return m
}

// Do sends one request; headers are given as name, value pairs.
func (c *Client) Do(method, path string, body any, headers ...string) *Response {
	c.T.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.T.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.Base+path, rd)
	if err != nil {
		c.T.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		c.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.T.Fatal(err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func (c *Client) expect(r *Response, status int, what string) {
	c.T.Helper()
	if r.Status != status {
		c.T.Fatalf("%s: status %d, want %d; body %s", what, r.Status, status, r.Body)
	}
}

func (c *Client) expectError(r *Response, status int, code, what string) {
	c.T.Helper()
	c.expect(r, status, what)
	if got := r.JSON(c.T)["error"]; got != code {
		c.T.Fatalf("%s: error %v, want %s", what, got, code)
	}
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

type tokens struct {
	Access, Refresh, Session string
}

func (c *Client) login(email, password string, headers ...string) (tokens, *Response) {
	c.T.Helper()
	r := c.Do("POST", "/auth/login", map[string]any{"email": email, "password": password, "device": map[string]string{"name": "e2e"}}, headers...)
	c.expect(r, 200, "login "+email)
	m := r.JSON(c.T)
	if m["tokenType"] != "Bearer" || m["expiresIn"] != float64(600) || r.Header.Get("Cache-Control") != "no-store" {
		c.T.Fatalf("login %s: token response %s %v", email, r.Body, r.Header)
	}
	rt, _ := m["refreshToken"].(string)
	return tokens{Access: m["accessToken"].(string), Refresh: rt, Session: m["sessionId"].(string)}, r
}

// Flow runs the README's walk-through against a running example: login,
// the demo API with both demo users, the role administration, sessions,
// refresh, logout, cookie transport, the JWKS and an unknown path. kind is
// the store the example runs on (a Store* constant of package demo), as the
// admin stats name it. Every exchange is also validated against
// docs/openapi.yaml (openapitest.Spec.Client).
func Flow(t testing.TB, base, kind string) {
	n := &openapitest.Tally{}
	c := &Client{T: t, Base: base, HTTP: openapitest.Load(t).Client(t, n)}
	defer func() {
		if !n.Consistent(true) {
			t.Errorf("docs/openapi.yaml: the counts do not add up: %s", n)
		}
		t.Logf("docs/openapi.yaml: %s", n)
	}()

	r := c.Do("GET", demo.PathHealth, nil)
	c.expect(r, 200, "healthz")
	if string(r.Body) != `{"status":"ok"}` {
		t.Fatalf("healthz body %s", r.Body)
	}

	r = c.Do("GET", demo.PathProfile, nil)
	c.expectError(r, 401, "invalid_token", "profile without token")
	if got := r.Header.Get("WWW-Authenticate"); got != `Bearer realm="authguard"` {
		t.Fatalf("WWW-Authenticate %q", got)
	}

	c.expectError(c.Do("POST", "/auth/login", map[string]string{"email": "user@example.com", "password": "wrong"}),
		400, "invalid_grant", "login with a wrong password")

	user, _ := c.login("user@example.com", demo.DefaultDemoPassword)
	admin, _ := c.login("admin@example.com", demo.DefaultDemoPassword)

	// Profile and /auth/me agree.
	r = c.Do("GET", demo.PathProfile, nil, bearer(user.Access)...)
	c.expect(r, 200, "user profile")
	prof := r.JSON(t)
	if len(prof) != 2 || prof["sub"] == "" || !equalRoles(prof["roles"], "user") {
		t.Fatalf("profile %s", r.Body)
	}
	r = c.Do("GET", "/auth/me", nil, bearer(user.Access)...)
	c.expect(r, 200, "me")
	if me := r.JSON(t); me["sub"] != prof["sub"] || me["sessionId"] != user.Session || !equalRoles(me["roles"], "user") {
		t.Fatalf("me %s vs profile %v", r.Body, prof)
	}

	// Role admin.
	r = c.Do("GET", demo.PathAdminStats, nil, bearer(user.Access)...)
	c.expectError(r, 403, "insufficient_scope", "admin stats as user")
	if got := r.Header.Get("WWW-Authenticate"); got != `Bearer realm="authguard", error="insufficient_scope"` {
		t.Fatalf("WWW-Authenticate %q", got)
	}
	r = c.Do("GET", demo.PathAdminStats, nil, bearer(admin.Access)...)
	c.expect(r, 200, "admin stats as admin")
	if st := r.JSON(t); st["users"] != float64(2) || st["store"] != kind {
		t.Fatalf("stats %s", r.Body)
	}

	// Permissions reports/read and reports/delete.
	for _, tok := range []string{user.Access, admin.Access} {
		r = c.Do("GET", demo.PathReports, nil, bearer(tok)...)
		c.expect(r, 200, "reports")
		if reps, _ := r.JSON(t)["reports"].([]any); len(reps) == 0 {
			t.Fatalf("reports %s", r.Body)
		}
	}
	c.expectError(c.Do("GET", demo.PathReports, nil), 401, "invalid_token", "reports without token")
	c.expectError(c.Do("DELETE", demo.PathReports+"/1", nil, bearer(user.Access)...), 403, "insufficient_scope", "delete as user")
	r = c.Do("DELETE", demo.PathReports+"/1", nil, bearer(admin.Access)...)
	c.expect(r, 204, "delete as admin")
	if len(r.Body) != 0 {
		t.Fatalf("204 with a body %q", r.Body)
	}
	c.expectError(c.Do("DELETE", demo.PathReports+"/42", nil, bearer(admin.Access)...), 404, "not_found", "delete an unknown report")

	// Role administration: the policy, not the token, decides the next request.
	roles := "/auth/admin/roles/" + prof["sub"].(string)
	r = c.Do("GET", roles, nil, bearer(admin.Access)...)
	c.expect(r, 200, "roles of the user")
	if m := r.JSON(t); m["subject"] != prof["sub"] || !equalRoles(m["roles"], "user") {
		t.Fatalf("roles %s", r.Body)
	}
	c.expectError(c.Do("GET", roles, nil, bearer(user.Access)...), 403, "insufficient_scope", "roles as user")
	c.expect(c.Do("PUT", roles+"/admin", nil, bearer(admin.Access)...), 204, "give the user admin")
	c.expect(c.Do("GET", demo.PathAdminStats, nil, bearer(user.Access)...), 200, "admin stats as a user given admin")
	c.expect(c.Do("DELETE", roles+"/admin", nil, bearer(admin.Access)...), 204, "take admin back")
	c.expect(c.Do("DELETE", roles+"/admin", nil, bearer(admin.Access)...), 204, "take admin back again")
	c.expectError(c.Do("GET", demo.PathAdminStats, nil, bearer(user.Access)...), 403, "insufficient_scope", "admin stats after revoke")
	c.expectError(c.Do("PUT", roles+"/superuser", nil, bearer(admin.Access)...), 400, "invalid_request", "unknown role")
	c.expectError(c.Do("GET", "/auth/admin/roles/no-such-user", nil, bearer(admin.Access)...), 404, "not_found", "unknown subject")

	// Sessions.
	r = c.Do("GET", "/auth/sessions", nil, bearer(user.Access)...)
	c.expect(r, 200, "sessions")
	var sl struct {
		Sessions []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
			Device  struct {
				Name string `json:"name"`
			} `json:"device"`
		} `json:"sessions"`
	}
	if err := json.Unmarshal(r.Body, &sl); err != nil || len(sl.Sessions) != 1 || sl.Sessions[0].ID != user.Session ||
		!sl.Sessions[0].Current || sl.Sessions[0].Device.Name != "e2e" {
		t.Fatalf("sessions %s", r.Body)
	}

	// Refresh rotates; the new access token works.
	r = c.Do("POST", "/auth/refresh", map[string]string{"refreshToken": user.Refresh})
	c.expect(r, 200, "refresh")
	m := r.JSON(t)
	refreshed := tokens{Access: m["accessToken"].(string), Refresh: m["refreshToken"].(string), Session: m["sessionId"].(string)}
	if refreshed.Refresh == user.Refresh || refreshed.Session != user.Session {
		t.Fatalf("refresh did not rotate: %s", r.Body)
	}
	c.expect(c.Do("GET", demo.PathProfile, nil, bearer(refreshed.Access)...), 200, "profile after refresh")

	// Logout ends the session: its access tokens and refresh token stop working.
	c.expect(c.Do("POST", "/auth/logout", map[string]string{"refreshToken": refreshed.Refresh}), 204, "logout")
	c.expectError(c.Do("GET", demo.PathProfile, nil, bearer(refreshed.Access)...), 401, "invalid_token", "profile after logout")
	c.expectError(c.Do("POST", "/auth/refresh", map[string]string{"refreshToken": refreshed.Refresh}), 400, "invalid_grant", "refresh after logout")
	c.expect(c.Do("POST", "/auth/logout", map[string]string{"refreshToken": refreshed.Refresh}), 204, "second logout")

	// Revoke one session of one's own by id.
	r = c.Do("DELETE", "/auth/sessions/"+admin.Session, nil, bearer(admin.Access)...)
	c.expect(r, 204, "revoke own session")
	c.expectError(c.Do("GET", demo.PathReports, nil, bearer(admin.Access)...), 401, "invalid_token", "reports after revoke")

	// Cookie transport for a web app on the allowed origin.
	web, lr := c.login("user@example.com", demo.DefaultDemoPassword, "X-Auth-Transport", "cookie", "Origin", AllowedOrigin)
	if web.Refresh != "" {
		t.Fatalf("cookie transport: refresh token in the body: %s", lr.Body)
	}
	cookie := refreshCookie(t, lr)
	r = c.Do("POST", "/auth/refresh", nil, "X-Auth-Transport", "cookie", "Origin", AllowedOrigin, "Cookie", cookie)
	c.expect(r, 200, "cookie refresh")
	next := refreshCookie(t, r)
	if next == cookie {
		t.Fatal("cookie refresh did not rotate")
	}
	c.expectError(c.Do("POST", "/auth/refresh", nil, "X-Auth-Transport", "cookie", "Origin", OtherOrigin, "Cookie", next),
		400, "invalid_request", "cookie refresh from another origin")
	r = c.Do("POST", "/auth/logout", nil, "X-Auth-Transport", "cookie", "Origin", AllowedOrigin, "Cookie", next)
	c.expect(r, 204, "cookie logout")
	if sc := r.Header.Get("Set-Cookie"); !strings.Contains(sc, "__Secure-authguard-refresh=;") || !strings.Contains(sc, "Max-Age=0") {
		t.Fatalf("cookie logout does not clear the cookie: %q", sc)
	}

	// JWKS.
	r = c.Do("GET", "/.well-known/jwks.json", nil)
	c.expect(r, 200, "jwks")
	if keys, _ := r.JSON(t)["keys"].([]any); len(keys) != 1 || strings.Contains(string(r.Body), `"d"`) {
		t.Fatalf("jwks %s", r.Body)
	}

	// A path no route matches.
	c.expectError(c.Do("GET", "/api/no-such-route", nil), 404, "not_found", "unknown path")
}

// refreshCookie returns "name=value" of the refresh cookie set by r.
func refreshCookie(t testing.TB, r *Response) string {
	t.Helper()
	for _, sc := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(sc, "__Secure-authguard-refresh=") {
			for _, want := range []string{"HttpOnly", "Secure", "SameSite=Strict", "Path=/auth"} {
				if !strings.Contains(sc, want) {
					t.Fatalf("refresh cookie %q lacks %s", sc, want)
				}
			}
			nv, _, _ := strings.Cut(sc, ";")
			return nv
		}
	}
	t.Fatalf("no refresh cookie in %v", r.Header)
	return ""
}

func equalRoles(v any, want ...string) bool {
	got, ok := v.([]any)
	if !ok || len(got) != len(want) {
		return false
	}
	for i := range want {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// CORS checks the CORS answers: preflight and actual requests from the
// allowed origin get them, with credentials and the contract's headers; any
// other origin gets no CORS header at all.
func CORS(t testing.TB, base string) {
	c := &Client{T: t, Base: base}
	for _, pf := range []struct{ method, path, headers string }{
		{"POST", "/auth/login", "content-type,x-auth-transport"},
		{"POST", "/auth/refresh", "x-auth-transport"},
		{"GET", demo.PathProfile, "authorization"},
		{"DELETE", demo.PathReports + "/1", "authorization"},
		{"DELETE", "/auth/sessions/abc", "authorization"},
	} {
		what := "preflight " + pf.method + " " + pf.path
		r := c.Do("OPTIONS", pf.path, nil, "Origin", AllowedOrigin,
			"Access-Control-Request-Method", pf.method, "Access-Control-Request-Headers", pf.headers)
		if r.Status != 200 && r.Status != 204 {
			t.Fatalf("%s: status %d %s", what, r.Status, r.Body)
		}
		if got := r.Header.Get("Access-Control-Allow-Origin"); got != AllowedOrigin {
			t.Fatalf("%s: Allow-Origin %q; headers %v", what, got, r.Header)
		}
		if got := r.Header.Get("Access-Control-Allow-Credentials"); got != "true" {
			t.Fatalf("%s: Allow-Credentials %q", what, got)
		}
		if !listHas(r.Header.Values("Access-Control-Allow-Methods"), pf.method) {
			t.Fatalf("%s: Allow-Methods %q", what, r.Header.Values("Access-Control-Allow-Methods"))
		}
		for _, h := range strings.Split(pf.headers, ",") {
			if !listHas(r.Header.Values("Access-Control-Allow-Headers"), h) {
				t.Fatalf("%s: Allow-Headers %q lacks %s", what, r.Header.Values("Access-Control-Allow-Headers"), h)
			}
		}
	}

	// An actual cross-origin request from the allowed origin.
	r := c.Do("GET", demo.PathHealth, nil, "Origin", AllowedOrigin)
	c.expect(r, 200, "cors GET")
	if r.Header.Get("Access-Control-Allow-Origin") != AllowedOrigin || r.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("cors GET headers %v", r.Header)
	}
	if !listHas(r.Header.Values("Access-Control-Expose-Headers"), "WWW-Authenticate") {
		t.Fatalf("cors GET: Expose-Headers %q", r.Header.Values("Access-Control-Expose-Headers"))
	}
	r = c.Do("POST", "/auth/login", map[string]string{"email": "user@example.com", "password": "wrong"}, "Origin", AllowedOrigin)
	c.expectError(r, 400, "invalid_grant", "cors login failure")
	if r.Header.Get("Access-Control-Allow-Origin") != AllowedOrigin {
		t.Fatalf("cors error response lacks Allow-Origin: %v", r.Header)
	}

	// Another origin: no CORS header, on preflight and on actual requests.
	for _, req := range []struct {
		method, path string
		headers      []string
	}{
		{"OPTIONS", "/auth/login", []string{"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type"}},
		{"OPTIONS", demo.PathProfile, []string{"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization"}},
		{"GET", demo.PathHealth, nil},
	} {
		r := c.Do(req.method, req.path, nil, append([]string{"Origin", OtherOrigin}, req.headers...)...)
		for name := range r.Header {
			if strings.HasPrefix(strings.ToLower(name), "access-control-") {
				t.Fatalf("%s %s from %s: CORS header %s: %v", req.method, req.path, OtherOrigin, name, r.Header)
			}
		}
	}
}

// listHas reports whether a comma-separated header list holds v (case-insensitively).
func listHas(values []string, v string) bool {
	for _, line := range values {
		for _, item := range strings.Split(line, ",") {
			if strings.EqualFold(strings.TrimSpace(item), strings.TrimSpace(v)) {
				return true
			}
		}
	}
	return false
}

// Run is the signature of each example's run function (main calls it with
// os.Getenv and demo.Logger()).
type Run func(ctx context.Context, getenv func(string) string, logger *slog.Logger) error

// Started is an example started by Start.
type Started struct {
	// Base is the server's URL.
	Base string
	// StartLine is the decoded start line.
	StartLine map[string]any
	log       *authtest.LogBuffer
}

// Log returns everything the example logged so far.
func (s *Started) Log() string { return s.log.String() }

// Start runs an example the way `go run ./examples/<router>` does, with the
// default configuration except AUTHGUARD_ADDR=127.0.0.1:0 and a SQLite file
// in a test directory (plus kv), and waits for its start line. When the test
// ends the context is cancelled, and run must return nil (a clean shutdown)
// within the shutdown timeout.
func Start(t testing.TB, run Run, kv map[string]string) *Started {
	t.Helper()
	env := map[string]string{
		demo.EnvAddr:  "127.0.0.1:0",
		demo.EnvStore: "sqlite:" + filepath.Join(t.TempDir(), "authguard-demo.db"),
	}
	for k, v := range kv {
		env[k] = v
	}
	log := &authtest.LogBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, Getenv(env), demo.NewLogger(log, true)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run returned %v after cancel; log:\n%s", err, log.String())
			}
		case <-time.After(demo.ShutdownTimeout + 10*time.Second):
			t.Errorf("no clean shutdown; log:\n%s", log.String())
		}
		if !strings.Contains(log.String(), `"msg":"server stopped"`) {
			t.Errorf("no stop line; log:\n%s", log.String())
		}
	})
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v; log:\n%s", err, log.String())
		default:
		}
		for _, line := range strings.Split(log.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "authguard example server started" {
				addr, _ := m["addr"].(string)
				return &Started{Base: "http://" + addr, StartLine: m, log: log}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no start line; log:\n%s", log.String())
	return nil
}

// StartAndLogin starts the server as `go run ./examples/<router>` (the
// README's first command) does, checks the start line (router name, the
// default demo password announced) and that healthz and a login answer over
// the real listener; Start's cleanup checks the clean shutdown.
func StartAndLogin(t *testing.T, run Run, router string) {
	t.Helper()
	s := Start(t, run, nil)
	if s.StartLine["router"] != router {
		t.Fatalf("start line %v: router is not %q", s.StartLine, router)
	}
	if pw, _ := s.StartLine["demo_password"].(string); !strings.HasPrefix(pw, demo.DefaultDemoPassword) {
		t.Fatalf("start line %v: the default demo password is not announced", s.StartLine)
	}
	c := &Client{T: t, Base: s.Base}
	if r := c.Do("GET", demo.PathHealth, nil); r.Status != 200 {
		t.Fatalf("healthz %d", r.Status)
	}
	if r := c.Do("POST", "/auth/login", map[string]string{"email": "user@example.com", "password": demo.DefaultDemoPassword}); r.Status != 200 {
		t.Fatalf("login %d %s", r.Status, r.Body)
	}
}
