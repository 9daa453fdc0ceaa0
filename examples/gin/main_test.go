package main

import (
	"net/http/httptest"
	"testing"

	"github.com/authguard/authguard/core/adaptertest"
	"github.com/authguard/authguard/examples/internal/demo"
	"github.com/authguard/authguard/examples/internal/demotest"
)

// TestEndToEnd runs the contract's flow on SQLite, Redis and PostgreSQL.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	demotest.EndToEnd(t, func(t *testing.T, app *demo.App) string {
		srv := httptest.NewServer(newRouter(app))
		t.Cleanup(srv.Close)
		return srv.URL
	})
}

func TestCORS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newRouter(demotest.OpenApp(t)))
	defer srv.Close()
	demotest.CORS(t, srv.URL)
}

// TestRun starts the server as `go run ./examples/gin` does, over a real
// listener, and checks its start line, a login and the clean shutdown.
func TestRun(t *testing.T) {
	t.Parallel()
	demotest.StartAndLogin(t, run, "gin")
}

// TestLargeBodies: every oversized login body gets the contract's 413 JSON
// over a real socket, fast or slow, with a Content-Length or chunked.
func TestLargeBodies(t *testing.T) {
	if testing.Short() {
		t.Skip("sends some 500 MiB over loopback")
	}
	app := demotest.OpenApp(t)
	srv := httptest.NewServer(newRouter(app))
	defer srv.Close()
	adaptertest.CheckLargeBodies(t, app.Service, srv.URL, 2)
}

// TestMetrics: with AUTHGUARD_METRICS=1 /metrics shows the login and guard
// counters in the Prometheus format; without it there is no /metrics.
func TestMetrics(t *testing.T) {
	t.Parallel()
	demotest.Metrics(t, run)
}
