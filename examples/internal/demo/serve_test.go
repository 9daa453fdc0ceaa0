package demo

import (
	"context"
	"github.com/authguard/authguard/core/authtest"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/httpauth"
	"github.com/authguard/authguard/core/wire"
)

func TestServeListenerShutsDownCleanly(t *testing.T) {
	t.Parallel()
	var log authtest.LogBuffer
	app := openApp(t, testConfig(t, nil), &log)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	inFlight := make(chan struct{})
	release := make(chan struct{})
	h := http.NewServeMux()
	h.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { httpauth.Write(w, Health()) })
	h.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		close(inFlight)
		<-release
		httpauth.Write(w, Health())
	})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.ServeListener(ctx, ln, "test", h) }()

	base := "http://" + ln.Addr().String()
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"status":"ok"}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("healthz: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if m := startLine(t, log.String()); m["addr"] != ln.Addr().String() || m["router"] != "test" {
		t.Fatalf("start line %v", m)
	}

	// A request in flight when shutdown starts is completed.
	slow := make(chan int, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			slow <- -1
			return
		}
		resp.Body.Close()
		slow <- resp.StatusCode
	}()
	<-inFlight
	cancel()
	time.Sleep(50 * time.Millisecond)
	close(release)
	if code := <-slow; code != 200 {
		t.Fatalf("in-flight request got %d", code)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(ShutdownTimeout + 5*time.Second):
		t.Fatal("no shutdown")
	}
	if !strings.Contains(log.String(), "server stopped") {
		t.Fatalf("no stop line: %s", log.String())
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Fatal("still listening after shutdown")
	}
}

func TestServeReportsAddressInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	app := openApp(t, testConfig(t, map[string]string{EnvAddr: ln.Addr().String()}), &authtest.LogBuffer{})
	err = app.Serve(context.Background(), "test", http.NotFoundHandler())
	if err == nil || !strings.Contains(err.Error(), "AUTHGUARD_ADDR="+ln.Addr().String()) {
		t.Fatalf("err = %v", err)
	}
}

func TestNewHTTPServerLimits(t *testing.T) {
	t.Parallel()
	srv := NewHTTPServer(http.NotFoundHandler(), NewLogger(io.Discard, true))
	if srv.ReadHeaderTimeout != 5*time.Second || srv.ReadTimeout != 15*time.Second || srv.WriteTimeout != 15*time.Second ||
		srv.IdleTimeout != 60*time.Second || srv.MaxHeaderBytes != 16<<10 || srv.ErrorLog == nil {
		t.Fatalf("limits %+v", srv)
	}
}

func TestDemoAPIBodies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		resp   *wire.Response
		status int
		body   string
	}{
		{Health(), 200, `{"status":"ok"}`},
		{Profile(&core.Principal{Subject: "u1", Roles: []string{"user"}}), 200, `{"sub":"u1","roles":["user"]}`},
		{Profile(&core.Principal{Subject: "u2"}), 200, `{"sub":"u2","roles":[]}`},
		{Reports(), 200, `{"reports":[{"id":"1","title":"Quarterly revenue"},{"id":"2","title":"Active users by week"},{"id":"3","title":"Login failures by country"}]}`},
		{DeleteReport("1"), 204, ``},
		{DeleteReport("42"), 404, `{"error":"not_found","error_description":"not found"}`},
	} {
		if tc.resp.Status != tc.status || string(tc.resp.Body) != tc.body {
			t.Errorf("got %d %s, want %d %s", tc.resp.Status, tc.resp.Body, tc.status, tc.body)
		}
	}
}
