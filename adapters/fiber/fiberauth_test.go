package fiberauth_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	fiberauth "github.com/authguard/authguard/adapters/fiber"
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/wire"
	"github.com/gofiber/fiber/v2"
)

// login returns an access token for email, obtained from the service
// directly.
func login(t testing.TB, svc *core.Service, email string) string {
	t.Helper()
	tr, err := svc.Login(context.Background(), core.LoginInput{
		Email: email, Password: authtest.Password, Client: core.ClientInfo{IP: "192.0.2.1"},
	})
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	return tr.AccessToken
}

func newApp() *fiber.App { return fiber.New(fiber.Config{DisableStartupMessage: true}) }

// call sends one request through app.Test and returns status and body.
func call(t *testing.T, app *fiber.App, method, target, token string) (int, string) {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := app.Test(r, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The guards store the principal in c.Locals and in the user context, where
// code that only receives a context.Context finds it.
func TestPrincipalInUserContext(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	app := newApp()
	app.Get("/x", fiberauth.Require(f.Service), func(c *fiber.Ctx) error {
		p1, ok1 := fiberauth.PrincipalFrom(c)
		p2, ok2 := core.PrincipalFromContext(c.UserContext())
		if !ok1 || !ok2 || p1 != p2 {
			return c.SendStatus(http.StatusInternalServerError)
		}
		return c.SendString(p1.Subject)
	})
	app.Get("/anon", fiberauth.Optional(f.Service), func(c *fiber.Ctx) error {
		_, ok1 := fiberauth.PrincipalFrom(c)
		_, ok2 := core.PrincipalFromContext(c.UserContext())
		if ok1 || ok2 {
			return c.SendStatus(http.StatusInternalServerError)
		}
		return c.SendString("anonymous")
	})
	tok := login(t, f.Service, authtest.UserEmail)
	if code, body := call(t, app, "GET", "/x", tok); code != 200 || body != f.UserID {
		t.Errorf("got %d %q, want 200 %q", code, body, f.UserID)
	}
	if code, body := call(t, app, "GET", "/anon", ""); code != 200 || body != "anonymous" {
		t.Errorf("anonymous: got %d %q", code, body)
	}
}

// RequireRole accepts any one of its roles, authenticates by itself when no
// outer guard ran, and reuses the principal of an outer guard.
func TestRequireRole(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	svc := f.Service
	app := newApp()
	app.Get("/any", fiberauth.RequireRole(svc, "auditor", "admin"), func(c *fiber.Ctx) error { return c.SendString("ok") })
	outer := app.Group("/outer", func(c *fiber.Ctx) error {
		c.SetUserContext(core.ContextWithPrincipal(c.UserContext(), &core.Principal{Subject: "outer", Roles: []string{"admin"}}))
		return c.Next()
	})
	outer.Get("/admin", fiberauth.RequireRole(svc, "admin"), func(c *fiber.Ctx) error {
		p, _ := fiberauth.PrincipalFrom(c)
		return c.SendString(p.Subject)
	})
	admin, user := login(t, svc, authtest.AdminEmail), login(t, svc, authtest.UserEmail)
	if code, _ := call(t, app, "GET", "/any", admin); code != 200 {
		t.Errorf("admin: got %d", code)
	}
	if code, body := call(t, app, "GET", "/any", user); code != 403 || !strings.Contains(body, "insufficient_scope") {
		t.Errorf("user: got %d %s", code, body)
	}
	if code, _ := call(t, app, "GET", "/any", ""); code != 401 {
		t.Errorf("anonymous: got %d", code)
	}
	if code, body := call(t, app, "GET", "/outer/admin", ""); code != 200 || body != "outer" {
		t.Errorf("outer principal not reused: got %d %s", code, body)
	}
}

// recorder is an Authorizer that remembers what it was asked.
type recorder struct {
	mu    sync.Mutex
	calls []string
	deny  bool
}

func (a *recorder) Authorize(_ context.Context, _ *core.Principal, object, action string) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, object+" "+action)
	return !a.deny, nil
}

func (a *recorder) setDeny(deny bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.deny = deny
}

func (a *recorder) take() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.calls
	a.calls = nil
	return c
}

// AuthorizeRoute asks about the route pattern, never the raw path, and
// gives the same answers on a route, as group middleware and under app.Use
// (where fiber has not reached the final route yet): allowed, 403 when the
// Authorizer denies, 403 without asking it when no route matches.
func TestAuthorizeRoute(t *testing.T) {
	for _, mode := range []string{"route", "group", "use"} {
		t.Run(mode, func(t *testing.T) {
			az := &recorder{}
			f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.Authorizer = az }})
			svc := f.Service
			app := newApp()
			handler := func(c *fiber.Ctx) error { return c.SendString("served " + fiberauth.RoutePattern(c)) }
			switch mode {
			case "route":
				api := app.Group("/api")
				api.Get("/reports/:id", fiberauth.AuthorizeRoute(svc), handler)
				api.Delete("/reports/:id", fiberauth.AuthorizeRoute(svc), handler)
			case "group":
				api := app.Group("/api", fiberauth.AuthorizeRoute(svc))
				api.Get("/reports/:id", handler)
				api.Delete("/reports/:id", handler)
			case "use":
				app.Use(fiberauth.AuthorizeRoute(svc))
				app.Get("/api/reports/:id", handler)
				app.Delete("/api/reports/:id", handler)
			}
			tok := login(t, svc, authtest.UserEmail)
			if code, body := call(t, app, "DELETE", "/api/reports/42", tok); code != 200 || body != "served /api/reports/:id" {
				t.Errorf("allowed: got %d %s", code, body)
			}
			if got := az.take(); len(got) != 1 || got[0] != "/api/reports/:id DELETE" {
				t.Errorf("authorizer asked %q, want [/api/reports/:id DELETE]", got)
			}
			az.setDeny(true)
			if code, body := call(t, app, "GET", "/api/reports/42", tok); code != 403 || !strings.Contains(body, "insufficient_scope") {
				t.Errorf("denied: got %d %s", code, body)
			}
			if got := az.take(); len(got) != 1 || got[0] != "/api/reports/:id GET" {
				t.Errorf("authorizer asked %q, want [/api/reports/:id GET]", got)
			}
			if code, _ := call(t, app, "GET", "/api/reports/42", ""); code != 401 {
				t.Errorf("anonymous: got %d, want 401", code)
			}
			if mode != "route" { // a route guard never runs for an unmatched request
				code, body := call(t, app, "GET", "/api/unknown", tok)
				if code != 403 || !strings.Contains(body, "insufficient_scope") {
					t.Errorf("unmatched route: got %d %s", code, body)
				}
				if got := az.take(); len(got) != 0 {
					t.Errorf("authorizer asked %q for an unmatched route", got)
				}
			}
		})
	}
}

// Mount follows the configured mount prefix; the refresh cookie's Path
// agrees with it.
func TestMountPrefix(t *testing.T) {
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.MountPrefix = "/v1/auth" }})
	app := newApp()
	fiberauth.Mount(app, f.Service)
	body := `{"email":"` + authtest.UserEmail + `","password":"` + authtest.Password + `"}`
	r := httptest.NewRequest("POST", "/v1/auth/login", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Auth-Transport", "cookie")
	resp, err := app.Test(r, -1)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Set-Cookie"), "; Path=/v1/auth;") {
		t.Fatalf("login under /v1/auth: got %d %q", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	tok := login(t, f.Service, authtest.UserEmail)
	code, out := call(t, app, "GET", "/v1/auth/me", tok)
	var me struct{ Sub string }
	if code != 200 || json.Unmarshal([]byte(out), &me) != nil || me.Sub != f.UserID {
		t.Fatalf("me under /v1/auth: got %d %s", code, out)
	}
	if code, _ := call(t, app, "GET", "/.well-known/jwks.json", ""); code != 200 {
		t.Fatalf("jwks: got %d", code)
	}
}

// RoutePattern is the matched route's pattern in a route's handlers and in
// Use and group middleware alike; "" when no route matches.
func TestRoutePattern(t *testing.T) {
	app := newApp()
	var got []string
	note := func(c *fiber.Ctx) error { got = append(got, fiberauth.RoutePattern(c)); return c.Next() }
	app.Use(note)
	g := app.Group("/api", note)
	g.Get("/reports/:id", note, func(c *fiber.Ctx) error { return c.SendString(fiberauth.RoutePattern(c)) })
	code, body := call(t, app, "GET", "/api/reports/42", "")
	if code != 200 || body != "/api/reports/:id" || fmt.Sprint(got) != "[/api/reports/:id /api/reports/:id /api/reports/:id]" {
		t.Fatalf("got %d %q, middleware saw %q", code, body, got)
	}
	got = nil
	if code, _ := call(t, app, "GET", "/api/nothing/here", ""); code != 404 || fmt.Sprint(got) != "[ ]" {
		t.Fatalf("unmatched: got %d, middleware saw %q", code, got)
	}
}

// rawExchange sends raw request bytes over a real TCP connection to app and
// returns the raw response head (status line and header lines, without the
// trailing CRLF) and body.
func rawExchange(t *testing.T, addr, req string) (head []string, body string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	length := -1
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the response head: %v", err)
		}
		line = strings.TrimSuffix(line, "\r\n")
		if line == "" {
			break
		}
		head = append(head, line)
		if k, v, ok := strings.Cut(line, ": "); ok && strings.EqualFold(k, "Content-Length") {
			length = 0
			for _, c := range v {
				length = length*10 + int(c-'0')
			}
		}
	}
	if length > 0 {
		b := make([]byte, length)
		if _, err := io.ReadFull(br, b); err != nil {
			t.Fatal(err)
		}
		body = string(b)
	}
	return head, body
}

func headerLines(head []string, name string) []string {
	var out []string
	for _, l := range head[1:] {
		if k, _, _ := strings.Cut(l, ": "); strings.EqualFold(k, name) {
			out = append(out, l)
		}
	}
	return out
}

// The bytes on the wire: Set-Cookie exactly as the core renders it (not
// re-rendered by fasthttp's cookie API), WWW-Authenticate and Content-Type
// untouched, no Content-Type on 204.
func TestWireBytes(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	app := newApp()
	fiberauth.Mount(app, f.Service)
	app.Get("/guarded", fiberauth.Require(f.Service), func(c *fiber.Ctx) error { return c.SendString("ok") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	addr := ln.Addr().String()

	loginBody := `{"email":"` + authtest.UserEmail + `","password":"` + authtest.Password + `"}`
	head, body := rawExchange(t, addr, "POST /auth/login HTTP/1.1\r\nHost: x\r\nX-Auth-Transport: cookie\r\n"+
		"Content-Type: application/json\r\nContent-Length: "+itoa(len(loginBody))+"\r\n\r\n"+loginBody)
	if head[0] != "HTTP/1.1 200 OK" {
		t.Fatalf("login: %q %s", head, body)
	}
	sc := headerLines(head, "Set-Cookie")
	cookieRE := regexp.MustCompile(`^Set-Cookie: __Secure-authguard-refresh=([A-Za-z0-9_-]{43,}); Path=/auth; Max-Age=1209600; HttpOnly; Secure; SameSite=Strict$`)
	if len(sc) != 1 || !cookieRE.MatchString(sc[0]) {
		t.Fatalf("login Set-Cookie lines %q", sc)
	}
	refresh := cookieRE.FindStringSubmatch(sc[0])[1]
	if ct := headerLines(head, "Content-Type"); len(ct) != 1 || ct[0] != "Content-Type: application/json" {
		t.Errorf("login Content-Type lines %q", ct)
	}
	if cc := headerLines(head, "Cache-Control"); len(cc) != 1 || cc[0] != "Cache-Control: no-store" {
		t.Errorf("login Cache-Control lines %q", cc)
	}

	head, _ = rawExchange(t, addr, "POST /auth/logout HTTP/1.1\r\nHost: x\r\nX-Auth-Transport: cookie\r\n"+
		"Cookie: "+wire.RefreshCookieName+"="+refresh+"\r\nContent-Length: 0\r\n\r\n")
	if head[0] != "HTTP/1.1 204 No Content" {
		t.Fatalf("logout: %q", head)
	}
	want := "Set-Cookie: __Secure-authguard-refresh=; Path=/auth; Max-Age=0; HttpOnly; Secure; SameSite=Strict"
	if sc := headerLines(head, "Set-Cookie"); len(sc) != 1 || sc[0] != want {
		t.Errorf("logout Set-Cookie lines %q, want %q", sc, want)
	}
	if ct := headerLines(head, "Content-Type"); len(ct) != 0 {
		t.Errorf("204 with %q", ct)
	}

	head, body = rawExchange(t, addr, "GET /guarded HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x.y.z\r\n\r\n")
	wa := `WWW-Authenticate: Bearer realm="authguard", error="invalid_token"`
	if head[0] != "HTTP/1.1 401 Unauthorized" || len(headerLines(head, "WWW-Authenticate")) != 1 ||
		!strings.EqualFold(headerLines(head, "WWW-Authenticate")[0][:17], wa[:17]) ||
		headerLines(head, "WWW-Authenticate")[0][18:] != wa[18:] {
		t.Errorf("guard: %q", head)
	}
	if want := string(wire.New(f.Service).ErrorResponse(core.ErrInvalidToken).Body); body != want {
		t.Errorf("guard body %q, want %q", body, want)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// RequireRecentAuth lets a request through only within maxAge of the
// password login behind its token; refreshes do not count.
func TestRequireRecentAuth(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	app := newApp()
	app.Post("/account/password", fiberauth.RequireRecentAuth(f.Service, time.Minute), func(c *fiber.Ctx) error {
		return c.SendString("changed")
	})
	tok := login(t, f.Service, authtest.UserEmail)
	f.Clock.Advance(30 * time.Second)
	if code, body := call(t, app, "POST", "/account/password", tok); code != 200 || body != "changed" {
		t.Fatalf("within maxAge: got %d %s", code, body)
	}
	f.Clock.Advance(time.Minute)
	if code, body := call(t, app, "POST", "/account/password", tok); code != 403 || !strings.Contains(body, "insufficient_scope") {
		t.Fatalf("after maxAge: got %d %s", code, body)
	}
	if code, _ := call(t, app, "POST", "/account/password", ""); code != 401 {
		t.Fatalf("anonymous: got %d", code)
	}
}

// Under app.Use, the route is looked up with the app's routing rules: by
// default case-insensitive and blind to a trailing slash, else exact.
func TestRoutePatternFollowsRoutingConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg    fiber.Config
		target string
		want   string
	}{
		{fiber.Config{}, "/API/Reports/42/", "/api/reports/:id"},
		{fiber.Config{}, "/Api/Reports/", "/api/reports"},
		{fiber.Config{}, "/api/reports/42/x", ""},
		{fiber.Config{CaseSensitive: true}, "/API/reports/42", ""},
		{fiber.Config{CaseSensitive: true}, "/api/reports/42", "/api/reports/:id"},
		{fiber.Config{StrictRouting: true}, "/api/reports/", ""},
		{fiber.Config{StrictRouting: true}, "/API/REPORTS", "/api/reports"},
	} {
		tc.cfg.DisableStartupMessage = true
		app := fiber.New(tc.cfg)
		var seen string
		app.Use(func(c *fiber.Ctx) error { seen = fiberauth.RoutePattern(c); return c.Next() })
		ok := func(c *fiber.Ctx) error { return c.SendString(fiberauth.RoutePattern(c)) }
		app.Get("/api/reports", ok)
		app.Get("/api/reports/:id", ok)
		code, body := call(t, app, "GET", tc.target, "")
		if seen != tc.want || (tc.want != "" && (code != 200 || body != tc.want)) || (tc.want == "" && code != 404) {
			t.Errorf("case-sensitive %v, strict %v, %s: middleware saw %q, route answered %d %q; want %q",
				tc.cfg.CaseSensitive, tc.cfg.StrictRouting, tc.target, seen, code, body, tc.want)
		}
	}
}

// The guard reads the Authorization header over fasthttp's own buffer
// (wire.HeaderPeeker), which the next request on the connection
// overwrites. Two users' tokens, alternated on keep-alive
// connections by many clients at once, must each keep yielding their own
// subject: nothing the cache or the principal keeps may point into that
// buffer.
func TestGuardTokensSurviveBufferReuse(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	app := newApp()
	app.Get("/whoami", fiberauth.Require(f.Service), func(c *fiber.Ctx) error {
		p, _ := fiberauth.PrincipalFrom(c)
		return c.SendString(p.Subject)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	url := "http://" + ln.Addr().String() + "/whoami"

	tokens := map[string]string{ // subject -> token
		f.UserID:  login(t, f.Service, authtest.UserEmail),
		f.AdminID: login(t, f.Service, authtest.AdminEmail),
	}
	subjects := []string{f.UserID, f.AdminID}
	const clients, rounds = 16, 100
	var start, done sync.WaitGroup
	start.Add(1)
	errs := make(chan error, clients)
	for i := range clients {
		done.Add(1)
		go func() {
			defer done.Done()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			start.Wait()
			for j := range rounds {
				want := subjects[(i+j)%2]
				r, _ := http.NewRequest("GET", url, nil)
				r.Header.Set("Authorization", "Bearer "+tokens[want])
				resp, err := client.Do(r)
				if err != nil {
					errs <- err
					return
				}
				b, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != 200 || string(b) != want {
					errs <- fmt.Errorf("client %d request %d: %d %q, want 200 %q", i, j, resp.StatusCode, b, want)
					return
				}
			}
		}()
	}
	start.Done()
	done.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Write gives fasthttp a copy of the body: a response shared by many
// requests stays as built when a middleware edits the body fasthttp holds
// in place, and a middleware appending to it extends it.
func TestWriteCopiesTheBody(t *testing.T) {
	shared := &wire.Response{Status: http.StatusOK, Body: []byte(`{"status":"ok"}`)}
	app := newApp()
	app.Use(func(c *fiber.Ctx) error {
		err := c.Next()
		b := c.Response().Body()
		for i := range b {
			b[i] = 'x'
		}
		c.Response().AppendBodyString("!")
		return err
	})
	app.Get("/", func(c *fiber.Ctx) error { return fiberauth.Write(c, shared) })
	for range 2 {
		resp, err := app.Test(httptest.NewRequest("GET", "/", nil))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if want := strings.Repeat("x", len(`{"status":"ok"}`)) + "!"; string(b) != want {
			t.Errorf("body %q, want %q", b, want)
		}
	}
	if got := string(shared.Body); got != `{"status":"ok"}` {
		t.Errorf("the shared response's body became %q", got)
	}
}

// Pipelined requests on one connection, each read by the guard over
// fasthttp's buffer: two users' tokens, a forgery of one of them that
// differs only before its last 32 bytes (the bytes the token cache hashes),
// a token in an Authorization header of another case, an optional guard
// and nested guards, all in one write. Every answer is its own request's,
// in order, and the forgery is refused though the genuine token is cached.
func TestGuardPipelinedRequests(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	app := newApp()
	whoami := func(c *fiber.Ctx) error {
		p, ok := fiberauth.PrincipalFrom(c)
		if !ok {
			return c.SendString("anonymous")
		}
		return c.SendString(p.Subject)
	}
	app.Get("/whoami", fiberauth.Require(f.Service), whoami)
	app.Get("/nested", fiberauth.Require(f.Service), fiberauth.RequireRole(f.Service, "admin"), whoami)
	app.Get("/maybe", fiberauth.Optional(f.Service), whoami)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })

	user, admin := login(t, f.Service, authtest.UserEmail), login(t, f.Service, authtest.AdminEmail)
	forged := []byte(user)
	i := strings.IndexByte(user, '.') + 2 // in the payload, far before the tail
	forged[i] ^= 'A' ^ 'B'
	if forged[i] == user[i] || len(user)-i <= 32 {
		t.Fatal("bad forgery")
	}
	type exchange struct {
		path, header, want string
		status             int
	}
	var xs []exchange
	for range 20 {
		xs = append(xs,
			exchange{"/whoami", "Authorization: Bearer " + user, f.UserID, 200},
			exchange{"/whoami", "authorization: Bearer " + string(forged), "", 401},
			exchange{"/whoami", "AUTHORIZATION: bearer " + admin, f.AdminID, 200},
			exchange{"/nested", "Authorization: Bearer " + admin, f.AdminID, 200},
			exchange{"/nested", "Authorization: Bearer " + user, "", 403},
			exchange{"/maybe", "Authorization: Bearer " + user, f.UserID, 200},
			exchange{"/maybe", "X-None: 1", "anonymous", 200},
			exchange{"/whoami", "Authorization: Bearer " + user + "x", "", 401},
		)
	}
	var out strings.Builder
	for _, x := range xs {
		out.WriteString("GET " + x.path + " HTTP/1.1\r\nHost: x\r\n" + x.header + "\r\n\r\n")
	}
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, out.String()); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	for n, x := range xs {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", n, err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != x.status || (x.status == 200 && string(b) != x.want) {
			t.Fatalf("response %d (%s %.30s): %d %q, want %d %q", n, x.path, x.header, resp.StatusCode, b, x.status, x.want)
		}
	}
}
