package main

import (
	"net"
	"testing"

	"github.com/authguard/authguard/examples/internal/demotest"
)

// serve runs the example's fiber app on 127.0.0.1:0 and returns its URL.
func serve(t *testing.T) string {
	t.Helper()
	f := newApp(demotest.OpenApp(t))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- f.Listener(ln) }()
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

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	demotest.Flow(t, serve(t))
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
