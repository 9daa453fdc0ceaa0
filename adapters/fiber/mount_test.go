package fiberauth_test

import (
	"errors"
	"strings"
	"testing"

	fiberauth "github.com/authguard/authguard/adapters/fiber"
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/adaptertest"
	"github.com/authguard/authguard/core/authtest"
	"github.com/gofiber/fiber/v2"
)

// On a group, the routes and the refresh cookie's Path agree: a browser
// sends the cookie back to the refresh endpoint.
func TestMountOnGroup(t *testing.T) {
	for _, group := range []string{"/api/v1", "/api/v1/", "/api/v1/auth"} {
		f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.MountPrefix = "/api/v1/auth" }})
		app := fiber.New(fiber.Config{DisableStartupMessage: true})
		fiberauth.Mount(app.Group(group), f.Service)
		adaptertest.CheckCookiePath(t, f.Service, serve(t, app))
	}
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.MountPrefix = "/api/v1/auth" }})
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Route("/api", func(r fiber.Router) { r.Route("/v1", func(r fiber.Router) { fiberauth.Mount(r, f.Service) }) })
	adaptertest.CheckCookiePath(t, f.Service, serve(t, app))
}

// A group the configured prefix is not under is refused at Mount, naming
// the MountPrefix to set.
func TestMountOnGroupRefusesOtherPrefix(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	err := func() (err error) {
		defer func() { err, _ = recover().(error) }()
		fiberauth.Mount(fiber.New().Group("/api/v1"), f.Service)
		return nil
	}()
	if !errors.Is(err, core.ErrConfig) || !strings.Contains(err.Error(), `MountPrefix = "/api/v1/auth"`) {
		t.Fatalf("Mount on /api/v1 with MountPrefix /auth: panic %v, want ErrConfig naming MountPrefix = \"/api/v1/auth\"", err)
	}
}
