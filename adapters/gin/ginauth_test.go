package ginauth_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	ginauth "github.com/authguard/authguard/adapters/gin"
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/gin-gonic/gin"
)

func init() { gin.SetMode(gin.TestMode) }

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

func get(t *testing.T, h http.Handler, method, target, token string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// A guard stores the principal on the request's context too, so plain
// net/http code further down the chain (here behind gin.WrapH) sees it.
func TestPrincipalOnRequestContext(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	r := gin.New()
	plain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := core.PrincipalFromContext(r.Context())
		if !ok {
			http.Error(w, "no principal", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, p.Subject)
	})
	r.GET("/plain", ginauth.Require(f.Service), gin.WrapH(plain))
	r.GET("/both", ginauth.Require(f.Service), func(c *gin.Context) {
		p1, ok1 := ginauth.PrincipalFrom(c)
		p2, ok2 := core.PrincipalFromContext(c.Request.Context())
		if !ok1 || !ok2 || p1 != p2 {
			c.Status(http.StatusInternalServerError)
			return
		}
		c.String(http.StatusOK, p1.Subject)
	})
	tok := login(t, f.Service, authtest.UserEmail)
	for _, path := range []string{"/plain", "/both"} {
		w := get(t, r, "GET", path, tok)
		if w.Code != 200 || w.Body.String() != f.UserID {
			t.Errorf("%s: got %d %q, want 200 %q", path, w.Code, w.Body, f.UserID)
		}
	}
}

// Optional lets an anonymous request through with no principal anywhere.
func TestOptionalAnonymous(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	r := gin.New()
	r.GET("/x", ginauth.Optional(f.Service), func(c *gin.Context) {
		_, ok1 := ginauth.PrincipalFrom(c)
		_, ok2 := core.PrincipalFromContext(c.Request.Context())
		if ok1 || ok2 {
			c.Status(http.StatusInternalServerError)
			return
		}
		c.Status(http.StatusNoContent)
	})
	if w := get(t, r, "GET", "/x", ""); w.Code != http.StatusNoContent {
		t.Fatalf("anonymous: got %d %s", w.Code, w.Body)
	}
}

// RequireRole accepts any one of its roles, authenticates by itself when no
// outer guard ran, and reuses the principal of an outer guard (even one put
// on the request context by net/http middleware wrapped around gin).
func TestRequireRole(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	svc := f.Service
	r := gin.New()
	r.GET("/any", ginauth.RequireRole(svc, "auditor", "admin"), func(c *gin.Context) { c.Status(204) })
	outer := r.Group("/outer", func(c *gin.Context) {
		ctx := core.ContextWithPrincipal(c.Request.Context(), &core.Principal{Subject: "outer", Roles: []string{"admin"}})
		c.Request = c.Request.WithContext(ctx)
	})
	outer.GET("/admin", ginauth.RequireRole(svc, "admin"), func(c *gin.Context) {
		p, _ := ginauth.PrincipalFrom(c)
		c.String(200, p.Subject)
	})
	admin, user := login(t, svc, authtest.AdminEmail), login(t, svc, authtest.UserEmail)

	if w := get(t, r, "GET", "/any", admin); w.Code != 204 {
		t.Errorf("admin: got %d %s", w.Code, w.Body)
	}
	w := get(t, r, "GET", "/any", user)
	if w.Code != 403 || w.Header().Get("WWW-Authenticate") != `Bearer realm="authguard", error="insufficient_scope"` {
		t.Errorf("user: got %d %v %s", w.Code, w.Header(), w.Body)
	}
	w = get(t, r, "GET", "/any", "")
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") != `Bearer realm="authguard"` {
		t.Errorf("anonymous: got %d %v %s", w.Code, w.Header(), w.Body)
	}
	if w := get(t, r, "GET", "/outer/admin", ""); w.Code != 200 || w.Body.String() != "outer" {
		t.Errorf("outer principal not reused: got %d %s", w.Code, w.Body)
	}
}

// recorder is an Authorizer that remembers what it was asked.
type recorder struct {
	mu    sync.Mutex
	calls []string
	allow bool
}

func (a *recorder) Authorize(_ context.Context, _ *core.Principal, object, action string) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, object+" "+action)
	return a.allow, nil
}

func (a *recorder) take() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.calls
	a.calls = nil
	return c
}

// AuthorizeRoute asks about the matched route pattern, never the raw path,
// and refuses requests that matched no route.
func TestAuthorizeRoute(t *testing.T) {
	az := &recorder{allow: true}
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.Authorizer = az }})
	svc := f.Service
	r := gin.New()
	r.Use(ginauth.AuthorizeRoute(svc))
	api := r.Group("/api")
	api.DELETE("/reports/:id", func(c *gin.Context) { c.Status(204) })
	api.GET("/files/*path", func(c *gin.Context) { c.Status(204) })
	tok := login(t, svc, authtest.UserEmail)
	r.GET("/pattern/:name", func(c *gin.Context) { c.String(200, ginauth.RoutePattern(c)) })
	if w := get(t, r, "GET", "/pattern/x", tok); w.Body.String() != "/pattern/:name" {
		t.Errorf("RoutePattern = %q", w.Body)
	}
	az.take()

	for _, tc := range []struct{ method, target, want string }{
		{"DELETE", "/api/reports/42", "/api/reports/:id DELETE"},
		{"GET", "/api/files/a/b/c.txt", "/api/files/*path GET"},
	} {
		if w := get(t, r, tc.method, tc.target, tok); w.Code != 204 {
			t.Errorf("%s %s: got %d %s", tc.method, tc.target, w.Code, w.Body)
		}
		if got := az.take(); len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s %s: authorizer asked %q, want %q", tc.method, tc.target, got, tc.want)
		}
	}

	az.allow = false
	if w := get(t, r, "DELETE", "/api/reports/42", tok); w.Code != 403 {
		t.Errorf("denied: got %d %s", w.Code, w.Body)
	}
	az.take()

	// No route matched: no pattern to authorize, so refused without asking.
	az.allow = true
	if w := get(t, r, "GET", "/nowhere", tok); w.Code != 403 || !strings.Contains(w.Body.String(), "insufficient_scope") {
		t.Errorf("unmatched route: got %d %s", w.Code, w.Body)
	}
	if w := get(t, r, "GET", "/nowhere", ""); w.Code != 401 {
		t.Errorf("unmatched route, anonymous: got %d %s", w.Code, w.Body)
	}
	if got := az.take(); len(got) != 0 {
		t.Errorf("authorizer asked %q for an unmatched route", got)
	}
}

// Mount follows the configured mount prefix; the refresh cookie's Path
// agrees with it.
func TestMountPrefix(t *testing.T) {
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.MountPrefix = "/v1/auth" }})
	r := gin.New()
	ginauth.Mount(r, f.Service)
	body := `{"email":"` + authtest.UserEmail + `","password":"` + authtest.Password + `"}`
	req := httptest.NewRequest("POST", "/v1/auth/login", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Auth-Transport", "cookie")
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	if w.Code != 200 || !strings.Contains(w.Header().Get("Set-Cookie"), "; Path=/v1/auth;") {
		t.Fatalf("login under /v1/auth: got %d %v %s", w.Code, w.Header(), w.Body)
	}
	tok := login(t, f.Service, authtest.UserEmail)
	if w := get(t, r, "GET", "/v1/auth/me", tok); w.Code != 200 {
		t.Fatalf("me under /v1/auth: got %d %s", w.Code, w.Body)
	}
	if w := get(t, r, "GET", "/.well-known/jwks.json", ""); w.Code != 200 {
		t.Fatalf("jwks: got %d", w.Code)
	}
}

// The client IP is the socket peer: gin's ClientIP (which by default trusts
// X-Forwarded-For from any peer) is not used; the core decides.
func TestRemoteAddrIsPeer(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	r := gin.New()
	ginauth.Mount(r, f.Service)
	body := `{"email":"` + authtest.UserEmail + `","password":"` + authtest.Password + `"}`
	req := httptest.NewRequest("POST", "/auth/login", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	req.Header.Set("X-Real-IP", "203.0.113.9")
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	var tr core.TokenResponse
	if err := json.Unmarshal(w.Body.Bytes(), &tr); err != nil || w.Code != 200 {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	w = get(t, r, "GET", "/auth/sessions", tr.AccessToken)
	var out struct {
		Sessions []struct{ IP string } `json:"sessions"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || len(out.Sessions) != 1 {
		t.Fatalf("sessions: %d %s", w.Code, w.Body)
	}
	if got := out.Sessions[0].IP; got != "192.0.2.1" {
		t.Fatalf("session IP = %q, want the peer 192.0.2.1", got)
	}
}

// RequireRecentAuth lets a request through only within maxAge of the
// password login behind its token; refreshes do not count.
func TestRequireRecentAuth(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	r := gin.New()
	r.POST("/account/password", ginauth.RequireRecentAuth(f.Service, time.Minute), func(c *gin.Context) { c.Status(204) })
	tok := login(t, f.Service, authtest.UserEmail)
	f.Clock.Advance(30 * time.Second)
	if w := get(t, r, "POST", "/account/password", tok); w.Code != 204 {
		t.Fatalf("within maxAge: got %d %s", w.Code, w.Body)
	}
	f.Clock.Advance(time.Minute)
	w := get(t, r, "POST", "/account/password", tok)
	if w.Code != 403 || w.Header().Get("WWW-Authenticate") != `Bearer realm="authguard", error="insufficient_scope"` {
		t.Fatalf("after maxAge: got %d %v %s", w.Code, w.Header(), w.Body)
	}
	if w := get(t, r, "POST", "/account/password", ""); w.Code != 401 {
		t.Fatalf("anonymous: got %d", w.Code)
	}
}

// AuthorizeRoute gives the same answers under Use, as group middleware and
// per route: allowed, 403 when the Authorizer denies, 401 without a token,
// and 403 without asking the Authorizer when no route matched.
func TestAuthorizeRouteSameEverywhere(t *testing.T) {
	for _, mode := range []string{"route", "group", "use"} {
		az := &recorder{allow: true}
		f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.Authorizer = az }})
		svc := f.Service
		r := gin.New()
		ok := func(c *gin.Context) { c.String(200, "served "+ginauth.RoutePattern(c)) }
		switch mode {
		case "route":
			r.GET("/api/reports/:id", ginauth.AuthorizeRoute(svc), ok)
			r.DELETE("/api/reports/:id", ginauth.AuthorizeRoute(svc), ok)
		case "group":
			api := r.Group("/api", ginauth.AuthorizeRoute(svc))
			api.GET("/reports/:id", ok)
			api.DELETE("/reports/:id", ok)
		case "use":
			r.Use(ginauth.AuthorizeRoute(svc))
			r.GET("/api/reports/:id", ok)
			r.DELETE("/api/reports/:id", ok)
		}
		tok := login(t, svc, authtest.UserEmail)
		if w := get(t, r, "DELETE", "/api/reports/42", tok); w.Code != 200 || w.Body.String() != "served /api/reports/:id" {
			t.Errorf("%s: allowed: got %d %s", mode, w.Code, w.Body)
		}
		if got := az.take(); len(got) != 1 || got[0] != "/api/reports/:id DELETE" {
			t.Errorf("%s: authorizer asked %q", mode, got)
		}
		az.allow = false
		if w := get(t, r, "GET", "/api/reports/42", tok); w.Code != 403 || !strings.Contains(w.Body.String(), "insufficient_scope") {
			t.Errorf("%s: denied: got %d %s", mode, w.Code, w.Body)
		}
		az.take()
		if w := get(t, r, "GET", "/api/reports/42", ""); w.Code != 401 {
			t.Errorf("%s: anonymous: got %d", mode, w.Code)
		}
		if mode == "use" { // gin runs only the engine's middleware for an unmatched request
			az.allow = true
			if w := get(t, r, "GET", "/api/unknown", tok); w.Code != 403 || !strings.Contains(w.Body.String(), "insufficient_scope") {
				t.Errorf("%s: unmatched route: got %d %s", mode, w.Code, w.Body)
			}
			if got := az.take(); len(got) != 0 {
				t.Errorf("%s: authorizer asked %q for an unmatched route", mode, got)
			}
		}
	}
}

// The principal lives on c.Request's context only: it survives a
// middleware that derives a new request context (a timeout), gin's
// HandleContext re-routing, and copies of the gin context read by many
// goroutines at once; with gin's ContextWithFallback the gin context itself
// is a context.Context that yields it, and without it, it yields none (as
// before the principal left gin's Keys).
func TestPrincipalSurvivesRequestReplacementAndCopies(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	for _, fallback := range []bool{false, true} {
		r := gin.New()
		r.ContextWithFallback = fallback
		subject := func(c *gin.Context) {
			p, ok := ginauth.PrincipalFrom(c)
			if !ok {
				c.String(http.StatusInternalServerError, "no principal")
				return
			}
			if q, ok := core.PrincipalFromContext(c); ok != fallback || (ok && q != p) {
				c.String(http.StatusInternalServerError, "gin context as context.Context: %v", ok)
				return
			}
			const n = 16
			var start, done sync.WaitGroup
			start.Add(1)
			got := make([]string, n)
			for i := range n {
				cp := c.Copy()
				done.Add(1)
				go func() {
					defer done.Done()
					start.Wait()
					if p, ok := ginauth.PrincipalFrom(cp); ok {
						got[i] = p.Subject
					}
				}()
			}
			start.Done()
			done.Wait()
			for _, s := range got {
				if s != p.Subject {
					c.String(http.StatusInternalServerError, "copy: %q", s)
					return
				}
			}
			c.String(http.StatusOK, p.Subject)
		}
		timeout := func(c *gin.Context) {
			ctx, cancel := context.WithTimeout(c.Request.Context(), time.Minute)
			defer cancel()
			c.Request = c.Request.WithContext(ctx)
			c.Next()
		}
		r.GET("/timeout", ginauth.Require(f.Service), timeout, subject)
		r.GET("/target", subject)
		r.GET("/reroute", ginauth.Require(f.Service), func(c *gin.Context) {
			c.Request.URL.Path = "/target"
			r.HandleContext(c)
		})
		r.GET("/nested", ginauth.Require(f.Service), timeout, ginauth.RequireRole(f.Service, "admin"), subject)

		user, admin := login(t, f.Service, authtest.UserEmail), login(t, f.Service, authtest.AdminEmail)
		for _, tc := range []struct {
			path, tok, want string
			code            int
		}{
			{"/timeout", user, f.UserID, 200},
			{"/reroute", user, f.UserID, 200},
			{"/nested", admin, f.AdminID, 200},
			{"/nested", user, "", 403},
		} {
			w := get(t, r, "GET", tc.path, tc.tok)
			if w.Code != tc.code || (tc.code == 200 && w.Body.String() != tc.want) {
				t.Errorf("fallback %v %s: %d %q, want %d %q", fallback, tc.path, w.Code, w.Body, tc.code, tc.want)
			}
		}
	}
}
