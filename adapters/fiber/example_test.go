package fiberauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http/httptest"
	"strings"

	fiberauth "github.com/authguard/authguard/adapters/fiber"
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/memstore"
	"github.com/authguard/authguard/core/password"
	"github.com/authguard/authguard/core/token"
	"github.com/gofiber/fiber/v2"
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

// send serves one request through app.Test and returns status and body.
func send(app *fiber.App, method, target, token, body string) (int, string) {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := app.Test(r, -1)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Mount the token endpoints into an existing fiber app and guard a route.
func Example() {
	svc := newService()
	defer svc.Close()

	app := fiber.New(fiber.Config{ReadBufferSize: 16 << 10}) // room for long tokens in the request head
	fiberauth.Mount(app, svc)                                // POST /auth/login, /auth/refresh, /auth/logout, GET /auth/me, ...
	app.Get("/api/profile", fiberauth.Require(svc), func(c *fiber.Ctx) error {
		p, _ := fiberauth.PrincipalFrom(c)
		return c.JSON(fiber.Map{"roles": p.Roles})
	})

	code, _ := send(app, "GET", "/api/profile", "", "")
	fmt.Println(code)

	code, body := send(app, "POST", "/auth/login", "", `{"email":"ada@example.com","password":"correct horse battery staple"}`)
	var tr core.TokenResponse
	_ = json.Unmarshal([]byte(body), &tr)
	fmt.Println(code, tr.TokenType, tr.ExpiresIn)

	fmt.Println(send(app, "GET", "/api/profile", tr.AccessToken, ""))
	// Output:
	// 401
	// 200 Bearer 600
	// 200 {"roles":["admin"]}
}

// Guard a group with Require, then add role and permission checks per
// route: they reuse the principal Require authenticated.
func ExampleRequireRole() {
	svc := newService()
	defer svc.Close()

	app := fiber.New()
	api := app.Group("/api", fiberauth.Require(svc))
	api.Get("/admin/stats", fiberauth.RequireRole(svc, "admin", "auditor"), func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"ok": true})
	})
	api.Delete("/reports/:id", fiberauth.RequirePermission(svc, "reports", "delete"), func(c *fiber.Ctx) error {
		return c.SendStatus(fiber.StatusNoContent)
	})

	code, _ := send(app, "DELETE", "/api/reports/7", "", "")
	fmt.Println(code)
	// Output:
	// 401
}

// Let a handler serve anonymous and authenticated callers alike.
func ExampleOptional() {
	svc := newService()
	defer svc.Close()

	app := fiber.New()
	app.Get("/greeting", fiberauth.Optional(svc), func(c *fiber.Ctx) error {
		if p, ok := fiberauth.PrincipalFrom(c); ok {
			return c.SendString("hello, " + p.Subject)
		}
		return c.SendString("hello, stranger")
	})

	fmt.Println(send(app, "GET", "/greeting", "", ""))
	fmt.Println(send(app, "GET", "/greeting", "not-a-token", ""))
	// Output:
	// 200 hello, stranger
	// 401 {"error":"invalid_token","error_description":"invalid or expired access token"}
}

// AuthorizeRoute asks the Authorizer about the matched route pattern and
// the method: here the object is "/api/reports/:id" and the action
// "DELETE". Put it on the route, not in app.Use or a group's middleware.
func ExampleAuthorizeRoute() {
	svc := newService()
	defer svc.Close()

	app := fiber.New()
	api := app.Group("/api")
	api.Delete("/reports/:id", fiberauth.AuthorizeRoute(svc), func(c *fiber.Ctx) error {
		return c.SendStatus(fiber.StatusNoContent)
	})

	code, _ := send(app, "DELETE", "/api/reports/7", "", "")
	fmt.Println(code)
	// Output:
	// 401
}
