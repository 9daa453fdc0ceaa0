// Command gin is the authguard example server on gin: the token endpoints
// of the wire contract (mounted with ginauth.Mount), the demo API and CORS
// for AUTHGUARD_ALLOWED_ORIGINS (gin-contrib/cors). It needs no flags and no
// running service:
//
//	go run ./examples/gin
//
// Configuration comes from the AUTHGUARD_* environment variables; see
// examples/README.md.
package main

import (
	"context"
	"log/slog"
	"net/http"

	ginauth "github.com/authguard/authguard/adapters/gin"
	"github.com/authguard/authguard/examples/internal/demo"
	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
)

func init() { gin.SetMode(gin.ReleaseMode) }

func main() { demo.Main(run) }

func run(ctx context.Context, getenv func(string) string, logger *slog.Logger) error {
	app, err := demo.Start(ctx, getenv, logger)
	if err != nil {
		return err
	}
	defer app.Close()
	return app.Serve(ctx, "gin", newRouter(app))
}

// newRouter builds the whole server: CORS, the contract's endpoints and the
// demo API.
func newRouter(app *demo.App) http.Handler {
	svc := app.Service
	r := gin.New()
	r.Use(gin.Recovery())
	_ = r.SetTrustedProxies(nil) // the client IP is the socket peer
	r.Use(corsMiddleware(app.Config))

	ginauth.Mount(r, svc)
	ginauth.MountRoleAdmin(r, svc, app.Roles) // GET, PUT, DELETE /auth/admin/roles/:subject[/:role]
	r.NoRoute(ginauth.NotFound(svc))

	r.GET(demo.PathHealth, func(c *gin.Context) { ginauth.Write(c, demo.Health()) })
	if h := app.MetricsHandler(); h != nil { // AUTHGUARD_METRICS=1
		r.GET(demo.PathMetrics, gin.WrapH(h))
	}
	r.GET(demo.PathProfile, ginauth.Require(svc), func(c *gin.Context) {
		p, _ := ginauth.PrincipalFrom(c)
		ginauth.Write(c, demo.Profile(p))
	})
	r.GET(demo.PathAdminStats, ginauth.RequireRole(svc, demo.RoleAdmin), func(c *gin.Context) {
		ginauth.Write(c, app.AdminStats(c.Request.Context()))
	})
	r.GET(demo.PathReports, ginauth.RequirePermission(svc, demo.ObjectReports, demo.ActionRead), func(c *gin.Context) {
		ginauth.Write(c, demo.Reports())
	})
	r.DELETE(demo.PathReports+"/:id", ginauth.RequirePermission(svc, demo.ObjectReports, demo.ActionDelete), func(c *gin.Context) {
		ginauth.Write(c, demo.DeleteReport(c.Param("id")))
	})
	return r
}

// corsMiddleware is gin-contrib/cors for the allowed origins. Requests from
// other origins bypass it (the middleware would answer them 403): they get
// no CORS header and reach the handlers, where the core decides. Requests
// without an Origin bypass it too: it adds nothing to them.
func corsMiddleware(cfg demo.Config) gin.HandlerFunc {
	h := cors.New(cors.Config{
		AllowOrigins:     cfg.AllowedOrigins,
		AllowMethods:     demo.CORSAllowedMethods,
		AllowHeaders:     demo.CORSAllowedHeaders,
		ExposeHeaders:    demo.CORSExposedHeaders,
		AllowCredentials: true,
		MaxAge:           demo.CORSMaxAge,
	})
	return func(c *gin.Context) {
		o := c.GetHeader("Origin")
		if o == "" {
			return
		}
		if !cfg.OriginAllowed(o) {
			c.Writer.Header().Add("Vary", "Origin")
			return
		}
		h(c)
	}
}
