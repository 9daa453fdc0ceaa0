package rbac_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/rbac"
	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
)

// pausingAdapter is a SQLAdapter whose LoadPolicy, once armed, reads the
// stored policy and then waits for release before handing it to casbin:
// a reload that has read the policy but not applied it yet.
type pausingAdapter struct {
	*rbac.SQLAdapter
	armed   atomic.Bool
	read    chan struct{}
	release chan struct{}
}

func (p *pausingAdapter) LoadPolicy(m model.Model) error {
	err := p.SQLAdapter.LoadPolicy(m)
	if p.armed.CompareAndSwap(true, false) {
		close(p.read)
		<-p.release
	}
	return err
}

// A role taken away while a reload (a Watcher's, after another instance's
// change) is between reading the stored policy and applying it stays taken
// away: the reload must not put back, in memory, the grant it read before
// the revocation was stored. Otherwise the subject keeps the role on this
// instance, with the change already answered 204, until the next check of
// the version.
func TestRevokeDuringReloadStaysRevoked(t *testing.T) {
	ctx := context.Background()
	db, d, table := sqliteDB(t)
	sa, err := rbac.NewSQLAdapter(db, d, table)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := rbac.NewEnforcer(rbac.ModelRBAC, rbac.PolicyFromString(rbac.DefaultPolicy))
	if err != nil {
		t.Fatal(err)
	}
	if err := sa.SavePolicy(seed.GetModel()); err != nil {
		t.Fatal(err)
	}
	ad := &pausingAdapter{SQLAdapter: sa, read: make(chan struct{}), release: make(chan struct{})}
	e, err := rbac.NewEnforcer(rbac.ModelRBAC, ad)
	if err != nil {
		t.Fatal(err)
	}
	a, err := rbac.New(e)
	if err != nil {
		t.Fatal(err)
	}
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.Authorizer = a }})
	admin, err := rbac.NewRoleAdmin(f.Service, a, rbac.SubjectsFromStore(f.Store))
	if err != nil {
		t.Fatal(err)
	}
	uid := f.UserID
	change := rbac.RoleChange{Actor: &core.Principal{Subject: f.AdminID}, Subject: uid, Role: "admin"}
	if err := admin.Grant(ctx, change); err != nil {
		t.Fatal(err)
	}
	p := &core.Principal{Subject: uid}
	if ok, err := a.Authorize(ctx, p, "roles", "write"); err != nil || !ok {
		t.Fatalf("after the grant: Authorize = %v, %v", ok, err)
	}

	ad.armed.Store(true)
	reloaded := make(chan error, 1)
	go func() { reloaded <- a.Reload() }()
	<-ad.read // the reload holds the policy with the grant
	revoked := make(chan error, 1)
	go func() { revoked <- admin.Revoke(ctx, change) }()
	// Let the revocation reach the point where it waits for the reload
	// (casbin's lock, or the Authorizer's); released earlier, the reload
	// simply ends first and the test proves nothing, it cannot fail.
	time.Sleep(150 * time.Millisecond)
	close(ad.release)
	for _, ch := range []chan error{reloaded, revoked} {
		select {
		case err := <-ch:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("reload or revocation hangs")
		}
	}

	if ok, err := a.Authorize(ctx, p, "roles", "write"); err != nil || ok {
		t.Errorf("a revocation answered as done is undone by a concurrent reload: Authorize = %v, %v", ok, err)
	}
	if err := f.Service.CheckRole(ctx, p, "admin"); !errors.Is(err, core.ErrInsufficientScope) {
		t.Errorf("CheckRole(admin) after the revocation = %v, want ErrInsufficientScope", err)
	}
	if roles, err := admin.Roles(ctx, uid); err != nil || len(roles) != 0 {
		t.Errorf("Roles after the revocation = %v, %v; want none", roles, err)
	}
}

// A subject that is itself a role of the policy, because the directory
// knows an account of that name, gets no role and loses none through the
// administration: "g, user, admin" would make every user an admin, and
// removing "g, admin, user" would take the user role from every admin.
func TestRoleAdminRefusesRoleAsSubject(t *testing.T) {
	ctx := context.Background()
	x := newAdminFixture(t)
	uid := x.f.UserID
	if err := x.admin.Grant(ctx, x.change(uid, "user")); err != nil {
		t.Fatal(err)
	}
	named, err := rbac.NewRoleAdmin(x.f.Service, x.a, func(_ context.Context, s string) (bool, error) {
		return s == "user" || s == "admin" || s == uid, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := named.Grant(ctx, x.change("user", "admin")); !errors.Is(err, core.ErrInvalidRequest) {
		t.Errorf("Grant(admin) to the subject named like the role user = %v, want ErrInvalidRequest", err)
	}
	if ok, err := x.a.Authorize(ctx, &core.Principal{Subject: uid}, "roles", "write"); err != nil || ok {
		t.Errorf("a plain user may write roles: Authorize = %v, %v", ok, err)
	}
	if err := named.Revoke(ctx, x.change("admin", "user")); !errors.Is(err, core.ErrInvalidRequest) {
		t.Errorf("Revoke(user) from the subject named like the role admin = %v, want ErrInvalidRequest", err)
	}
	if has, err := x.a.HasAnyRole(ctx, &core.Principal{Subject: "admin"}, "user"); err != nil || !has {
		t.Errorf("the role admin no longer inherits user: HasAnyRole = %v, %v", has, err)
	}
	if err := named.Grant(ctx, x.change(uid, "admin")); err != nil {
		t.Errorf("Grant to an account: %v", err)
	}
	if !strings.Contains(x.f.Logs.String(), `"reason":"subject_is_role"`) {
		t.Error("no audit line for the refused change")
	}
}

// A policy from a string stays what the string says: taking a role away
// in memory does not wipe the text, so that a later Reload reads the
// policy again instead of failing on an empty one.
func TestPolicyFromStringSurvivesRevoke(t *testing.T) {
	ctx := context.Background()
	e, err := rbac.NewEnforcer(rbac.ModelRBAC, rbac.PolicyFromString(rbac.DefaultPolicy+"g, u-1, admin\ng, u-2, user\n"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := rbac.New(e)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.DeleteRoleForUser("u-1", "admin"); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.AddRoleForUser("u-3", "user"); err != nil || !ok {
		t.Fatalf("AddRoleForUser in memory = %v, %v", ok, err)
	}
	a.PolicyChanged()
	if err := a.Reload(); err != nil {
		t.Fatalf("Reload after a change in memory: %v", err)
	}
	for sub, want := range map[string]bool{"u-1": true, "u-2": true, "u-3": false} {
		if ok, err := a.Authorize(ctx, &core.Principal{Subject: sub}, "reports", "read"); err != nil || ok != want {
			t.Errorf("after Reload, %s reads reports = %v, %v; want %v (the string's policy)", sub, ok, err, want)
		}
	}
}

func TestEmptyLastValueSQLite(t *testing.T)   { testEmptyLastValue(t, sqlAdapter(t, sqliteDB)) }
func TestEmptyLastValuePostgres(t *testing.T) { testEmptyLastValue(t, sqlAdapter(t, postgresDB)) }
func TestEmptyLastValueRedis(t *testing.T)    { testEmptyLastValue(t, redisAdapter(t, testRedis(t))) }

// A rule whose last value is empty, which casbin accepts and the adapter
// stores, loads back as it was stored: otherwise one such rule makes the
// stored policy unloadable, every Watcher's reload fails (every instance
// answers 503 once stale) and no instance starts.
func testEmptyLastValue(t *testing.T, ad policyStore) {
	e, err := rbac.NewEnforcer(rbac.ModelRBAC, ad)
	if err != nil {
		t.Fatal(err)
	}
	rules := [][]string{{"user", "reports", ""}, {"auditor", "", ""}, {"user", "stats", "read"}}
	for _, r := range rules {
		if ok, err := e.AddPolicy(r); err != nil || !ok {
			t.Fatalf("AddPolicy(%q) = %v, %v", r, ok, err)
		}
	}
	if ok, err := e.AddRoleForUser("u-1", "user"); err != nil || !ok {
		t.Fatalf("AddRoleForUser = %v, %v", ok, err)
	}
	if err := e.LoadPolicy(); err != nil {
		t.Fatalf("reloading what the adapter stored: %v", err)
	}
	other, err := rbac.NewEnforcer(rbac.ModelRBAC, ad)
	if err != nil {
		t.Fatalf("a new instance on the stored policy: %v", err)
	}
	for _, r := range rules {
		if ok, err := other.HasPolicy(r); err != nil || !ok {
			t.Errorf("the rule %q was stored but is not loaded: %v, %v", r, ok, err)
		}
	}
	if ok, err := other.Enforce("u-1", "stats", "read"); err != nil || !ok {
		t.Errorf("Enforce on the reloaded policy = %v, %v", ok, err)
	}
	if ok, err := other.RemovePolicy("user", "reports", ""); err != nil || !ok {
		t.Fatalf("RemovePolicy = %v, %v", ok, err)
	}
	if err := e.LoadPolicy(); err != nil {
		t.Fatal(err)
	}
	if ok, _ := e.HasPolicy("user", "reports", ""); ok {
		t.Error("a removed rule with an empty last value is still stored")
	}
}

// Behind a casbin enforcer with its own decision cache (which casbin does
// not empty when a role rule changes), a role taken away through the
// administration, or through the enforcer and PolicyChanged, denies the
// next request all the same.
func TestCachedEnforcerForgetsRevokedRole(t *testing.T) {
	ctx := context.Background()
	db, d, table := sqliteDB(t)
	sa, err := rbac.NewSQLAdapter(db, d, table)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := rbac.NewEnforcer(rbac.ModelRBAC, rbac.PolicyFromString(rbac.DefaultPolicy))
	if err != nil {
		t.Fatal(err)
	}
	if err := sa.SavePolicy(seed.GetModel()); err != nil {
		t.Fatal(err)
	}
	m, err := model.NewModelFromString(rbac.ModelRBAC)
	if err != nil {
		t.Fatal(err)
	}
	e, err := casbin.NewSyncedCachedEnforcer(m, sa)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{rbac.DefaultCacheSize, 0} {
		a, err := rbac.New(e, rbac.WithCacheSize(size))
		if err != nil {
			t.Fatal(err)
		}
		f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.Authorizer = a }})
		admin, err := rbac.NewRoleAdmin(f.Service, a, rbac.SubjectsFromStore(f.Store))
		if err != nil {
			t.Fatal(err)
		}
		p := &core.Principal{Subject: f.UserID}
		change := rbac.RoleChange{Actor: &core.Principal{Subject: f.AdminID}, Subject: f.UserID, Role: "admin"}
		if err := admin.Grant(ctx, change); err != nil {
			t.Fatal(err)
		}
		if ok, err := a.Authorize(ctx, p, "reports", "delete"); err != nil || !ok {
			t.Fatalf("cache %d: after the grant: Authorize = %v, %v", size, ok, err)
		}
		if err := admin.Revoke(ctx, change); err != nil {
			t.Fatal(err)
		}
		if ok, err := a.Authorize(ctx, p, "reports", "delete"); err != nil || ok {
			t.Errorf("cache %d: a role revoked through the administration still allows: Authorize = %v, %v", size, ok, err)
		}
		if _, err := e.AddRoleForUser(f.UserID, "admin"); err != nil {
			t.Fatal(err)
		}
		a.PolicyChanged()
		if ok, err := a.Authorize(ctx, p, "reports", "delete"); err != nil || !ok {
			t.Fatalf("cache %d: after a grant through the enforcer: Authorize = %v, %v", size, ok, err)
		}
		if _, err := e.DeleteRoleForUser(f.UserID, "admin"); err != nil {
			t.Fatal(err)
		}
		a.PolicyChanged()
		if ok, err := a.Authorize(ctx, p, "reports", "delete"); err != nil || ok {
			t.Errorf("cache %d: a role revoked through the enforcer, then PolicyChanged, still allows: Authorize = %v, %v", size, ok, err)
		}
	}
}

// The decision cache is bounded in bytes, not only in decisions: a caller
// with any valid token who spells a long name of its own on every request
// (the method, which is the action of AuthorizeRoute on a route that takes
// any method; a tenant in the path) must not make the instance keep a copy
// of each, up to the cache's 65,536 decisions (gigabytes for request lines
// near net/http's 1 MB limit). Decisions on such long names are computed,
// not remembered.
func TestCacheKeepsNoLongKeys(t *testing.T) {
	const requests, size = 400, 64 << 10
	a, _ := newAuthorizer(t, "g, alice, user\n", rbac.WithCacheSize(requests))
	alice := principal("alice")
	ctx := context.Background()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	long := strings.Repeat("X", size)
	for i := range requests {
		if ok, err := a.Authorize(ctx, alice, "reports", fmt.Sprintf("%s%06d", long, i)); err != nil || ok {
			t.Fatalf("Authorize with an action of its own = %v, %v; want a denial", ok, err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > requests*size/8 {
		t.Errorf("%d requests naming a %d KiB action each left %d MiB on the heap (%d decisions cached)",
			requests, size>>10, grown>>20, rbac.CacheLen(a))
	}
	for range 2 {
		if ok, err := a.Authorize(ctx, alice, "reports", "read"); err != nil || !ok {
			t.Fatalf("Authorize(reports, read) = %v, %v", ok, err)
		}
	}
	if n := rbac.CacheLen(a); n != 1 {
		t.Errorf("the cache holds %d decisions after one short request, want 1", n)
	}
}

// A grant made on an instance that has not yet reloaded another instance's
// revocation of the same role is stored all the same: casbin skips the
// adapter for a rule its memory already holds, so the grant would be
// answered as done and be gone at the next reload.
func TestGrantOnLaggingInstanceIsStored(t *testing.T) {
	ctx := context.Background()
	x := newAdminFixture(t) // instance A
	uid := x.f.UserID
	if err := x.admin.Grant(ctx, x.change(uid, "admin")); err != nil {
		t.Fatal(err)
	}
	eb, err := rbac.NewEnforcer(rbac.ModelRBAC, x.ad) // instance B, same store
	if err != nil {
		t.Fatal(err)
	}
	ab, err := rbac.New(eb)
	if err != nil {
		t.Fatal(err)
	}
	adminB, err := rbac.NewRoleAdmin(x.f.Service, ab, rbac.SubjectsFromStore(x.f.Store))
	if err != nil {
		t.Fatal(err)
	}
	if err := adminB.Revoke(ctx, x.change(uid, "admin")); err != nil {
		t.Fatal(err)
	}
	// A has not reloaded yet: its memory still holds the grant.
	if err := x.admin.Grant(ctx, x.change(uid, "admin")); err != nil {
		t.Fatal(err)
	}
	if err := x.a.Reload(); err != nil {
		t.Fatal(err)
	}
	if ok, err := x.a.Authorize(ctx, &core.Principal{Subject: uid}, "roles", "write"); err != nil || !ok {
		t.Errorf("a grant answered as done is lost at the next reload: Authorize = %v, %v", ok, err)
	}
}

// With a policy kept in memory (PolicyFromString), giving a role already
// held changes nothing else: a revocation made before stays made.
func TestGrantOfHeldRoleKeepsMemoryPolicy(t *testing.T) {
	ctx := context.Background()
	var a *rbac.Authorizer
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.Authorizer = authorizerRef{&a} }})
	e, err := rbac.NewEnforcer(rbac.ModelRBAC, rbac.PolicyFromString(rbac.DefaultPolicy+"g, "+f.AdminID+", admin\ng, "+f.UserID+", user\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a, err = rbac.New(e); err != nil {
		t.Fatal(err)
	}
	admin, err := rbac.NewRoleAdmin(f.Service, a, rbac.SubjectsFromStore(f.Store))
	if err != nil {
		t.Fatal(err)
	}
	change := func(sub, role string) rbac.RoleChange {
		return rbac.RoleChange{Actor: &core.Principal{Subject: f.AdminID}, Subject: sub, Role: role}
	}
	if err := admin.Revoke(ctx, change(f.AdminID, "admin")); err != nil {
		t.Fatal(err)
	}
	if err := admin.Grant(ctx, change(f.UserID, "user")); err != nil {
		t.Fatal(err)
	}
	if ok, err := a.Authorize(ctx, &core.Principal{Subject: f.AdminID}, "roles", "write"); err != nil || ok {
		t.Errorf("a revocation in memory came back after a grant of a held role: Authorize = %v, %v", ok, err)
	}
}

// authorizerRef is an Authorizer set after the service that needs it.
type authorizerRef struct{ a **rbac.Authorizer }

func (r authorizerRef) Authorize(ctx context.Context, p *core.Principal, object, action string) (bool, error) {
	return (*r.a).Authorize(ctx, p, object, action)
}

func TestSeedAfterEmptiedPolicySQLite(t *testing.T) { testSeedAfterEmptied(t, sqlAdapter(t, sqliteDB)) }
func TestSeedAfterEmptiedPolicyPostgres(t *testing.T) {
	testSeedAfterEmptied(t, sqlAdapter(t, postgresDB))
}
func TestSeedAfterEmptiedPolicyRedis(t *testing.T) {
	testSeedAfterEmptied(t, redisAdapter(t, testRedis(t)))
}

// A policy emptied on purpose (every rule removed: nobody may do anything)
// is a policy changed since the seed: the next start must not store the
// first policy again, which would give back every role taken away.
func testSeedAfterEmptied(t *testing.T, ad policyStore) {
	ctx := context.Background()
	seeder := ad.(rbac.PolicySeeder)
	first, err := rbac.NewEnforcer(rbac.ModelRBAC, rbac.PolicyFromString(rbac.DefaultPolicy+"g, alice, admin\n"))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := seeder.SeedPolicyCtx(ctx, first.GetModel()); !ok || err != nil {
		t.Fatalf("first seed: %v, %v", ok, err)
	}
	e, err := rbac.NewEnforcer(rbac.ModelRBAC, ad)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := e.GetPolicy()
	if _, err := e.RemovePolicies(p); err != nil {
		t.Fatal(err)
	}
	g, _ := e.GetGroupingPolicy()
	if _, err := e.RemoveGroupingPolicies(g); err != nil {
		t.Fatal(err)
	}
	if ok, err := seeder.SeedPolicyCtx(ctx, first.GetModel()); ok || err != nil {
		t.Errorf("a seed over a policy emptied since the first seed = %v, %v; want false", ok, err)
	}
	if err := e.LoadPolicy(); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.Enforce("alice", "roles", "write"); err != nil || ok {
		t.Errorf("after the second start alice may write roles again: %v, %v", ok, err)
	}
}
