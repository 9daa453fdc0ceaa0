package ginauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	ginauth "github.com/authguard/authguard/adapters/gin"
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/memstore"
	"github.com/authguard/authguard/core/password"
	"github.com/authguard/authguard/core/token"
	"github.com/gin-gonic/gin"
)

// newService builds a service over the memory store with one user, as an
// application would at start (with a persistent store and key in production).
func newService() *core.Service {
	ctx := context.Background()
	st := memstore.New()
	key, err := token.GenerateKey(token.AlgEdDSA)
	if err != nil {
		log.Fatal(err)
	}
	keys, err := token.NewKeySet(key)
	if err != nil {
		log.Fatal(err)
	}
	auth, err := password.NewAuthenticator(st, password.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := auth.CreateUser(ctx, "ada@example.com", "correct horse battery staple", []string{"admin"}); err != nil {
		log.Fatal(err)
	}
	svc, err := core.New(core.Config{
		Issuer:        "https://api.example.com",
		Audience:      "example-app",
		Keys:          keys,
		Store:         st,
		Authenticator: auth,
		Authorizer:    core.StaticAuthorizer{"admin": {"reports:*"}},
		Logger:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	return svc
}

// send serves one request and returns the recorded answer.
func send(h http.Handler, method, target, token, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// Mount the token endpoints into an existing gin server and guard a route.
func Example() {
	svc := newService()
	defer svc.Close()

	r := gin.New()
	ginauth.Mount(r, svc) // POST /auth/login, /auth/refresh, /auth/logout, GET /auth/me, ...
	r.GET("/api/profile", ginauth.Require(svc), func(c *gin.Context) {
		p, _ := ginauth.PrincipalFrom(c)
		c.JSON(http.StatusOK, gin.H{"roles": p.Roles})
	})

	w := send(r, "GET", "/api/profile", "", "")
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))

	w = send(r, "POST", "/auth/login", "", `{"email":"ada@example.com","password":"correct horse battery staple"}`)
	var tr core.TokenResponse
	_ = json.Unmarshal(w.Body.Bytes(), &tr)
	fmt.Println(w.Code, tr.TokenType, tr.ExpiresIn)

	w = send(r, "GET", "/api/profile", tr.AccessToken, "")
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// 401 Bearer realm="authguard"
	// 200 Bearer 600
	// 200 {"roles":["admin"]}
}

// Guard a group with Require, then add role and permission checks per
// route: they reuse the principal Require authenticated.
func ExampleRequireRole() {
	svc := newService()
	defer svc.Close()

	r := gin.New()
	api := r.Group("/api", ginauth.Require(svc))
	api.GET("/admin/stats", ginauth.RequireRole(svc, "admin", "auditor"), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"ok": true})
	})
	api.DELETE("/reports/:id", ginauth.RequirePermission(svc, "reports", "delete"), func(c *gin.Context) {
		c.Status(http.StatusNoContent)
	})

	w := send(r, "DELETE", "/api/reports/7", "", "")
	fmt.Println(w.Code)
	// Output:
	// 401
}

// Let a handler serve anonymous and authenticated callers alike.
func ExampleOptional() {
	svc := newService()
	defer svc.Close()

	r := gin.New()
	r.GET("/greeting", ginauth.Optional(svc), func(c *gin.Context) {
		if p, ok := ginauth.PrincipalFrom(c); ok {
			c.String(http.StatusOK, "hello, "+p.Subject)
			return
		}
		c.String(http.StatusOK, "hello, stranger")
	})

	fmt.Println(send(r, "GET", "/greeting", "", "").Body.String())
	fmt.Println(send(r, "GET", "/greeting", "not-a-token", "").Code)
	// Output:
	// hello, stranger
	// 401
}

// AuthorizeRoute asks the Authorizer about the matched route pattern and
// the method: here the object is "/api/reports/:id" and the action "DELETE".
func ExampleAuthorizeRoute() {
	svc := newService()
	defer svc.Close()

	r := gin.New()
	api := r.Group("/api", ginauth.AuthorizeRoute(svc))
	api.DELETE("/reports/:id", func(c *gin.Context) { c.Status(http.StatusNoContent) })

	fmt.Println(send(r, "DELETE", "/api/reports/7", "", "").Code)
	// Output:
	// 401
}
