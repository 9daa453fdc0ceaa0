package main

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authguard/authguard/examples/internal/demo"
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

// TestRun starts the server as `go run ./examples/gin` does and checks the
// start line and a login over the real listener; the cleanup checks the
// clean shutdown.
func TestRun(t *testing.T) {
	t.Parallel()
	s := demotest.Start(t, run, nil)
	if s.StartLine["router"] != "gin" || !strings.HasPrefix(s.StartLine["demo_password"].(string), demo.DefaultDemoPassword) {
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
