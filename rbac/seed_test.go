package rbac_test

import (
	"context"
	"sync"
	"testing"

	"github.com/authguard/authguard/rbac"
)

func TestSeedPolicySQLite(t *testing.T)   { testSeedPolicy(t, sqlAdapter(t, sqliteDB)) }
func TestSeedPolicyPostgres(t *testing.T) { testSeedPolicy(t, sqlAdapter(t, postgresDB)) }
func TestSeedPolicyRedis(t *testing.T)    { testSeedPolicy(t, redisAdapter(t, testRedis(t))) }

// testSeedPolicy: eight instances seed an empty store at once: one stores
// the rules, each once, and raises the version; the others store nothing.
// A policy changed since is never seeded over.
func testSeedPolicy(t *testing.T, ad policyStore) {
	ctx := context.Background()
	seeder := ad.(rbac.PolicySeeder)
	first, err := rbac.NewEnforcer(rbac.ModelRBAC, rbac.PolicyFromString(rbac.DefaultPolicy+"g, alice, admin\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := len(first.GetModel()["p"]["p"].Policy) + len(first.GetModel()["g"]["g"].Policy)
	var start, wg sync.WaitGroup
	start.Add(1)
	seeded := make(chan bool, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			ok, err := seeder.SeedPolicyCtx(ctx, first.GetModel())
			if err != nil {
				t.Error(err)
			}
			seeded <- ok
		}()
	}
	start.Done()
	wg.Wait()
	close(seeded)
	n := 0
	for ok := range seeded {
		if ok {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d instances seeded, want 1", n)
	}
	e, err := rbac.NewEnforcer(rbac.ModelRBAC, ad)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := e.GetPolicy()
	g, _ := e.GetGroupingPolicy()
	if len(p)+len(g) != want {
		t.Fatalf("%d rules stored, want %d (each once)", len(p)+len(g), want)
	}
	v, err := ad.PolicyVersion(ctx)
	if err != nil || v < 1 {
		t.Fatalf("version after the seed: %d %v", v, err)
	}

	// A live change (alice loses admin) is kept: a later seed stores nothing.
	if _, err := e.RemoveGroupingPolicy("alice", "admin"); err != nil {
		t.Fatal(err)
	}
	if ok, err := seeder.SeedPolicyCtx(ctx, first.GetModel()); ok || err != nil {
		t.Fatalf("seed over a stored policy: %v %v", ok, err)
	}
	if v2, _ := ad.PolicyVersion(ctx); v2 != v+1 {
		t.Fatalf("version %d after a change and a refused seed, want %d", v2, v+1)
	}
	if err := e.LoadPolicy(); err != nil {
		t.Fatal(err)
	}
	if has, _ := e.HasGroupingPolicy("alice", "admin"); has {
		t.Fatal("the seed brought back a role taken away")
	}
}
