package main

import (
	"net"
	"strings"
	"testing"

	"github.com/authguard/authguard/examples/internal/demo"
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

// TestRun starts the server as `go run ./examples/fiber` does and checks the
// start line and a login over the real listener; the cleanup checks the
// clean shutdown.
func TestRun(t *testing.T) {
	t.Parallel()
	s := demotest.Start(t, run, nil)
	if s.StartLine["router"] != "fiber" || !strings.HasPrefix(s.StartLine["demo_password"].(string), demo.DefaultDemoPassword) {
		t.Fatalf("start line %v", s.StartLine)
	}
	c := &demotest.Client{T: t, Base: s.Base}
	if r := c.Do("GET", demo.PathHealth, nil); r.Status != 200 {
		t.Fatalf("healthz %d", r.Status)
	}
	if r := c.Do("POST", "/auth/login", map[string]string{"email": "user@example.com", "password": demo.DefaultDemoPassword}); r.Status != 200 {
		t.Fatalf("login %d %s", r.Status, r.Body)
	}
}
