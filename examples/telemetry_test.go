package examples

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/httpauth"
	"github.com/authguard/authguard/core/password"
	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/core/wire"
)

// TestTelemetryFlow runs a full flow (logins ok, failed and throttled; the
// guard allowing, denying, refusing a bad token; refreshes rotated,
// replayed within grace, reused; logout and a subject revoked) against a
// service reporting to the OpenTelemetry SDK (a manual metric reader and a
// span recorder), then checks every counter, the histograms and the spans,
// and that no token or password appears in any attribute, span name or
// status of what was recorded.
func TestTelemetryFlow(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()); _ = tp.Shutdown(context.Background()) })

	var secrets []string
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) {
		auth, err := password.NewAuthenticator(c.Store.(store.Users), password.Options{MeterProvider: mp})
		if err != nil {
			t.Fatal(err)
		}
		c.Authenticator, c.MeterProvider, c.TracerProvider = auth, mp, tp
		c.LoginThrottle.AccountLimit = 2
	}})
	ctx := context.Background()
	svc := f.Service
	secrets = append(secrets, authtest.Password)

	login := func(email, pw string) (*core.TokenResponse, error) {
		secrets = append(secrets, pw)
		tr, err := svc.Login(ctx, core.LoginInput{Email: email, Password: pw})
		if tr != nil {
			secrets = append(secrets, tr.AccessToken, tr.RefreshToken)
		}
		return tr, err
	}
	tr, err := login(authtest.UserEmail, authtest.Password)
	if err != nil {
		t.Fatal(err)
	}
	failed, throttled := 0, 0
	for i := 0; throttled < 2; i++ { // wrong passwords until the address is throttled twice
		_, err := login(authtest.AdminEmail, fmt.Sprintf("wrong password %d", i))
		switch {
		case errors.Is(err, core.ErrTooManyRequests):
			throttled++
		case errors.Is(err, core.ErrInvalidGrant):
			failed++
		default:
			t.Fatalf("wrong password %d: %v", i, err)
		}
	}

	guarded := httptest.NewServer(httpauth.RequireRole(svc, "admin")(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})))
	defer guarded.Close()
	get := func(authz string) int {
		req, _ := http.NewRequest("GET", guarded.URL, nil)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		authz string
		want  int
	}{{"Bearer " + tr.AccessToken, 403}, {"Bearer " + tr.AccessToken + "x", 401}, {"", 401}} {
		if got := get(c.authz); got != c.want {
			t.Fatalf("guard with %.20q: %d, want %d", c.authz, got, c.want)
		}
	}
	userOK := httptest.NewServer(httpauth.Require(svc)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})))
	defer userOK.Close()
	for range 3 { // the first verifies, the next two hit the cache
		req, _ := http.NewRequest("GET", userOK.URL, nil)
		req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("guarded request: %v %v", resp, err)
		}
		resp.Body.Close()
	}

	r1, err := svc.Refresh(ctx, tr.RefreshToken, core.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, r1.AccessToken, r1.RefreshToken)
	r1b, err := svc.Refresh(ctx, tr.RefreshToken, core.ClientInfo{}) // replay within grace
	if err != nil || r1b.RefreshToken != r1.RefreshToken {
		t.Fatalf("grace replay: %v", err)
	}
	secrets = append(secrets, r1b.AccessToken)
	f.Clock.Advance(time.Minute)
	if _, err := svc.Refresh(ctx, tr.RefreshToken, core.ClientInfo{}); err == nil { // reuse after grace
		t.Fatal("a reused refresh token was accepted")
	}
	if _, err := svc.Refresh(ctx, "not-a-token", core.ClientInfo{}); err == nil {
		t.Fatal("a malformed refresh token was accepted")
	}
	tr2, err := login(authtest.UserEmail, authtest.Password)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Logout(ctx, core.LogoutInput{RefreshToken: tr2.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	tr3, err := login(authtest.UserEmail, authtest.Password)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := svc.RevokeSubject(ctx, f.UserID); err != nil || n != 1 {
		t.Fatalf("RevokeSubject: %d, %v", n, err)
	}
	_ = tr3

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	histograms := map[string]uint64{}
	var attrs []attribute.KeyValue
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					attrs = append(attrs, p.Attributes.ToSlice()...)
					counts[m.Name+" "+p.Attributes.Encoded(attribute.DefaultEncoder())] += p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					attrs = append(attrs, p.Attributes.ToSlice()...)
					histograms[m.Name+" "+p.Attributes.Encoded(attribute.DefaultEncoder())] += p.Count
				}
			default:
				t.Errorf("metric %s has an unexpected type %T", m.Name, m.Data)
			}
		}
	}
	want := map[string]int64{
		"authguard.logins outcome=ok":                      3,
		"authguard.logins outcome=failed":                  int64(failed),
		"authguard.logins outcome=throttled":               int64(throttled),
		"authguard.guard.decisions decision=allowed":       3,
		"authguard.guard.decisions decision=denied":        2, // the missing role, no credential
		"authguard.guard.decisions decision=invalid_token": 1,
		"authguard.token_cache.lookups result=hit":         3,
		"authguard.token_cache.lookups result=miss":        2,
		"authguard.refreshes outcome=rotated":              1,
		"authguard.refreshes outcome=grace_replay":         1,
		"authguard.refreshes outcome=reuse_detected":       1,
		"authguard.refreshes outcome=failed":               1,
		"authguard.revocations reason=reuse":               1,
		"authguard.revocations reason=logout":              1,
		"authguard.revocations reason=subject":             1,
	}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%s = %d, want %d", k, counts[k], v)
		}
	}
	for k, v := range counts {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected count %s = %d", k, v)
		}
	}
	if n := histograms["authguard.password.hash.duration algorithm=argon2id"]; n < 5 {
		t.Errorf("argon2id durations recorded: %d, want at least the 5 verified logins (histograms %v)", n, histograms)
	}
	for _, op := range []string{"sessions.CreateSession", "sessions.Session", "sessions.UpdateSession", "sessions.ListSessions", "throttle.Hit", "users.Lookup"} {
		if histograms["authguard.store.duration error=false,operation="+op] == 0 {
			t.Errorf("no store duration for %s (histograms %v)", op, histograms)
		}
	}

	names := map[string]int{}
	var texts []string
	for _, s := range spans.Ended() {
		names[s.Name()]++
		texts = append(texts, s.Name(), s.Status().Description)
		attrs = append(attrs, s.Attributes()...)
		for _, e := range s.Events() {
			texts = append(texts, e.Name)
			attrs = append(attrs, e.Attributes...)
		}
	}
	if names["authguard.Login"] != 3+failed+throttled || names["authguard.Refresh"] != 4 || names["authguard.store.sessions.CreateSession"] != 3 {
		t.Errorf("spans %v", names)
	}
	for _, a := range attrs {
		texts = append(texts, string(a.Key), a.Value.Emit())
	}
	if len(attrs) < 50 || len(secrets) < 10 {
		t.Fatalf("only %d attributes and %d secrets to compare: the scan would pass vacuously", len(attrs), len(secrets))
	}
	t.Logf("%d spans, %d attributes scanned for %d secrets; counts %v", len(spans.Ended()), len(attrs), len(secrets), counts)
	for _, text := range texts {
		for _, secret := range secrets {
			if secret != "" && strings.Contains(text, secret) {
				t.Fatalf("a secret is recorded: %q contains %.12q...", text, secret)
			}
		}
		// No token at all, not only those seen: no JWT-shaped or long opaque value.
		if strings.Count(text, ".") == 2 && len(text) > 40 || len(text) > 64 && !strings.Contains(text, " ") {
			t.Errorf("a recorded value looks like a token: %q", text)
		}
	}
}

// BenchmarkWarmGuardTelemetry is the whole guard (wire.Guard.Check) on a
// token the cache holds, without providers and with the OpenTelemetry SDK
// recording its metrics (a manual reader; traces go to a span recorder but
// a cache hit starts none).
func BenchmarkWarmGuardTelemetry(b *testing.B) {
	for _, name := range []string{"none", "sdk"} {
		b.Run(name, func(b *testing.B) {
			f := authtest.New(b, authtest.Options{Config: func(c *core.Config) {
				if name == "sdk" {
					c.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
					c.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tracetest.NewSpanRecorder()))
				}
			}})
			tok := f.LoginUser(b).AccessToken
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			g := wire.New(f.Service).Require()
			r := httpauth.Request(req)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, resp := g.Check(ctx, r, nil, nil); resp != nil {
					b.Fatal(string(resp.Body))
				}
			}
		})
	}
}
