package examples

// Golden parity of the three router adapters: the conformance suite's
// deterministic cases are recorded against a chi, a gin and a fiber server,
// each served over a real connection, and the recordings must be identical,
// exchange by exchange: status, the headers WWW-Authenticate,
// Cache-Control, Content-Type, Set-Cookie and Retry-After, and the body
// bytes (tokens, ids and times replaced by placeholders). They must also
// equal the reference recording of the net/http adapter
// (adaptertest.Golden).

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"

	chiauth "github.com/authguard/authguard/adapters/chi"
	fiberauth "github.com/authguard/authguard/adapters/fiber"
	ginauth "github.com/authguard/authguard/adapters/gin"
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/adaptertest"
	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp/fasthttputil"
)

// peer is the client address every server sees, the one adaptertest
// documents for its requests (httptest.NewRequest's RemoteAddr).
var peer = &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1234}

// peerConn reports peer as its remote address.
type peerConn struct{ net.Conn }

func (peerConn) RemoteAddr() net.Addr { return peer }

// peerListener is a loopback listener whose connections report peer.
type peerListener struct{ net.Listener }

func (l peerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return peerConn{c}, nil
}

// client sends the suite's requests (built for a handler: path-only URL,
// RequestURI set) to a server through dial. It neither decompresses nor
// follows redirects: the answer is what the server put on the wire.
func client(t *testing.T, dial func() (net.Conn, error)) adaptertest.Do {
	c := &http.Client{
		Transport: &http.Transport{
			DialContext:        func(context.Context, string, string) (net.Conn, error) { return dial() },
			DisableCompression: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(c.CloseIdleConnections)
	return func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.RequestURI = ""
		r.URL.Scheme, r.URL.Host = "http", r.Host
		return c.Do(r)
	}
}

// serveHTTP serves h with net/http on a loopback port.
func serveHTTP(t *testing.T, h http.Handler) adaptertest.Do {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(peerListener{ln}) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("net/http server: %v", err)
		}
	})
	addr := ln.Addr().String()
	return client(t, func() (net.Conn, error) { return net.Dial("tcp", addr) })
}

// serveFiber serves app with fasthttp on an in-memory listener.
func serveFiber(t *testing.T, app *fiber.App) adaptertest.Do {
	ln := fasthttputil.NewInmemoryListener()
	done := make(chan error, 1)
	go func() { done <- app.Listener(ln) }()
	t.Cleanup(func() {
		_ = app.Shutdown()
		<-done
	})
	return client(t, func() (net.Conn, error) { return ln.DialWithLocalAddr(peer) })
}

// ---- the three demo servers of adaptertest.Factory ----

func chiFactory(t *testing.T, svc *core.Service) adaptertest.Do {
	write := func(w http.ResponseWriter, body []byte) {
		w.Header().Set("Content-Type", adaptertest.DemoContentType)
		_, _ = w.Write(body)
	}
	r := chi.NewRouter()
	chiauth.Mount(r, svc)
	chiauth.MountRoleAdmin(r, svc, adaptertest.RoleAdmin(svc))
	r.With(chiauth.AuthorizeRoute(svc)).Get("/admin", func(w http.ResponseWriter, _ *http.Request) {
		write(w, []byte(adaptertest.RouteJSON))
	})
	r.NotFound(chiauth.NotFound(svc))
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { write(w, []byte(adaptertest.HealthJSON)) })
	r.With(chiauth.Require(svc)).Get("/api/profile", func(w http.ResponseWriter, r *http.Request) {
		p, _ := chiauth.PrincipalFrom(r.Context())
		write(w, adaptertest.ProfileBody(p))
	})
	r.With(chiauth.Optional(svc)).Get("/api/optional", func(w http.ResponseWriter, r *http.Request) {
		p, _ := chiauth.PrincipalFrom(r.Context())
		write(w, adaptertest.OptionalBody(p))
	})
	r.With(chiauth.RequireRole(svc, "admin")).Get("/api/admin/stats", func(w http.ResponseWriter, _ *http.Request) {
		write(w, []byte(adaptertest.AdminStatsJSON))
	})
	r.With(chiauth.RequirePermission(svc, "reports", "read")).Get("/api/reports", func(w http.ResponseWriter, _ *http.Request) {
		write(w, []byte(adaptertest.ReportsJSON))
	})
	r.With(chiauth.RequirePermission(svc, "reports", "delete")).Delete("/api/reports/{id}", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	return serveHTTP(t, r)
}

func ginFactory(t *testing.T, svc *core.Service) adaptertest.Do {
	gin.SetMode(gin.TestMode)
	write := func(c *gin.Context, body []byte) { c.Data(http.StatusOK, adaptertest.DemoContentType, body) }
	r := gin.New()
	ginauth.Mount(r, svc)
	ginauth.MountRoleAdmin(r, svc, adaptertest.RoleAdmin(svc))
	r.GET("/admin", ginauth.AuthorizeRoute(svc), func(c *gin.Context) { write(c, []byte(adaptertest.RouteJSON)) })
	r.NoRoute(ginauth.NotFound(svc))
	r.GET("/healthz", func(c *gin.Context) { write(c, []byte(adaptertest.HealthJSON)) })
	r.GET("/api/profile", ginauth.Require(svc), func(c *gin.Context) {
		p, _ := ginauth.PrincipalFrom(c)
		write(c, adaptertest.ProfileBody(p))
	})
	r.GET("/api/optional", ginauth.Optional(svc), func(c *gin.Context) {
		p, _ := ginauth.PrincipalFrom(c)
		write(c, adaptertest.OptionalBody(p))
	})
	r.GET("/api/admin/stats", ginauth.RequireRole(svc, "admin"), func(c *gin.Context) {
		write(c, []byte(adaptertest.AdminStatsJSON))
	})
	r.GET("/api/reports", ginauth.RequirePermission(svc, "reports", "read"), func(c *gin.Context) {
		write(c, []byte(adaptertest.ReportsJSON))
	})
	r.DELETE("/api/reports/:id", ginauth.RequirePermission(svc, "reports", "delete"), func(c *gin.Context) {
		c.Status(http.StatusNoContent)
	})
	return serveHTTP(t, r)
}

func fiberFactory(t *testing.T, svc *core.Service) adaptertest.Do {
	write := func(c *fiber.Ctx, body []byte) error {
		c.Set(fiber.HeaderContentType, adaptertest.DemoContentType)
		return c.Send(body)
	}
	// Room for the suite's oversized tokens in the request head (fasthttp's
	// default read buffer is 4 KiB).
	app := fiber.New(fiber.Config{DisableStartupMessage: true, ReadBufferSize: 16 << 10})
	fiberauth.Mount(app, svc)
	fiberauth.MountRoleAdmin(app, svc, adaptertest.RoleAdmin(svc))
	app.Get("/admin", fiberauth.AuthorizeRoute(svc), func(c *fiber.Ctx) error { return write(c, []byte(adaptertest.RouteJSON)) })
	app.Get("/healthz", func(c *fiber.Ctx) error { return write(c, []byte(adaptertest.HealthJSON)) })
	app.Get("/api/profile", fiberauth.Require(svc), func(c *fiber.Ctx) error {
		p, _ := fiberauth.PrincipalFrom(c)
		return write(c, adaptertest.ProfileBody(p))
	})
	app.Get("/api/optional", fiberauth.Optional(svc), func(c *fiber.Ctx) error {
		p, _ := fiberauth.PrincipalFrom(c)
		return write(c, adaptertest.OptionalBody(p))
	})
	app.Get("/api/admin/stats", fiberauth.RequireRole(svc, "admin"), func(c *fiber.Ctx) error {
		return write(c, []byte(adaptertest.AdminStatsJSON))
	})
	app.Get("/api/reports", fiberauth.RequirePermission(svc, "reports", "read"), func(c *fiber.Ctx) error {
		return write(c, []byte(adaptertest.ReportsJSON))
	})
	app.Delete("/api/reports/:id", fiberauth.RequirePermission(svc, "reports", "delete"), func(c *fiber.Ctx) error {
		c.Status(http.StatusNoContent) // not SendStatus, which adds a text body
		return nil
	})
	app.Use(fiberauth.NotFound(svc)) // last: paths no route matches
	return serveFiber(t, app)
}

func TestGoldenParity(t *testing.T) {
	if testing.Short() {
		t.Skip("records the conformance suite three times")
	}
	adapters := []struct {
		name    string
		factory adaptertest.Factory
	}{
		{"chi", chiFactory},
		{"gin", ginFactory},
		{"fiber", fiberFactory},
	}
	rec := map[string][]adaptertest.Exchange{}
	for _, a := range adapters {
		t.Run(a.name, func(t *testing.T) {
			rec[a.name] = adaptertest.Record(t, a.factory)
		})
	}
	if t.Failed() {
		t.Fatal("a recording failed its assertions; no parity to compare")
	}
	ref := rec["chi"]
	if len(ref) == 0 {
		t.Fatal("the chi recording is empty")
	}
	t.Logf("%d exchanges per adapter", len(ref))
	for _, a := range adapters[1:] {
		if d := adaptertest.Diff(ref, rec[a.name]); d != "" {
			t.Errorf("%s differs from chi:\n%s", a.name, d)
		}
	}
	for _, a := range adapters {
		if d := adaptertest.Diff(adaptertest.Golden(), rec[a.name]); d != "" {
			t.Errorf("%s differs from the net/http reference (adaptertest.Golden):\n%s", a.name, d)
		}
	}
}
