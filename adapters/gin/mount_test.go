package ginauth_test

import (
	"errors"
	"strings"
	"testing"

	ginauth "github.com/authguard/authguard/adapters/gin"
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/adaptertest"
	"github.com/authguard/authguard/core/authtest"
	"github.com/gin-gonic/gin"
)

// mountPanic returns what Mount panicked with (nil if it did not).
func mountPanic(r gin.IRoutes, svc *core.Service) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err, _ = v.(error)
			if err == nil {
				err = errors.New("panic with a non-error value")
			}
		}
	}()
	ginauth.Mount(r, svc)
	return nil
}

// On a group, the routes and the refresh cookie's Path agree: a browser
// sends the cookie back to the refresh endpoint.
func TestMountOnGroup(t *testing.T) {
	for _, group := range []string{"/api/v1", "/api/v1/", "/api/v1/auth"} {
		f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.MountPrefix = "/api/v1/auth" }})
		r := gin.New()
		ginauth.Mount(r.Group(group), f.Service)
		adaptertest.CheckCookiePath(t, f.Service, serve(r))
	}
}

// A group the configured prefix is not under is refused at Mount, naming
// the MountPrefix to set.
func TestMountOnGroupRefusesOtherPrefix(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	err := mountPanic(gin.New().Group("/api/v1"), f.Service)
	if !errors.Is(err, core.ErrConfig) || !strings.Contains(err.Error(), `MountPrefix = "/api/v1/auth"`) {
		t.Fatalf("Mount on /api/v1 with MountPrefix /auth: panic %v, want ErrConfig naming MountPrefix = \"/api/v1/auth\"", err)
	}
}

// RedirectFixedPath would redirect DELETE /AUTH/SESSIONS to the endpoint that
// revokes every other session: Mount refuses it.
func TestMountRefusesRedirectFixedPath(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	r := gin.New()
	r.RedirectFixedPath = true
	if err := mountPanic(r, f.Service); !errors.Is(err, core.ErrConfig) || !strings.Contains(err.Error(), "RedirectFixedPath = false") {
		t.Fatalf("Mount with RedirectFixedPath: panic %v, want ErrConfig naming RedirectFixedPath = false", err)
	}
	r.RedirectFixedPath = false
	if err := mountPanic(r, f.Service); err != nil {
		t.Fatal(err)
	}
}
