package main

import (
	"net/http/httptest"
	"testing"

	"github.com/authguard/authguard/examples/internal/demotest"
)

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newRouter(demotest.OpenApp(t)))
	defer srv.Close()
	demotest.Flow(t, srv.URL)
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
