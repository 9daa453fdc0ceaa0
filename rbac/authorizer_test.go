package rbac_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/rbac"
	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
)

// casbin's three enforcers fit the narrow interface.
var (
	_ rbac.Enforcer = (*casbin.Enforcer)(nil)
	_ rbac.Enforcer = (*casbin.SyncedEnforcer)(nil)
	_ rbac.Enforcer = (*casbin.CachedEnforcer)(nil)
)

// newAuthorizer returns an Authorizer over ModelRBAC with DefaultPolicy
// plus extra lines.
func newAuthorizer(t testing.TB, extra string, opts ...rbac.Option) (*rbac.Authorizer, *casbin.SyncedEnforcer) {
	t.Helper()
	e, err := rbac.NewEnforcer(rbac.ModelRBAC, rbac.PolicyFromString(rbac.DefaultPolicy+extra))
	if err != nil {
		t.Fatal(err)
	}
	a, err := rbac.New(e, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return a, e
}

func principal(sub string, tokenRoles ...string) *core.Principal {
	return &core.Principal{Subject: sub, Roles: tokenRoles}
}

// The default policy, decided from the policy's roles: inheritance works,
// the token's roles claim grants nothing, and anything unknown is denied.
func TestDefaultPolicy(t *testing.T) {
	ctx := context.Background()
	for _, size := range []int{rbac.DefaultCacheSize, 0} {
		a, _ := newAuthorizer(t, "g, alice, admin\ng, bob, user\n", rbac.WithCacheSize(size))
		cases := []struct {
			p        *core.Principal
			obj, act string
			want     bool
		}{
			{principal("alice"), "reports", "read", true}, // inherited from user
			{principal("alice"), "reports", "delete", true},
			{principal("alice"), "stats", "read", true},
			{principal("alice"), "roles", "write", true},
			{principal("alice"), "roles", "delete", false},
			{principal("bob"), "reports", "read", true},
			{principal("bob"), "reports", "delete", false},
			{principal("bob", "admin"), "reports", "delete", false}, // the token's claim is no grant
			{principal("carol", "user"), "reports", "read", false},
			{principal("user"), "reports", "read", true}, // a role name is a subject too, as in casbin
			{principal(""), "reports", "read", false},
			{nil, "reports", "read", false},
			{principal("alice"), "Reports", "read", false},
			{principal("alice"), "reports", "READ", false},
		}
		for i := 0; i < 2; i++ { // the second round comes from the cache
			for _, c := range cases {
				got, err := a.Authorize(ctx, c.p, c.obj, c.act)
				if err != nil || got != c.want {
					t.Errorf("cache %d round %d: Authorize(%v, %s, %s) = %v, %v; want %v", size, i, c.p, c.obj, c.act, got, err, c.want)
				}
			}
		}
		roles := []struct {
			p     *core.Principal
			roles []string
			want  bool
		}{
			{principal("alice"), []string{"admin"}, true},
			{principal("alice"), []string{"user"}, true}, // admin inherits user
			{principal("bob"), []string{"admin"}, false},
			{principal("bob", "admin"), []string{"admin"}, false},
			{principal("bob"), []string{"auditor", "user"}, true},
			{principal("bob"), nil, false},
			{principal("carol", "admin", "user"), []string{"admin", "user"}, false},
			{nil, []string{"user"}, false},
		}
		for i := 0; i < 2; i++ {
			for _, c := range roles {
				got, err := a.HasAnyRole(ctx, c.p, c.roles...)
				if err != nil || got != c.want {
					t.Errorf("cache %d round %d: HasAnyRole(%v, %v) = %v, %v; want %v", size, i, c.p, c.roles, got, err, c.want)
				}
			}
		}
	}
}

// casbin's plain, synced and cached enforcers decide alike behind the
// Authorizer.
func TestEveryEnforcerKind(t *testing.T) {
	m := func() model.Model {
		m, err := model.NewModelFromString(rbac.ModelRBAC)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	policy := rbac.PolicyFromString(rbac.DefaultPolicy + "g, alice, admin\n")
	plain, err := casbin.NewEnforcer(m(), policy)
	if err != nil {
		t.Fatal(err)
	}
	synced, err := casbin.NewSyncedEnforcer(m(), policy)
	if err != nil {
		t.Fatal(err)
	}
	cached, err := casbin.NewCachedEnforcer(m(), policy)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []rbac.Enforcer{plain, synced, cached} {
		a, err := rbac.New(e)
		if err != nil {
			t.Fatalf("%T: %v", e, err)
		}
		del, err1 := a.Authorize(context.Background(), principal("alice"), "reports", "delete")
		wipe, err2 := a.Authorize(context.Background(), principal("alice"), "reports", "wipe")
		user, err3 := a.HasAnyRole(context.Background(), principal("alice"), "user")
		if !del || wipe || !user || err1 != nil || err2 != nil || err3 != nil {
			t.Errorf("%T: delete %v, wipe %v, user %v (%v %v %v); want true false true", e, del, wipe, user, err1, err2, err3)
		}
	}
}

// A role taken away in the policy denies the very next request, whatever
// the cache held, and a role given is honoured at once.
func TestPolicyChangeEmptiesCache(t *testing.T) {
	ctx := context.Background()
	a, e := newAuthorizer(t, "g, bob, admin\n")
	bob := principal("bob", "admin")
	for i := 0; i < 2; i++ {
		if ok, err := a.Authorize(ctx, bob, "reports", "delete"); !ok || err != nil {
			t.Fatalf("before: Authorize = %v, %v", ok, err)
		}
		if ok, err := a.HasAnyRole(ctx, bob, "admin"); !ok || err != nil {
			t.Fatalf("before: HasAnyRole = %v, %v", ok, err)
		}
	}
	if ok, err := e.DeleteRoleForUser("bob", "admin"); !ok || err != nil {
		t.Fatal(ok, err)
	}
	a.PolicyChanged()
	if ok, err := a.Authorize(ctx, bob, "reports", "delete"); ok || err != nil {
		t.Errorf("after removal: Authorize = %v, %v; want a denial", ok, err)
	}
	if ok, err := a.HasAnyRole(ctx, bob, "admin", "user"); ok || err != nil {
		t.Errorf("after removal: HasAnyRole = %v, %v; want false", ok, err)
	}
	if _, err := e.AddRoleForUser("bob", "user"); err != nil {
		t.Fatal(err)
	}
	a.PolicyChanged()
	if ok, err := a.Authorize(ctx, bob, "reports", "read"); !ok || err != nil {
		t.Errorf("after grant: Authorize = %v, %v; want allowed", ok, err)
	}
}

// Reload replaces the policy with the adapter's and forgets the decisions
// taken under the old one.
func TestReload(t *testing.T) {
	ctx := context.Background()
	e, err := rbac.NewEnforcer(rbac.ModelRBAC, rbac.PolicyFromString(rbac.DefaultPolicy))
	if err != nil {
		t.Fatal(err)
	}
	a, err := rbac.New(e)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.AddRoleForUser("dave", "admin"); err != nil { // in memory only: the string adapter does not save
		t.Fatal(err)
	}
	a.PolicyChanged()
	if ok, _ := a.Authorize(ctx, principal("dave"), "stats", "read"); !ok {
		t.Fatal("dave should be admin before the reload")
	}
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	if ok, err := a.Authorize(ctx, principal("dave"), "stats", "read"); ok || err != nil {
		t.Errorf("after Reload: Authorize = %v, %v; want the stored policy's denial", ok, err)
	}
}

// With domains, each tenant has its own roles; a request naming no tenant
// is denied.
func TestDomains(t *testing.T) {
	policy := `p, admin, t1, reports, delete
p, user, t1, reports, read
p, user, t2, reports, read
g, alice, admin, t1
g, alice, user, t2
g, admin, user, t1
`
	e, err := rbac.NewEnforcer(rbac.ModelDomains, rbac.PolicyFromString(policy))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rbac.New(e); err == nil || !strings.Contains(err.Error(), "request definition") {
		t.Fatalf("New over ModelDomains without WithDomain = %v, want a configuration error", err)
	}
	a, err := rbac.New(e, rbac.WithDomain(rbac.DomainFromContext))
	if err != nil {
		t.Fatal(err)
	}
	alice := principal("alice")
	in := func(d string) context.Context { return rbac.ContextWithDomain(context.Background(), d) }
	cases := []struct {
		ctx      context.Context
		obj, act string
		want     bool
	}{
		{in("t1"), "reports", "delete", true},
		{in("t1"), "reports", "read", true}, // admin inherits user in t1
		{in("t2"), "reports", "read", true},
		{in("t2"), "reports", "delete", false},
		{in("t3"), "reports", "read", false},
		{in(""), "reports", "read", false},
		{context.Background(), "reports", "read", false},
	}
	for _, c := range cases {
		if got, err := a.Authorize(c.ctx, alice, c.obj, c.act); err != nil || got != c.want {
			t.Errorf("Authorize(%v, %s, %s) = %v, %v; want %v", c.ctx.Value(nil), c.obj, c.act, got, err, c.want)
		}
	}
	for d, want := range map[string]bool{"t1": true, "t2": false, "t3": false} {
		if got, err := a.HasAnyRole(in(d), alice, "admin"); err != nil || got != want {
			t.Errorf("HasAnyRole(admin) in %s = %v, %v; want %v", d, got, err, want)
		}
	}
	if got, _ := a.HasAnyRole(context.Background(), alice, "admin"); got {
		t.Error("HasAnyRole with no domain = true, want false")
	}
}

// New refuses what would only fail at the first request.
func TestNewRefusesBadConfig(t *testing.T) {
	e, err := rbac.NewEnforcer(rbac.ModelRBAC, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string][]rbac.Option{
		"domain on ModelRBAC": {rbac.WithDomain(rbac.DomainFromContext)},
		"nil domain":          {rbac.WithDomain(nil)},
		"negative cache":      {rbac.WithCacheSize(-1)},
	} {
		if _, err := rbac.New(e, opts...); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	if _, err := rbac.New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
	if _, err := rbac.NewEnforcer("[request_definition]\nr = sub\n", nil); err == nil {
		t.Error("NewEnforcer with a broken model succeeded")
	}
}

// An enforcer that fails is an error, never a pass, and nothing is cached.
func TestEnforcerErrorIsError(t *testing.T) {
	broken := strings.Replace(rbac.ModelRBAC, "m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act", "m = keyMatch(r.obj)", 1)
	e, err := rbac.NewEnforcer(broken, rbac.PolicyFromString(rbac.DefaultPolicy))
	if err != nil {
		t.Fatal(err)
	}
	a, err := rbac.New(e)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if ok, err := a.Authorize(context.Background(), principal("user"), "reports", "read"); ok || err == nil {
			t.Fatalf("Authorize over a failing matcher = %v, %v; want false and an error", ok, err)
		}
	}
	// A role lookup that fails: a real enforcer behind a switch.
	_, good := newAuthorizer(t, "g, bob, user\n")
	f := &faultyEnforcer{Enforcer: good}
	a2, err := rbac.New(f)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := a2.HasAnyRole(context.Background(), principal("bob"), "user"); !ok || err != nil {
		t.Fatalf("HasAnyRole before the fault = %v, %v", ok, err)
	}
	f.fail.Store(true)
	a2.PolicyChanged()
	if ok, err := a2.HasAnyRole(context.Background(), principal("bob"), "user"); ok || err == nil {
		t.Errorf("HasAnyRole over a failing enforcer = %v, %v; want false and an error", ok, err)
	}
	if ok, err := a2.Authorize(context.Background(), principal("bob"), "reports", "read"); ok || err == nil {
		t.Errorf("Authorize over a failing enforcer = %v, %v; want false and an error", ok, err)
	}
}

// faultyEnforcer fails every call while fail is set.
type faultyEnforcer struct {
	rbac.Enforcer
	fail atomic.Bool
}

var errEnforcerDown = errors.New("enforcer down")

func (f *faultyEnforcer) Enforce(rvals ...any) (bool, error) {
	if f.fail.Load() {
		return false, errEnforcerDown
	}
	return f.Enforcer.Enforce(rvals...)
}

func (f *faultyEnforcer) GetImplicitRolesForUser(name string, domain ...string) ([]string, error) {
	if f.fail.Load() {
		return nil, errEnforcerDown
	}
	return f.Enforcer.GetImplicitRolesForUser(name, domain...)
}

// The cache stays within its bound however many subjects come by, and still
// answers right.
func TestCacheBounded(t *testing.T) {
	var lines strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&lines, "g, u%d, user\n", i)
	}
	a, _ := newAuthorizer(t, lines.String(), rbac.WithCacheSize(128))
	for round := 0; round < 2; round++ {
		for i := range 1000 {
			ok, err := a.Authorize(context.Background(), principal(fmt.Sprintf("u%d", i)), "reports", "read")
			if !ok || err != nil {
				t.Fatalf("u%d: %v, %v", i, ok, err)
			}
		}
	}
	if n := rbac.CacheLen(a); n > 128 || n == 0 {
		t.Errorf("cache holds %d decisions, want 1..128", n)
	}
}

// Many readers behind a barrier while the policy flips: once a change is
// complete, no reader that starts after it sees the old decision.
func TestConcurrentPolicyChanges(t *testing.T) {
	a, e := newAuthorizer(t, "g, bob, admin\n")
	var phase atomic.Int64 // even: stable; odd: a change is under way
	held := func(p int64) bool { return p%4 == 0 }
	const readers = 16
	var start, wg sync.WaitGroup
	start.Add(1)
	var stale, errs atomic.Int64
	stop := make(chan struct{})
	for r := 0; r < readers; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			start.Wait()
			p := principal("bob")
			other := principal(fmt.Sprintf("u%d", r))
			for {
				select {
				case <-stop:
					return
				default:
				}
				before := phase.Load()
				ok, err := a.Authorize(context.Background(), p, "reports", "delete")
				role, err2 := a.HasAnyRole(context.Background(), p, "admin")
				_, _ = a.Authorize(context.Background(), other, "reports", "read")
				if err != nil || err2 != nil {
					errs.Add(1)
				}
				if before%2 == 0 && phase.Load() == before && (ok != held(before) || role != held(before)) {
					stale.Add(1)
				}
			}
		}(r)
	}
	start.Done()
	for i := 0; i < 40; i++ {
		phase.Add(1)
		if i%2 == 0 {
			_, _ = e.DeleteRoleForUser("bob", "admin")
		} else {
			_, _ = e.AddRoleForUser("bob", "admin")
		}
		a.PolicyChanged()
		phase.Add(1)
	}
	close(stop)
	wg.Wait()
	if stale.Load() != 0 || errs.Load() != 0 {
		t.Fatalf("%d stale decisions, %d errors", stale.Load(), errs.Load())
	}
}
