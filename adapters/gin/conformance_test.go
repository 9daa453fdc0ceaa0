package ginauth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	ginauth "github.com/authguard/authguard/adapters/gin"
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/adaptertest"
	"github.com/gin-gonic/gin"
)

// demoServer is the adapter's server of the conformance suite: the token
// endpoints and the demo API of the contract.
func demoServer(svc *core.Service) *gin.Engine {
	r := gin.New()
	ginauth.Mount(r, svc)
	ginauth.MountRoleAdmin(r, svc, adaptertest.RoleAdmin(svc))
	r.GET("/admin", ginauth.AuthorizeRoute(svc), func(c *gin.Context) {
		c.Data(http.StatusOK, adaptertest.DemoContentType, []byte(adaptertest.RouteJSON))
	})
	r.NoRoute(ginauth.NotFound(svc))
	r.GET("/healthz", func(c *gin.Context) {
		c.Data(http.StatusOK, adaptertest.DemoContentType, []byte(adaptertest.HealthJSON))
	})
	api := r.Group("/api")
	api.GET("/profile", ginauth.Require(svc), func(c *gin.Context) {
		p, _ := ginauth.PrincipalFrom(c)
		c.Data(http.StatusOK, adaptertest.DemoContentType, adaptertest.ProfileBody(p))
	})
	api.GET("/optional", ginauth.Optional(svc), func(c *gin.Context) {
		p, _ := ginauth.PrincipalFrom(c)
		c.Data(http.StatusOK, adaptertest.DemoContentType, adaptertest.OptionalBody(p))
	})
	api.GET("/admin/stats", ginauth.RequireRole(svc, "admin"), func(c *gin.Context) {
		c.Data(http.StatusOK, adaptertest.DemoContentType, []byte(adaptertest.AdminStatsJSON))
	})
	api.GET("/reports", ginauth.RequirePermission(svc, "reports", "read"), func(c *gin.Context) {
		c.Data(http.StatusOK, adaptertest.DemoContentType, []byte(adaptertest.ReportsJSON))
	})
	api.DELETE("/reports/:id", ginauth.RequirePermission(svc, "reports", "delete"), func(c *gin.Context) {
		c.Status(http.StatusNoContent)
	})
	return r
}

// serve is a Do over an http.Handler, through a response recorder.
func serve(h http.Handler) adaptertest.Do {
	return func(r *http.Request) (*http.Response, error) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Result(), nil
	}
}

func TestConformance(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, svc *core.Service) adaptertest.Do {
		return serve(demoServer(svc))
	})
}

// TestGoldenParity: the bytes on the wire are those of the net/http reference
// recording (adaptertest.Golden), case by case.
func TestGoldenParity(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite a second time")
	}
	got := adaptertest.Record(t, func(t *testing.T, svc *core.Service) adaptertest.Do {
		return serve(demoServer(svc))
	})
	if d := adaptertest.Diff(adaptertest.Golden(), got); d != "" {
		t.Errorf("wire differs from the reference:\n%s", d)
	}
}
