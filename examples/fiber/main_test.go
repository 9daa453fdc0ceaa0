package main

import (
	"net"
	"testing"

	"github.com/authguard/authguard/core/adaptertest"
	"github.com/authguard/authguard/examples/internal/demo"
	"github.com/authguard/authguard/examples/internal/demotest"
	"github.com/authguard/authguard/examples/internal/fiberdemo"
)

// serve runs the example's fiber app on 127.0.0.1:0 and returns its URL.
func serve(t *testing.T) string {
	t.Helper()
	url, _ := serveApp(t)
	return url
}

// serveApp is serve, also returning the demo app.
func serveApp(t *testing.T) (string, *demo.App) {
	t.Helper()
	app := demotest.OpenApp(t)
	return serveOn(t, app), app
}

// serveOn runs the example's fiber app over app on 127.0.0.1:0 and returns
// its URL; the server stops when t ends.
func serveOn(t *testing.T, app *demo.App) string {
	t.Helper()
	f := newApp(app)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- f.Listener(fiberdemo.Lingering(ln)) }()
	t.Cleanup(func() {
		if err := f.Shutdown(); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return "http://" + ln.Addr().String()
}

// TestEndToEnd runs the contract's flow on SQLite, Redis and PostgreSQL.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	demotest.EndToEnd(t, serveOn)
}

func TestCORS(t *testing.T) {
	t.Parallel()
	demotest.CORS(t, serve(t))
}

// TestRun starts the server as `go run ./examples/fiber` does, over a real
// listener, and checks its start line, a login and the clean shutdown.
func TestRun(t *testing.T) {
	t.Parallel()
	demotest.StartAndLogin(t, run, "fiber")
}

// TestLargeBodies: every oversized login body gets the contract's 413 JSON
// over a real socket, also those fasthttp refuses before any handler runs.
func TestLargeBodies(t *testing.T) {
	if testing.Short() {
		t.Skip("sends some 500 MiB over loopback")
	}
	url, app := serveApp(t)
	adaptertest.CheckLargeBodies(t, app.Service, url, 3)
}

// TestMetrics: with AUTHGUARD_METRICS=1 /metrics shows the login and guard
// counters in the Prometheus format; without it there is no /metrics.
func TestMetrics(t *testing.T) {
	t.Parallel()
	demotest.Metrics(t, run)
}
