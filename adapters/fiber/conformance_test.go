package fiberauth_test

import (
	"context"
	"net"
	"net/http"
	"testing"

	fiberauth "github.com/authguard/authguard/adapters/fiber"
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/adaptertest"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp/fasthttputil"
)

// demoServer is the adapter's server of the conformance suite: the token
// endpoints and the demo API of the contract.
func demoServer(svc *core.Service) *fiber.App {
	// fasthttp's default 4 KiB read buffer bounds the whole request head: a
	// token near the core's 8 KiB cap would get fasthttp's 431 instead of
	// the contract's answer.
	app := fiber.New(fiber.Config{DisableStartupMessage: true, ReadBufferSize: 16 << 10})
	fiberauth.Mount(app, svc)
	demo := func(body []byte) fiber.Handler {
		return func(c *fiber.Ctx) error {
			c.Set(fiber.HeaderContentType, adaptertest.DemoContentType)
			return c.Send(body)
		}
	}
	app.Get("/healthz", demo([]byte(adaptertest.HealthJSON)))
	fiberauth.MountRoleAdmin(app, svc, adaptertest.RoleAdmin(svc))
	app.Get("/admin", fiberauth.AuthorizeRoute(svc), demo([]byte(adaptertest.RouteJSON)))
	api := app.Group("/api")
	api.Get("/profile", fiberauth.Require(svc), func(c *fiber.Ctx) error {
		p, _ := fiberauth.PrincipalFrom(c)
		return demo(adaptertest.ProfileBody(p))(c)
	})
	api.Get("/optional", fiberauth.Optional(svc), func(c *fiber.Ctx) error {
		p, _ := fiberauth.PrincipalFrom(c)
		return demo(adaptertest.OptionalBody(p))(c)
	})
	api.Get("/admin/stats", fiberauth.RequireRole(svc, "admin"), demo([]byte(adaptertest.AdminStatsJSON)))
	api.Get("/reports", fiberauth.RequirePermission(svc, "reports", "read"), demo([]byte(adaptertest.ReportsJSON)))
	api.Delete("/reports/:id", fiberauth.RequirePermission(svc, "reports", "delete"), func(c *fiber.Ctx) error {
		// Not SendStatus: it would add a text body and Content-Type.
		c.Status(http.StatusNoContent)
		return nil
	})
	app.Use(fiberauth.NotFound(svc)) // last: paths no route matches
	return app
}

// serve runs app on an in-memory listener and returns a Do that sends each
// request over it with net/http's client: the bytes cross fasthttp's real
// connection handling, as with app.Test. app.Test itself cannot be used: it
// writes "Content-Length: -1" for a body of unknown length (the suite's
// chunked cases) instead of chunked encoding. Connections come from the
// suite's peer address, 192.0.2.1:1234.
func serve(t *testing.T, app *fiber.App) adaptertest.Do {
	ln := fasthttputil.NewInmemoryListener()
	done := make(chan error, 1)
	go func() { done <- app.Listener(ln) }()
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			return ln.DialWithLocalAddr(&net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1234})
		},
		DisableCompression: true,
	}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	t.Cleanup(func() {
		client.CloseIdleConnections()
		_ = app.Shutdown()
		<-done
	})
	return func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.RequestURI = ""
		r.URL.Scheme, r.URL.Host = "http", r.Host
		return client.Do(r)
	}
}

func TestConformance(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, svc *core.Service) adaptertest.Do {
		return serve(t, demoServer(svc))
	})
}

// TestGoldenParity: the bytes on the wire are those of the net/http reference
// recording (adaptertest.Golden), case by case.
func TestGoldenParity(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite a second time")
	}
	got := adaptertest.Record(t, func(t *testing.T, svc *core.Service) adaptertest.Do {
		return serve(t, demoServer(svc))
	})
	if d := adaptertest.Diff(adaptertest.Golden(), got); d != "" {
		t.Errorf("wire differs from the reference:\n%s", d)
	}
}
