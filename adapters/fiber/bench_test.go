package fiberauth_test

import (
	"net"
	"testing"

	fiberauth "github.com/authguard/authguard/adapters/fiber"
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
