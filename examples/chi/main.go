// Command chi is the authguard example server on chi: the token endpoints
// of the wire contract (mounted with chiauth.Mount), the demo API and CORS
// for AUTHGUARD_ALLOWED_ORIGINS (go-chi/cors). It needs no flags and no
// running service:
//
//	go run ./examples/chi
//
// Configuration comes from the AUTHGUARD_* environment variables; see
// examples/README.md.
package main

import (
	"context"
	"log/slog"
	"net/http"

	chiauth "github.com/authguard/authguard/adapters/chi"
	"github.com/authguard/authguard/core/httpauth"
	"github.com/authguard/authguard/examples/internal/demo"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/cors"
)

func main() { demo.Main(run) }

func run(ctx context.Context, getenv func(string) string, logger *slog.Logger) error {
	app, err := demo.Start(ctx, getenv, logger)
	if err != nil {
		return err
	}
	defer app.Close()
	return app.Serve(ctx, "chi", newRouter(app))
}

// newRouter builds the whole server: CORS, the contract's endpoints and the
// demo API.
func newRouter(app *demo.App) http.Handler {
	svc := app.Service
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Use(corsMiddleware(app.Config))

	chiauth.Mount(r, svc)
	chiauth.MountRoleAdmin(r, svc, app.Roles) // GET, PUT, DELETE /auth/admin/roles/{subject}[/{role}]
	r.NotFound(chiauth.NotFound(svc))

	r.Get(demo.PathHealth, func(w http.ResponseWriter, _ *http.Request) { httpauth.Write(w, demo.Health()) })
	if h := app.MetricsHandler(); h != nil { // AUTHGUARD_METRICS=1
		r.Method(http.MethodGet, demo.PathMetrics, h)
	}
	r.With(chiauth.Require(svc)).Get(demo.PathProfile, func(w http.ResponseWriter, r *http.Request) {
		p, _ := chiauth.PrincipalFrom(r.Context())
		httpauth.Write(w, demo.Profile(p))
	})
	r.With(chiauth.RequireRole(svc, demo.RoleAdmin)).Get(demo.PathAdminStats, func(w http.ResponseWriter, r *http.Request) {
		httpauth.Write(w, app.AdminStats(r.Context()))
	})
	r.With(chiauth.RequirePermission(svc, demo.ObjectReports, demo.ActionRead)).Get(demo.PathReports, func(w http.ResponseWriter, _ *http.Request) {
		httpauth.Write(w, demo.Reports())
	})
	r.With(chiauth.RequirePermission(svc, demo.ObjectReports, demo.ActionDelete)).Delete(demo.PathReports+"/{id}", func(w http.ResponseWriter, r *http.Request) {
		httpauth.Write(w, demo.DeleteReport(chi.URLParam(r, "id")))
	})
	return r
}

// corsMiddleware is go-chi/cors for the allowed origins. Requests without an
// Origin header bypass it with the one header it gives them, Vary: Origin.
func corsMiddleware(cfg demo.Config) func(http.Handler) http.Handler {
	withCORS := cors.Handler(corsOptions(cfg))
	return func(next http.Handler) http.Handler {
		h := withCORS(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, ok := r.Header["Origin"]; ok {
				h.ServeHTTP(w, r)
				return
			}
			w.Header().Add("Vary", "Origin")
			next.ServeHTTP(w, r)
		})
	}
}

// corsOptions configures go-chi/cors as the contract's CORS section says.
func corsOptions(cfg demo.Config) cors.Options {
	return cors.Options{
		AllowedOrigins:   cfg.AllowedOrigins,
		AllowedMethods:   demo.CORSAllowedMethods,
		AllowedHeaders:   demo.CORSAllowedHeaders,
		ExposedHeaders:   demo.CORSExposedHeaders,
		AllowCredentials: true,
		MaxAge:           int(demo.CORSMaxAge.Seconds()),
	}
}
