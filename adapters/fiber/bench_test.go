package fiberauth_test

import (
	"net"
	"testing"

	fiberauth "github.com/authguard/authguard/adapters/fiber"
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/token"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// BenchmarkRequire measures one guarded request through fiber's handler on
// a reused fasthttp.RequestCtx (as the server runs it, without the network):
// route match, Require (token verification, session liveness, principal in
// Locals and the user context) and a handler answering 204.
func BenchmarkRequire(b *testing.B) {
	for _, alg := range []string{token.AlgEdDSA, token.AlgHS256} {
		b.Run(alg, func(b *testing.B) {
			f := authtest.New(b, authtest.Options{Alg: alg})
			tok := login(b, f.Service, authtest.UserEmail)
			app := newApp()
			app.Get("/api/profile", fiberauth.Require(f.Service), func(c *fiber.Ctx) error {
				if _, ok := fiberauth.PrincipalFrom(c); !ok {
					b.Fatal("no principal")
				}
				c.Status(fiber.StatusNoContent)
				return nil
			})
			h := app.Handler()
			var ctx fasthttp.RequestCtx
			ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1234}, nil)
			ctx.Request.Header.SetMethod("GET")
			ctx.Request.SetRequestURI("/api/profile")
			ctx.Request.Header.Set("Authorization", "Bearer "+tok)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				// As the server does between two requests on a connection.
				ctx.Response.Reset()
				ctx.ResetUserValues()
				h(&ctx)
				if code := ctx.Response.StatusCode(); code != fiber.StatusNoContent {
					b.Fatalf("status %d", code)
				}
			}
		})
	}
}

// BenchmarkAuthorizeRoute measures AuthorizeRoute (HS256) on the route and
// under app.Use, where the route the request will match is looked up among
// the app's routes (ten of them here).
func BenchmarkAuthorizeRoute(b *testing.B) {
	for _, mode := range []string{"route", "use"} {
		b.Run(mode, func(b *testing.B) {
			f := authtest.New(b, authtest.Options{Alg: token.AlgHS256, Config: func(c *core.Config) {
				c.Authorizer = core.StaticAuthorizer{"user": {"/api/reports/:id:GET"}}
			}})
			tok := login(b, f.Service, authtest.UserEmail)
			app := newApp()
			var guards []fiber.Handler
			if mode == "use" {
				app.Use(fiberauth.AuthorizeRoute(f.Service))
			} else {
				guards = append(guards, fiberauth.AuthorizeRoute(f.Service))
			}
			ok := func(c *fiber.Ctx) error { c.Status(fiber.StatusNoContent); return nil }
			for _, p := range []string{"/a", "/b/:x", "/c/d", "/api/users/:id", "/api/files/*", "/api/x", "/api/y/:z", "/z", "/api/reports"} {
				app.Get(p, ok)
			}
			app.Get("/api/reports/:id", append(guards, ok)...)
			h := app.Handler()
			var ctx fasthttp.RequestCtx
			ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1234}, nil)
			ctx.Request.Header.SetMethod("GET")
			ctx.Request.SetRequestURI("/api/reports/42")
			ctx.Request.Header.Set("Authorization", "Bearer "+tok)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				ctx.Response.Reset()
				ctx.ResetUserValues()
				h(&ctx)
				if code := ctx.Response.StatusCode(); code != fiber.StatusNoContent {
					b.Fatalf("status %d: %s", code, ctx.Response.Body())
				}
			}
		})
	}
}
