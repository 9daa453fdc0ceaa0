package adaptertest

import (
	"net/http"
	"strings"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/httpauth"
)

// NetHTTPServer is the server of Factory on net/http: core/httpauth's
// Mount, MountRoleAdmin over RoleAdmin(svc), NotFound and the demo routes
// on a ServeMux, behind ExactPaths. It is the reference the golden
// recording is made with; core/httpauth's conformance tests and the
// examples' OpenAPI test serve it.
func NetHTTPServer(svc *core.Service) http.Handler {
	mux := http.NewServeMux()
	httpauth.Mount(mux, svc)
	httpauth.MountRoleAdmin(mux, svc, RoleAdmin(svc))
	mux.Handle("GET /admin", httpauth.Authorize(svc, func(r *http.Request) (string, string, bool) {
		_, pattern, _ := strings.Cut(r.Pattern, " ")
		return pattern, r.Method, pattern != ""
	})(demoJSON(func(*http.Request) []byte { return []byte(RouteJSON) })))
	mux.Handle("/", httpauth.NotFound(svc))
	mux.Handle("GET /healthz", demoJSON(func(*http.Request) []byte { return []byte(HealthJSON) }))
	mux.Handle("GET /api/profile", httpauth.Require(svc)(demoJSON(func(r *http.Request) []byte {
		p, _ := httpauth.PrincipalFrom(r.Context())
		return ProfileBody(p)
	})))
	mux.Handle("GET /api/optional", httpauth.Optional(svc)(demoJSON(func(r *http.Request) []byte {
		p, _ := httpauth.PrincipalFrom(r.Context())
		return OptionalBody(p)
	})))
	mux.Handle("GET /api/admin/stats", httpauth.RequireRole(svc, "admin")(demoJSON(func(*http.Request) []byte {
		return []byte(AdminStatsJSON)
	})))
	mux.Handle("GET /api/reports", httpauth.RequirePermission(svc, "reports", "read")(demoJSON(func(*http.Request) []byte {
		return []byte(ReportsJSON)
	})))
	mux.Handle("DELETE /api/reports/{id}", httpauth.RequirePermission(svc, "reports", "delete")(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	return httpauth.ExactPaths(svc, mux)
}

// demoJSON answers 200 with the body body renders, as DemoContentType.
func demoJSON(body func(*http.Request) []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", DemoContentType)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body(r))
	})
}
