package rbacquickstart

import (
	"net/http"

	"github.com/gin-gonic/gin"

	ginauth "github.com/authguard/authguard/adapters/gin"
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/rbac"
)

// Gin is the gin quick start. The route guard's object is the matched
// pattern: the policy line is "p, admin, /api/reports/:id, DELETE".
func Gin(svc *core.Service, roles *rbac.RoleAdmin) *gin.Engine {
	r := gin.New()
	ginauth.Mount(r, svc)                 // /auth/login, /auth/refresh, ...
	ginauth.MountRoleAdmin(r, svc, roles) // GET, PUT, DELETE /auth/admin/roles/:subject[/:role]
	r.GET("/api/reports", ginauth.RequirePermission(svc, "reports", "read"), func(c *gin.Context) {
		c.String(http.StatusOK, "reports\n")
	})
	r.DELETE("/api/reports/:id", ginauth.AuthorizeRoute(svc), func(c *gin.Context) {
		c.Status(http.StatusNoContent)
	})
	return r
}
