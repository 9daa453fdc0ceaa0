package wire_test

import (
	"context"
	"testing"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/token"
	"github.com/authguard/authguard/core/wire"
)

// The warm guard (a token the cache holds) allocates nothing, with no
// telemetry configured and with providers configured whose instruments
// record nothing (the OpenTelemetry no-op ones): the decision and cache
// counters are recorded with attribute sets built once, in New.
func TestWarmGuardAllocatesNothingWithTelemetry(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	for name, set := range map[string]func(*core.Config){
		"no providers": func(*core.Config) {},
		"no-op providers": func(c *core.Config) {
			c.MeterProvider, c.TracerProvider = metricnoop.NewMeterProvider(), tracenoop.NewTracerProvider()
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := authtest.New(t, authtest.Options{Config: set})
			ctx := context.Background()
			tok := secLogin(t, f, authtest.UserEmail, core.ClientInfo{}).AccessToken
			req := newSecRequest("192.0.2.1:1").with("Authorization", "Bearer "+tok)
			g := wire.New(f.Service).Require()
			check := func() {
				if p, resp := g.Check(ctx, req, nil, nil); resp != nil || p == nil {
					t.Fatalf("guard refused a valid token: %+v", resp)
				}
			}
			check()
			if n := testing.AllocsPerRun(1000, check); n != 0 {
				t.Fatalf("a warm guard allocates %v times", n)
			}
		})
	}
}

// warmCheck is one measured request of BenchmarkWarmGuard, called only
// inside its loop: scripts/bench-telemetry.sh counts the instructions
// executed under it.
//
//go:noinline
func warmCheck(ctx context.Context, g *wire.Guard, r wire.Request) bool {
	p, _ := g.Check(ctx, r, nil, nil)
	return p != nil
}

// BenchmarkWarmGuard measures the guard every adapter runs on a token its
// cache holds, with no telemetry configured: bearer parsing, the token
// cache hit and the liveness check. scripts/bench-telemetry.sh counts its
// instructions with the telemetry hooks compiled in and compiled out.
func BenchmarkWarmGuard(b *testing.B) {
	for _, alg := range []string{token.AlgEdDSA, token.AlgHS256} {
		b.Run(alg, func(b *testing.B) {
			f := authtest.New(b, authtest.Options{Alg: alg})
			ctx := context.Background()
			tr, err := f.Service.Login(ctx, core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
			if err != nil {
				b.Fatal(err)
			}
			req := newSecRequest("192.0.2.1:1").with("Authorization", "Bearer "+tr.AccessToken)
			g := wire.New(f.Service).Require()
			if p, resp := g.Check(ctx, req, nil, nil); resp != nil || p == nil {
				b.Fatalf("guard refused a valid token: %+v", resp)
			}
			refused := 0
			b.ReportAllocs()
			for b.Loop() {
				if !warmCheck(ctx, g, req) {
					refused++
				}
			}
			if refused != 0 {
				b.Fatalf("the guard refused a valid token %d times", refused)
			}
		})
	}
}
