package main

import (
	"testing"

	fiberauth "github.com/authguard/authguard/adapters/fiber"
	"github.com/authguard/authguard/examples/internal/demo"
	"github.com/authguard/authguard/examples/internal/demotest"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// TestBaseAnswers pins the raw answers of the base path (CORS, /healthz,
// not found) to testdata/answers.txt.
func TestBaseAnswers(t *testing.T) {
	t.Parallel()
	demotest.PinAnswers(t, serve(t), "testdata/answers.txt")
}

// bareApp is the contender's /healthz of the HTTP-level benchmark
// (bench/cmd/peerserver): fiber with the example's limits and no
// middleware, writing {"status":"ok"} with c.JSON.
func bareApp() *fiber.App {
	health := map[string]string{"status": "ok"}
	f := fiber.New(fiber.Config{
		DisableStartupMessage: true,
		ReadTimeout:           demo.ReadTimeout,
		WriteTimeout:          demo.WriteTimeout,
		IdleTimeout:           demo.IdleTimeout,
		ReadBufferSize:        demo.MaxHeaderBytes,
	})
	f.Get(demo.PathHealth, func(c *fiber.Ctx) error { return c.JSON(health) })
	return f
}

// TestHealthzAllocs: the example's whole app allocates no more on GET
// /healthz than the bare one.
func TestHealthzAllocs(t *testing.T) {
	ex, bare := allocs(newApp(demotest.OpenApp(t))), allocs(bareApp())
	if ex > bare {
		t.Fatalf("GET /healthz allocates %v times through the example's app, %v through the bare one", ex, bare)
	}
}

// allocs is the number of allocations of one GET /healthz through f.
func allocs(f *fiber.App) float64 {
	h := f.Handler()
	ctx := healthzCtx()
	return testing.AllocsPerRun(200, func() {
		ctx.Response.Reset()
		h(ctx)
	})
}

// healthzCtx is a fasthttp.RequestCtx holding GET /healthz.
func healthzCtx() *fasthttp.RequestCtx {
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod(fiber.MethodGet)
	ctx.Request.SetRequestURI(demo.PathHealth)
	return &ctx
}

// BenchmarkHealthz serves GET /healthz in process, through app.Handler()
// on one reused fasthttp.RequestCtx, with the example's whole app and with
// the bare one. The instructions per request are those of the test binary
// under valgrind --tool=callgrind
// --toggle-collect='github.com/gofiber/fiber/v2.(*App).handler' for two
// -test.benchtime=Nx counts, differenced.
func BenchmarkHealthz(b *testing.B) {
	b.Run("example", func(b *testing.B) { benchServe(b, newApp(demotest.OpenApp(b))) })
	b.Run("bare", func(b *testing.B) { benchServe(b, bareApp()) })
}

func benchServe(b *testing.B, f *fiber.App) {
	h := f.Handler()
	ctx := healthzCtx()
	h(ctx)
	n := len(ctx.Response.Body())
	if ctx.Response.StatusCode() != fiber.StatusOK || n == 0 {
		b.Fatalf("status %d, body %q", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		ctx.Response.Reset()
		h(ctx)
	}
	b.StopTimer()
	if ctx.Response.StatusCode() != fiber.StatusOK || len(ctx.Response.Body()) != n {
		b.Fatalf("status %d, body %q", ctx.Response.StatusCode(), ctx.Response.Body())
	}
}

// TestHealthzBodyIsNotShared: the /healthz answer is built once and shared
// by every request, while fasthttp hands a middleware the response body as
// a buffer it may edit in place or append to. An edit in one request must
// not reach the next one's answer, and an append must extend the body, not
// replace it.
func TestHealthzBodyIsNotShared(t *testing.T) {
	want := string(demo.Health().Body)
	f := fiber.New()
	f.Use(func(c *fiber.Ctx) error {
		err := c.Next()
		if string(c.Request().Header.Peek("X-Edit")) == "1" {
			b := c.Response().Body()
			for i := range b {
				b[i] = 'x'
			}
		}
		c.Response().AppendBodyString("\n")
		return err
	})
	f.Get(demo.PathHealth, func(c *fiber.Ctx) error { return fiberauth.Write(c, demo.Health()) })
	h := f.Handler()

	edit := healthzCtx()
	edit.Request.Header.Set("X-Edit", "1")
	h(edit)
	ctx := healthzCtx()
	h(ctx)
	if got := string(ctx.Response.Body()); got != want+"\n" {
		t.Errorf("GET /healthz after an in-place edit answers %q, want %q", got, want+"\n")
	}
	if got := string(demo.Health().Body); got != want {
		t.Errorf("the shared /healthz body became %q, want %q", got, want)
	}
}
