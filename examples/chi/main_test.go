package main

import (
	"net/http/httptest"
	"strings"
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

// TestTwoInstances: two instances over one SQLite file, Redis prefix and
// PostgreSQL schema; a role taken away on one denies the next request there
// and on the other within a second.
func TestTwoInstances(t *testing.T) {
	t.Parallel()
	demotest.TwoInstances(t, func(t *testing.T, app *demo.App) string {
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

// TestRun starts the server as `go run ./examples/chi` does, over a real
// listener, and checks its start line, a login and the clean shutdown.
func TestRun(t *testing.T) {
	t.Parallel()
	demotest.StartAndLogin(t, run, "chi")
}

// TestRunNeverLogsAnEnvPassword starts the server with
// AUTHGUARD_DEMO_PASSWORD set, logs in with it and checks that neither the
// password nor any token appears in the log.
func TestRunNeverLogsAnEnvPassword(t *testing.T) {
	t.Parallel()
	const pw = "Env-Only-Passw0rd"
	s := demotest.Start(t, run, map[string]string{demo.EnvDemoPassword: pw})
	c := &demotest.Client{T: t, Base: s.Base}
	r := c.Do("POST", "/auth/login", map[string]string{"email": "admin@example.com", "password": pw})
	if r.Status != 200 {
		t.Fatalf("login %d %s", r.Status, r.Body)
	}
	m := r.JSON(t)
	c.Do("POST", "/auth/login", map[string]string{"email": "admin@example.com", "password": "wrong-" + pw})
	log := s.Log()
	for _, secret := range []string{pw, m["accessToken"].(string), m["refreshToken"].(string), demo.DefaultDemoPassword} {
		if strings.Contains(log, secret) {
			t.Fatalf("log shows %q:\n%s", secret, log)
		}
	}
	if !strings.Contains(s.StartLine["demo_password"].(string), "not shown") {
		t.Fatalf("start line %v", s.StartLine)
	}
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
