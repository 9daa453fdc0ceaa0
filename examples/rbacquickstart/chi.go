package rbacquickstart

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	chiauth "github.com/authguard/authguard/adapters/chi"
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/rbac"
)

// Chi is the chi quick start. The route guard's object is the matched
// pattern: the policy line is "p, admin, /api/reports/{id}, DELETE".
func Chi(svc *core.Service, roles *rbac.RoleAdmin) http.Handler {
	r := chi.NewRouter()
	chiauth.Mount(r, svc)                 // /auth/login, /auth/refresh, ...
	chiauth.MountRoleAdmin(r, svc, roles) // GET, PUT, DELETE /auth/admin/roles/{subject}[/{role}]
	r.With(chiauth.RequirePermission(svc, "reports", "read")).Get("/api/reports", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("reports\n"))
	})
	r.With(chiauth.AuthorizeRoute(svc)).Delete("/api/reports/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	return r
}
