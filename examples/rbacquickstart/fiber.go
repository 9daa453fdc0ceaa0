package rbacquickstart

import (
	"github.com/gofiber/fiber/v2"

	fiberauth "github.com/authguard/authguard/adapters/fiber"
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/rbac"
)

// Fiber is the fiber quick start. The route guard's object is the matched
// pattern: the policy line is "p, admin, /api/reports/:id, DELETE".
func Fiber(svc *core.Service, roles *rbac.RoleAdmin) *fiber.App {
	app := fiber.New()
	fiberauth.Mount(app, svc)                 // /auth/login, /auth/refresh, ...
	fiberauth.MountRoleAdmin(app, svc, roles) // GET, PUT, DELETE /auth/admin/roles/:subject[/:role]
	app.Get("/api/reports", fiberauth.RequirePermission(svc, "reports", "read"), func(c *fiber.Ctx) error {
		return c.SendString("reports\n")
	})
	app.Delete("/api/reports/:id", fiberauth.AuthorizeRoute(svc), func(c *fiber.Ctx) error {
		return c.SendStatus(fiber.StatusNoContent)
	})
	return app
}
