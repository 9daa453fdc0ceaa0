// Command fiber is the authguard example server on fiber v2 (fasthttp, no
// net/http bridge): the token endpoints of the wire contract (mounted with
// fiberauth.Mount), the demo API and CORS for AUTHGUARD_ALLOWED_ORIGINS
// (fiber's own cors middleware). It needs no flags and no running service:
//
//	go run ./examples/fiber
//
// Configuration comes from the AUTHGUARD_* environment variables; see
// examples/README.md.
package main

import (
	"context"
	"log/slog"

	fiberauth "github.com/authguard/authguard/adapters/fiber"
	"github.com/authguard/authguard/examples/internal/demo"
	"github.com/authguard/authguard/examples/internal/fiberdemo"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
)

func main() { demo.Main(run) }

func run(ctx context.Context, getenv func(string) string, logger *slog.Logger) error {
	app, err := demo.Start(ctx, getenv, logger)
	if err != nil {
		return err
	}
	defer app.Close()
	return fiberdemo.Serve(ctx, app, newApp(app))
}

// newApp builds the whole server: CORS, the contract's endpoints and the
// demo API.
func newApp(app *demo.App) *fiber.App {
	svc := app.Service
	f := fiber.New(fiberdemo.Config(svc))
	f.Use(fiberdemo.CORS(app.Config))

	fiberauth.Mount(f, svc)
	fiberauth.MountRoleAdmin(f, svc, app.Roles) // GET, PUT, DELETE /auth/admin/roles/:subject[/:role]

	f.Get(demo.PathHealth, func(c *fiber.Ctx) error { return fiberauth.Write(c, demo.Health()) })
	if h := app.MetricsHandler(); h != nil { // AUTHGUARD_METRICS=1; the one route through net/http
		f.Get(demo.PathMetrics, adaptor.HTTPHandler(h))
	}
	f.Get(demo.PathProfile, fiberauth.Require(svc), func(c *fiber.Ctx) error {
		p, _ := fiberauth.PrincipalFrom(c)
		return fiberauth.Write(c, demo.Profile(p))
	})
	f.Get(demo.PathAdminStats, fiberauth.RequireRole(svc, demo.RoleAdmin), func(c *fiber.Ctx) error {
		return fiberauth.Write(c, app.AdminStats(c.UserContext()))
	})
	f.Get(demo.PathReports, fiberauth.RequirePermission(svc, demo.ObjectReports, demo.ActionRead), func(c *fiber.Ctx) error {
		return fiberauth.Write(c, demo.Reports())
	})
	f.Delete(demo.PathReports+"/:id", fiberauth.RequirePermission(svc, demo.ObjectReports, demo.ActionDelete), func(c *fiber.Ctx) error {
		return fiberauth.Write(c, demo.DeleteReport(c.Params("id")))
	})
	f.Use(fiberauth.NotFound(svc)) // last: paths no route matches
	return f
}
