// Package fiberdemo is the fiber half of package demo: the fiber.Config
// with the examples' limits, the serve-until-signal loop with
// app.ShutdownWithContext, CORS with fiber's own middleware. It is apart from demo so that the chi and gin
// examples do not link fiber and fasthttp.
package fiberdemo

import (
	"context"
	"net"
	"strings"
	"time"

	fiberauth "github.com/authguard/authguard/adapters/fiber"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/examples/internal/demo"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/cors"
)

// Config returns the fiber configuration of the example: the timeouts of
// demo's http.Server (fasthttp has one read timeout for header and body), a
// 16 KiB read buffer, which bounds the request header as MaxHeaderBytes
// does for net/http, and fiberauth.ErrorHandler, so that a body fasthttp
// refuses itself (over the 4 MiB BodyLimit) gets the contract's 413 JSON.
// No startup banner: the start line is logged instead.
func Config(svc *core.Service) fiber.Config {
	return fiber.Config{
		DisableStartupMessage: true,
		ReadTimeout:           demo.ReadTimeout,
		WriteTimeout:          demo.WriteTimeout,
		IdleTimeout:           demo.IdleTimeout,
		ReadBufferSize:        demo.MaxHeaderBytes,
		ErrorHandler:          fiberauth.ErrorHandler(svc, nil),
	}
}

// Lingering wraps ln so that its connections close as net/http's do after
// refusing a body they did not read: the write side is shut at once and the
// socket closed half a second later. fasthttp closes at once, and closing a
// socket with unread data resets the connection, often before the client
// has read the 413 answer.
func Lingering(ln net.Listener) net.Listener { return lingering{ln} }

type lingering struct{ net.Listener }

func (l lingering) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok && err == nil {
		return lingerConn{tc}, nil
	}
	return c, err
}

type lingerConn struct{ *net.TCPConn }

func (c lingerConn) Close() error {
	if err := c.CloseWrite(); err != nil {
		return c.TCPConn.Close()
	}
	time.AfterFunc(500*time.Millisecond, func() { _ = c.TCPConn.Close() })
	return nil
}

// CORS returns fiber's CORS middleware for cfg.AllowedOrigins, with
// credentials and the contract's headers. Requests from any other origin
// skip it (see demo.Config.OriginAllowed), so they get no CORS header at
// all: fiber's middleware would otherwise still answer their preflight with
// the allowed methods and headers, only without Access-Control-Allow-Origin.
// Requests without an Origin skip it too, with the one header it gives them
// (Vary: Origin; its origins are never "*", which it refuses with
// credentials).
func CORS(cfg demo.Config) fiber.Handler {
	return cors.New(cors.Config{
		Next: func(c *fiber.Ctx) bool {
			if o := c.Get(fiber.HeaderOrigin); o == "" || !cfg.OriginAllowed(o) {
				c.Vary(fiber.HeaderOrigin)
				return true
			}
			return false
		},
		AllowOrigins:     strings.Join(cfg.AllowedOrigins, ","),
		AllowMethods:     strings.Join(demo.CORSAllowedMethods, ","),
		AllowHeaders:     strings.Join(demo.CORSAllowedHeaders, ","),
		ExposeHeaders:    strings.Join(demo.CORSExposedHeaders, ","),
		AllowCredentials: true,
		MaxAge:           int(demo.CORSMaxAge.Seconds()),
	})
}

// Serve serves f on the configured address until ctx ends or the process
// gets SIGINT or SIGTERM, then shuts down with f.ShutdownWithContext.
func Serve(ctx context.Context, app *demo.App, f *fiber.App) error {
	ln, err := app.Listen()
	if err != nil {
		return err
	}
	return ServeListener(ctx, app, f, ln)
}

// ServeListener is Serve on an open listener (tests pass 127.0.0.1:0).
func ServeListener(ctx context.Context, app *demo.App, f *fiber.App, ln net.Listener) error {
	return app.Run(ctx, ln, "fiber", func() error { return f.Listener(Lingering(ln)) }, f.ShutdownWithContext)
}
