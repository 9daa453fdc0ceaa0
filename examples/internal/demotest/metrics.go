package demotest

import (
	"strings"
	"testing"

	"github.com/authguard/authguard/examples/internal/demo"
)

// Metrics starts an example with AUTHGUARD_METRICS=1, logs in, makes one
// guarded request and checks that /metrics answers in the Prometheus text
// format with the login and guard counters of those two requests, the
// token-cache miss and the password hash durations; then that an example
// started without the variable has no /metrics.
func Metrics(t *testing.T, run Run) {
	t.Helper()
	s := Start(t, run, map[string]string{demo.EnvMetrics: "1"})
	c := &Client{T: t, Base: s.Base}
	tok, _ := c.login("user@example.com", demo.DefaultDemoPassword)
	c.expect(c.Do("GET", demo.PathProfile, nil, bearer(tok.Access)...), 200, "guarded request")
	r := c.Do("GET", demo.PathMetrics, nil)
	c.expect(r, 200, "metrics")
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("metrics Content-Type %q", ct)
	}
	body := string(r.Body)
	for _, want := range []struct{ name, label, value string }{
		{"authguard_logins_total", `outcome="ok"`, "1"},
		{"authguard_guard_decisions_total", `decision="allowed"`, "1"},
		{"authguard_token_cache_lookups_total", `result="miss"`, "1"},
		{"authguard_password_hash_duration_seconds_count", `algorithm="argon2id"`, ""},
		{"authguard_store_duration_seconds_count", `operation="sessions.CreateSession"`, "1"},
	} {
		line := metricLine(body, want.name, want.label)
		if line == "" {
			t.Fatalf("metrics lack %s{%s}:\n%s", want.name, want.label, body)
		}
		if want.value != "" && !strings.HasSuffix(line, "} "+want.value) {
			t.Fatalf("metrics: %q, want the value %s", line, want.value)
		}
	}
	if strings.Contains(body, tok.Access) || strings.Contains(body, tok.Refresh) || strings.Contains(body, demo.DefaultDemoPassword) {
		t.Fatal("metrics show a token or the password")
	}

	off := Start(t, run, nil)
	if r := (&Client{T: t, Base: off.Base}).Do("GET", demo.PathMetrics, nil); r.Status != 404 {
		t.Fatalf("metrics without %s: status %d, want 404", demo.EnvMetrics, r.Status)
	}
}

// metricLine is the first sample of the metric name with label in body,
// "" if none.
func metricLine(body, name, label string) string {
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, name+"{") && strings.Contains(line, label) {
			return line
		}
	}
	return ""
}
