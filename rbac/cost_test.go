//go:build !race

package rbac_test

import (
	"context"
	"testing"

	"github.com/authguard/authguard/rbac"
)

// The cached decision path costs at most 0.5 µs and under 5% of casbin's
// own Enforce for the same requests (1,000 users, 50 policy lines), with a
// Watcher's staleness check on every decision, as in production. The
// machine may be busy, so the cached path gets three tries.
func TestCachedDecisionCost(t *testing.T) {
	if testing.Short() {
		t.Skip("measures for a few seconds")
	}
	e, err := rbac.NewEnforcer(rbac.ModelRBAC, rbac.PolicyFromString(benchPolicy()))
	if err != nil {
		t.Fatal(err)
	}
	a, err := rbac.New(e)
	if err != nil {
		t.Fatal(err)
	}
	w, err := rbac.Watch(a, constVersion(1))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ps := benchRequests()
	ctx := context.Background()
	enforce := testing.Benchmark(func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			_, _ = e.Enforce(ps[i%benchUsers].Subject, benchObjectNames[i%benchObjects], "read")
		}
	})
	var cached testing.BenchmarkResult
	for try := 0; try < 3; try++ {
		cached = testing.Benchmark(func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				_, _ = a.Authorize(ctx, ps[i%benchUsers], benchObjectNames[i%benchObjects], "read")
			}
		})
		if cached.NsPerOp() <= 500 && cached.NsPerOp()*20 < enforce.NsPerOp() {
			break
		}
	}
	t.Logf("Enforce %d ns/op, cached decision %d ns/op (%.2f%%)", enforce.NsPerOp(), cached.NsPerOp(), 100*float64(cached.NsPerOp())/float64(enforce.NsPerOp()))
	if cached.NsPerOp() > 500 {
		t.Errorf("cached decision %d ns/op, budget 500", cached.NsPerOp())
	}
	if cached.NsPerOp()*20 >= enforce.NsPerOp() {
		t.Errorf("cached decision %d ns/op is not under 5%% of Enforce (%d ns/op)", cached.NsPerOp(), enforce.NsPerOp())
	}
}
