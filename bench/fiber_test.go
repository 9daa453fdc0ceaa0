package bench_test

import (
	"testing"

	fiberauth "github.com/authguard/authguard/adapters/fiber"
	jwtware "github.com/gofiber/contrib/jwt"
	"github.com/gofiber/fiber/v2"
)

func fiberOK(c *fiber.Ctx) error { return c.Send(okBody) }

func newFiberApp() *fiber.App {
	return fiber.New(fiber.Config{DisableStartupMessage: true})
}

// fiberAuthguard is the authguard row: the default service, whose token
// cache answers a token it has seen.
var fiberAuthguard = routerCase{name: "authguard", build: func(_ testing.TB, f *fixture) target {
	app := newFiberApp()
	app.Get(route, fiberauth.Require(f.svc), fiberOK)
	return newFastTarget(app.Handler())
}}

var fiberCases = []routerCase{
	{name: "none", open: true, build: func(_ testing.TB, _ *fixture) target {
		app := newFiberApp()
		app.Get(route, fiberOK)
		return newFastTarget(app.Handler())
	}},
	fiberAuthguard,
	coldCase(fiberAuthguard),
	{name: "contrib-jwt", build: func(_ testing.TB, f *fixture) target {
		app := newFiberApp()
		app.Get(route, jwtware.New(jwtware.Config{
			SigningKey: jwtware.SigningKey{JWTAlg: f.alg, Key: f.verifyKey},
		}), fiberOK)
		return newFastTarget(app.Handler())
	}},
}

// BenchmarkFiber measures one request through fiber's handler on a reused
// fasthttp.RequestCtx: no auth, fiberauth.Require and gofiber/contrib jwt.
func BenchmarkFiber(b *testing.B) { runRouter(b, fiberCases) }

func TestFiberContenders(t *testing.T) { testRouter(t, fiberCases) }
