package rbac_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/httpauth"
	"github.com/authguard/authguard/core/token"
	"github.com/authguard/authguard/core/wire"
	"github.com/authguard/authguard/rbac"
	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
)

const (
	benchUsers   = 1000
	benchObjects = 16
)

// benchPolicy is 50 policy lines (three roles, each inheriting the one
// below, with 48 permissions) and one role line for each of 1,000 users,
// then extra (more role lines).
func benchPolicy(extra ...string) string {
	var b strings.Builder
	for i := range benchObjects {
		fmt.Fprintf(&b, "p, viewer, obj%d, read\np, editor, obj%d, write\np, owner, obj%d, delete\n", i, i, i)
	}
	b.WriteString("g, editor, viewer\ng, owner, editor\n")
	for i := range benchUsers {
		fmt.Fprintf(&b, "g, u%d, %s\n", i, [...]string{"viewer", "editor", "owner"}[i%3])
	}
	for _, l := range extra {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// benchRequests are the requests every decision benchmark cycles through:
// each user reads each object once in 16,000 requests.
func benchRequests() []*core.Principal {
	ps := make([]*core.Principal, benchUsers)
	for i := range ps {
		ps[i] = &core.Principal{Subject: fmt.Sprintf("u%d", i)}
	}
	return ps
}

var benchObjectNames = func() []string {
	s := make([]string, benchObjects)
	for i := range s {
		s[i] = fmt.Sprintf("obj%d", i)
	}
	return s
}()

// roundsEnv names the environment variable that sets how many rounds
// BenchmarkCost runs (default 1), as in the bench module.
const roundsEnv = "AUTHGUARD_BENCH_ROUNDS"

// benchRounds returns how often BenchmarkCost runs all of its contenders in
// turn. Every round measures each contender once, so on a machine whose
// load changes from second to second the contenders see the same load; the
// testing package names the repeats "rbac_cached#01", "rbac_cached#02" and
// so on (bench/cmd/benchtable folds them together).
func benchRounds(b *testing.B) int {
	v := os.Getenv(roundsEnv)
	if v == "" {
		return 1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		b.Fatalf("%s=%q: want a number of rounds from 1 to 1000", roundsEnv, v)
	}
	return n
}

// costCase is one contender of BenchmarkCost: op serves one request and
// reports whether it got the answer it must get.
type costCase struct {
	name string
	op   func() bool
}

// decisionCases are the contenders of BenchmarkCost/Decision: one
// permission decision (16,000 distinct requests in turn) by casbin's own
// Enforce (plain and synced enforcer), the Authorizer without its cache,
// and the Authorizer answering from its decision cache.
func decisionCases(tb testing.TB) []costCase {
	tb.Helper()
	m, err := model.NewModelFromString(rbac.ModelRBAC)
	if err != nil {
		tb.Fatal(err)
	}
	plain, err := casbin.NewEnforcer(m, rbac.PolicyFromString(benchPolicy()))
	if err != nil {
		tb.Fatal(err)
	}
	synced, err := rbac.NewEnforcer(rbac.ModelRBAC, rbac.PolicyFromString(benchPolicy()))
	if err != nil {
		tb.Fatal(err)
	}
	uncached, err := rbac.New(synced, rbac.WithCacheSize(0))
	if err != nil {
		tb.Fatal(err)
	}
	cached, err := rbac.New(synced)
	if err != nil {
		tb.Fatal(err)
	}
	// As in production, a watcher keeps the policy fresh: every decision
	// then also checks that the policy is not stale.
	w, err := rbac.Watch(cached, constVersion(1))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = w.Close() })
	ps, ctx := benchRequests(), context.Background()
	for i := range benchUsers * benchObjects { // fill the decision cache
		if ok, err := cached.Authorize(ctx, ps[i%benchUsers], benchObjectNames[i%benchObjects], "read"); !ok || err != nil {
			tb.Fatalf("u%d may not read obj%d (%v)", i%benchUsers, i%benchObjects, err)
		}
	}
	var i int // the request: every user reads every object in turn
	next := func() (*core.Principal, string) {
		i++
		return ps[i%benchUsers], benchObjectNames[i%benchObjects]
	}
	enforce := func(e casbin.IEnforcer) func() bool {
		return func() bool {
			p, obj := next()
			ok, err := e.Enforce(p.Subject, obj, "read")
			return ok && err == nil
		}
	}
	authorize := func(a *rbac.Authorizer) func() bool {
		return func() bool {
			p, obj := next()
			ok, err := a.Authorize(ctx, p, obj, "read")
			return ok && err == nil
		}
	}
	return []costCase{
		{"casbin_Enforce", enforce(plain)},
		{"casbin_SyncedEnforce", enforce(synced)},
		{"rbac_uncached", authorize(uncached)},
		{"rbac_cached", authorize(cached)},
	}
}

// The permission the guard group asks for, and one the test user lacks.
const (
	guardObject, guardAction = "obj3", "read"
	deniedAction             = "delete"
)

// guardCases are the contenders of BenchmarkCost/Guard: the permission
// guard per request, the way every adapter runs it (wire
// Server.RequirePermission(...).Check over httpauth.Request of one real
// *http.Request holding a valid access token of authtest.UserEmail), with
// core.StaticAuthorizer, with the rbac Authorizer (cached and not), next to
// the guard without a permission check (Require) and to casbin's own
// Enforce of the same request. The test user holds the role viewer in the
// policy of 1,000 users and 50 lines, and user in the token; alg is the
// token's signing algorithm (EdDSA, the default, or the cheaper HS256, under
// which the permission check's share is easier to see).
func guardCases(tb testing.TB, alg string) []costCase {
	tb.Helper()
	ctx := context.Background()
	static := core.StaticAuthorizer{"user": {guardObject + ":" + guardAction}}
	fixture := func(a core.Authorizer) (*authtest.Fixture, *http.Request) {
		f := authtest.New(tb, authtest.Options{Alg: alg, Config: func(c *core.Config) { c.Authorizer = a }})
		req := httptest.NewRequest(http.MethodGet, "/api/obj3", nil)
		req.Header.Set("Authorization", "Bearer "+f.LoginUser(tb).AccessToken)
		return f, req
	}
	var cases []costCase
	var enforce costCase
	guard := func(name string, a core.Authorizer, perm bool) {
		f, req := fixture(a)
		srv := wire.New(f.Service)
		g, denied := srv.Require(), srv.RequirePermission(guardObject, deniedAction)
		if perm {
			g = srv.RequirePermission(guardObject, guardAction)
		}
		r := httpauth.Request(req)
		if p, resp := g.Check(ctx, r, nil, nil); p == nil || resp != nil {
			tb.Fatalf("%s: the allowed request was refused: %+v", name, resp)
		}
		if _, resp := denied.Check(ctx, r, nil, nil); resp == nil || resp.Status != http.StatusForbidden {
			tb.Fatalf("%s: %s on %s was not refused with 403: %+v", name, deniedAction, guardObject, resp)
		}
		cases = append(cases, costCase{name, func() bool {
			p, resp := g.Check(ctx, r, nil, nil)
			return p != nil && resp == nil
		}})
	}
	guard("require", static, false)
	guard("static", static, true)
	for _, c := range []struct {
		name string
		size int
	}{{"rbac_uncached", 0}, {"rbac_cached", rbac.DefaultCacheSize}} {
		e, err := rbac.NewEnforcer(rbac.ModelRBAC, rbac.PolicyFromString(benchPolicy()))
		if err != nil {
			tb.Fatal(err)
		}
		a, err := rbac.New(e, rbac.WithCacheSize(c.size))
		if err != nil {
			tb.Fatal(err)
		}
		f, req := fixture(a) // the user's id exists now: give it its role
		if _, err := e.AddRoleForUser(f.UserID, "viewer"); err != nil {
			tb.Fatal(err)
		}
		a.PolicyChanged()
		srv := wire.New(f.Service)
		g, r := srv.RequirePermission(guardObject, guardAction), httpauth.Request(req)
		if p, resp := g.Check(ctx, r, nil, nil); p == nil || resp != nil {
			tb.Fatalf("%s: the allowed request was refused: %+v", c.name, resp)
		}
		if _, resp := srv.RequirePermission(guardObject, deniedAction).Check(ctx, r, nil, nil); resp == nil || resp.Status != http.StatusForbidden {
			tb.Fatalf("%s: %s on %s was not refused with 403: %+v", c.name, deniedAction, guardObject, resp)
		}
		cases = append(cases, costCase{c.name, func() bool {
			p, resp := g.Check(ctx, r, nil, nil)
			return p != nil && resp == nil
		}})
		if c.size == 0 {
			m, err := model.NewModelFromString(rbac.ModelRBAC)
			if err != nil {
				tb.Fatal(err)
			}
			plain, err := casbin.NewEnforcer(m, rbac.PolicyFromString(benchPolicy("g, "+f.UserID+", viewer")))
			if err != nil {
				tb.Fatal(err)
			}
			sub := f.UserID
			if ok, err := plain.Enforce(sub, guardObject, deniedAction); ok || err != nil {
				tb.Fatalf("casbin_Enforce: %s on %s allowed (%v)", deniedAction, guardObject, err)
			}
			enforce = costCase{"casbin_Enforce", func() bool {
				ok, err := plain.Enforce(sub, guardObject, guardAction)
				return ok && err == nil
			}}
		}
	}
	return append(cases, enforce)
}

// BenchmarkCost measures, in one run with the contenders interleaved
// (AUTHGUARD_BENCH_ROUNDS rounds, each measuring every contender once):
// one permission decision (Cost/Decision) and the permission guard per
// request (Cost/Guard/<alg>), each next to casbin's own Enforce. See
// scripts/bench-rbac.sh and the "Authorisation (rbac)" section of
// BENCHMARKS.md.
func BenchmarkCost(b *testing.B) {
	groups := []struct {
		name  string
		cases []costCase
	}{
		{"Decision", decisionCases(b)},
		{"Guard/EdDSA", guardCases(b, token.AlgEdDSA)},
		{"Guard/HS256", guardCases(b, token.AlgHS256)},
	}
	for range benchRounds(b) {
		for _, g := range groups {
			for _, c := range g.cases {
				b.Run(g.name+"/"+c.name, func(b *testing.B) { measure(b, c.op) })
			}
		}
	}
}

// measure runs op in the benchmark loop after a short untimed warm-up
// (every contender starts warm), failing when op does, and reports the
// allocations and cpu-ns/op besides the wall time.
func measure(b *testing.B, op func() bool) {
	b.Helper()
	for i, start := 0, time.Now(); i < 1000 && time.Since(start) < 10*time.Millisecond; i++ {
		if !op() {
			b.Fatal("refused during warm-up")
		}
	}
	b.ReportAllocs()
	cpu0, cpuOK := processCPU()
	for b.Loop() {
		if !op() {
			b.Fatal("refused")
		}
	}
	// cpu-ns/op: the process CPU time per iteration (every thread, so the
	// garbage collection a contender causes is charged to it), steadier
	// than ns/op on a shared machine, as in the bench module.
	if cpu1, ok := processCPU(); cpuOK && ok && b.N > 0 {
		b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
	}
}

// TestCostContenders runs every contender of BenchmarkCost once, so the
// normal test run checks that each allows the request it is measured on
// (and the guards refuse a denied one).
func TestCostContenders(t *testing.T) {
	cases := append(decisionCases(t), guardCases(t, token.AlgEdDSA)...)
	for _, c := range append(cases, guardCases(t, token.AlgHS256)...) {
		if !c.op() {
			t.Errorf("%s refused its request", c.name)
		}
	}
}

// constVersion is a policy version that never moves.
type constVersion int64

func (v constVersion) PolicyVersion(context.Context) (int64, error) { return int64(v), nil }
