package rbac_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authguard/authguard/core/storetest"
	"github.com/authguard/authguard/rbac"
	sqlitestore "github.com/authguard/authguard/stores/sqlite"
	"github.com/casbin/casbin/v2"
	"github.com/jackc/pgx/v5/stdlib"
)

// backend is one stored policy that instances open connections to.
type backend struct {
	// open returns a new instance's adapter and push channel (nil: none),
	// connected through via when it is not nil.
	open func(t *testing.T, via *storetest.Proxy) (policyStore, rbac.PolicyNotifier)
	// addr is the server's host:port, for proxies ("" for SQLite).
	addr string
}

func sqliteBackend(t *testing.T) backend {
	path := filepath.Join(t.TempDir(), "authguard.db")
	st, err := sqlitestore.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return backend{open: func(t *testing.T, _ *storetest.Proxy) (policyStore, rbac.PolicyNotifier) {
		db, err := sql.Open("sqlite", path+"?_txlock=immediate&_busy_timeout=5000&_journal_mode=WAL")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		ad, err := rbac.NewSQLAdapter(db, rbac.SQLite, "")
		if err != nil {
			t.Fatal(err)
		}
		return ad, nil
	}}
}

func postgresBackend(t *testing.T) backend {
	raw, schema := postgresSchema(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return backend{addr: u.Host, open: func(t *testing.T, via *storetest.Proxy) (policyStore, rbac.PolicyNotifier) {
		u := *u
		if via != nil {
			u.Host = via.Addr()
		}
		pool := postgresPool(t, u.String())
		db := stdlib.OpenDBFromPool(pool)
		t.Cleanup(func() { _ = db.Close() })
		ad, err := rbac.NewSQLAdapter(db, rbac.PostgreSQL, schema+".casbin_rule")
		if err != nil {
			t.Fatal(err)
		}
		n, err := ad.Notifier(pool)
		if err != nil {
			t.Fatal(err)
		}
		return ad, n
	}}
}

func redisBackend(t *testing.T) backend {
	c := testRedis(t)
	prefix := redisPrefix(t, c)
	return backend{addr: c.Options().Addr, open: func(t *testing.T, via *storetest.Proxy) (policyStore, rbac.PolicyNotifier) {
		opt := *c.Options()
		if via != nil {
			opt.Addr = via.Addr()
		}
		opt.MaxRetries = -1 // a cut connection fails now, not after retries
		ad, err := rbac.NewRedisAdapter(redisClient(t, &opt), prefix)
		if err != nil {
			t.Fatal(err)
		}
		return ad, ad
	}}
}

// seedPolicy is the policy every backend starts with: alice is an admin,
// bob a user.
const seedPolicy = rbac.DefaultPolicy + "g, alice, admin\ng, bob, user\n"

// seed stores seedPolicy through ad.
func seed(t *testing.T, ad policyStore) {
	t.Helper()
	e, err := rbac.NewEnforcer(rbac.ModelRBAC, rbac.PolicyFromString(seedPolicy))
	if err != nil {
		t.Fatal(err)
	}
	if err := ad.SavePolicy(e.GetModel()); err != nil {
		t.Fatal(err)
	}
}

// instance is one server: an enforcer over its own adapter, its Authorizer
// and the Watcher that keeps it in step.
type instance struct {
	e *casbin.SyncedEnforcer
	a *rbac.Authorizer
	w *rbac.Watcher
}

// newInstance makes an instance over ad, listening to push (when not nil).
func newInstance(t *testing.T, ad policyStore, push rbac.PolicyNotifier, opts ...rbac.WatchOption) *instance {
	t.Helper()
	if push != nil {
		opts = append([]rbac.WatchOption{rbac.WithNotifier(push)}, opts...)
	}
	e, err := rbac.NewEnforcer(rbac.ModelRBAC, ad)
	if err != nil {
		t.Fatal(err)
	}
	a, err := rbac.New(e)
	if err != nil {
		t.Fatal(err)
	}
	w, err := rbac.Watch(a, ad, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return &instance{e: e, a: a, w: w}
}

// allows asks i whether sub may act on obj; an error is a test failure.
func (i *instance) allows(t *testing.T, sub, obj, act string) bool {
	t.Helper()
	ok, err := i.a.Authorize(context.Background(), principal(sub), obj, act)
	if err != nil {
		t.Fatalf("Authorize(%s, %s, %s): %v", sub, obj, act, err)
	}
	return ok
}

// revokeAdmin takes alice's admin role on a, which denies her delete on a at
// once, and returns how long b took to deny it too (failing t past limit).
func revokeAdmin(t *testing.T, a, b *instance, limit time.Duration) time.Duration {
	t.Helper()
	if !b.allows(t, "alice", "reports", "delete") || !a.allows(t, "alice", "reports", "delete") {
		t.Fatal("alice is not an admin before the change")
	}
	start := time.Now()
	if _, err := a.e.DeleteRoleForUser("alice", "admin"); err != nil {
		t.Fatal(err)
	}
	a.a.PolicyChanged()
	if a.allows(t, "alice", "reports", "delete") {
		t.Fatal("the instance that removed the role still allows")
	}
	for b.allows(t, "alice", "reports", "delete") {
		if time.Since(start) > limit {
			t.Fatalf("the other instance still allows %v after the change", limit)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Since(start)
}

// longPoll makes the push channel the only way a change arrives quickly.
var longPoll = []rbac.WatchOption{rbac.WithPollInterval(time.Minute), rbac.WithMaxStaleness(2 * time.Minute)}

func TestWatchSQLite(t *testing.T) {
	be := sqliteBackend(t)
	ad, _ := be.open(t, nil)
	seed(t, ad)
	a := newInstance(t, ad, nil)
	b := newInstanceOn(t, be, nil)
	d := revokeAdmin(t, a, b, time.Second)
	t.Logf("SQLite, polling every %v: the other instance denies after %v", rbac.DefaultPollInterval, d)
}

func TestWatchPostgres(t *testing.T) { testWatch(t, postgresBackend(t)) }
func TestWatchRedis(t *testing.T)    { testWatch(t, redisBackend(t)) }

// newInstanceOn makes an instance with its own connections to be, through
// via when it is not nil.
func newInstanceOn(t *testing.T, be backend, via *storetest.Proxy, opts ...rbac.WatchOption) *instance {
	ad, push := be.open(t, via)
	return newInstance(t, ad, push, opts...)
}

// testWatch measures how soon a change on one instance reaches another:
// by the push channel, by polling when the push channel is cut, and after
// the other instance's connections come back.
func testWatch(t *testing.T, be backend) {
	t.Run("push", func(t *testing.T) {
		ad, push := be.open(t, nil)
		seed(t, ad)
		a := newInstance(t, ad, push, longPoll...)
		b := newInstanceOn(t, be, nil, longPoll...)
		time.Sleep(50 * time.Millisecond) // b subscribes
		d := revokeAdmin(t, a, b, time.Second)
		t.Logf("push channel (polling every minute): the other instance denies after %v", d)
	})
	t.Run("poll when the push channel is cut", func(t *testing.T) {
		ad, push := be.open(t, nil)
		seed(t, ad)
		a := newInstance(t, ad, push)
		proxy := storetest.NewProxy(t, be.addr)
		_, cutPush := be.open(t, proxy) // b's push channel goes through proxy
		proxy.Cut()
		bAd, _ := be.open(t, nil)
		b := newInstance(t, bAd, cutPush)
		d := revokeAdmin(t, a, b, time.Second)
		t.Logf("push channel cut, polling every %v: the other instance denies after %v", rbac.DefaultPollInterval, d)
	})
	t.Run("catch up after reconnecting", func(t *testing.T) {
		ad, push := be.open(t, nil)
		seed(t, ad)
		a := newInstance(t, ad, push, longPoll...)
		proxy := storetest.NewProxy(t, be.addr)
		b := newInstanceOn(t, be, proxy, longPoll...) // all of b goes through proxy
		time.Sleep(50 * time.Millisecond)
		if !b.allows(t, "alice", "reports", "delete") {
			t.Fatal("alice is not an admin before the change")
		}
		proxy.Cut()
		if _, err := a.e.DeleteRoleForUser("alice", "admin"); err != nil {
			t.Fatal(err)
		}
		a.a.PolicyChanged()
		time.Sleep(300 * time.Millisecond)
		if !b.allows(t, "alice", "reports", "delete") {
			t.Fatal("the cut-off instance heard of the change (is it really cut off?)")
		}
		start := time.Now()
		proxy.Heal()
		for b.allows(t, "alice", "reports", "delete") {
			if time.Since(start) > time.Second {
				t.Fatal("the change made while the push channel was down is not read within 1s of its return")
			}
			time.Sleep(time.Millisecond)
		}
		t.Logf("change made while cut off: denied %v after the connections came back", time.Since(start))
	})
}

func TestWatchStalePostgres(t *testing.T) { testWatchStale(t, postgresBackend(t), false) }
func TestWatchStaleRedis(t *testing.T)    { testWatchStale(t, redisBackend(t), true) }

// testWatchStale cuts an instance off from the stored policy (hang: the
// server stops answering; else its connections are refused): after the
// maximal staleness every decision is ErrPolicyStale, never a stale allow;
// decisions come back with the connection, Close is prompt even while the
// server hangs, and no goroutine outlives it.
func testWatchStale(t *testing.T, be backend, hang bool) {
	ad, _ := be.open(t, nil)
	seed(t, ad)
	proxy := storetest.NewProxy(t, be.addr)
	bAd, push := be.open(t, proxy)
	b := newInstance(t, bAd, push, rbac.WithPollInterval(50*time.Millisecond), rbac.WithMaxStaleness(300*time.Millisecond))
	time.Sleep(50 * time.Millisecond)
	if !b.allows(t, "alice", "reports", "delete") {
		t.Fatal("alice is not an admin")
	}
	ctx := context.Background()
	if hang {
		proxy.Pause()
	} else {
		proxy.Cut()
	}
	start := time.Now()
	for {
		_, err := b.a.Authorize(ctx, principal("alice"), "reports", "delete")
		if errors.Is(err, rbac.ErrPolicyStale) {
			break
		}
		if err != nil || time.Since(start) > time.Second {
			t.Fatalf("cut off for %v: %v", time.Since(start), err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("cut off (hung: %v): decisions fail after %v (maximal staleness 300ms)", hang, time.Since(start))
	if _, err := b.a.HasAnyRole(ctx, principal("alice"), "admin"); !errors.Is(err, rbac.ErrPolicyStale) {
		t.Errorf("HasAnyRole while stale: %v", err)
	}
	proxy.Heal()
	start = time.Now()
	for {
		ok, err := b.a.Authorize(ctx, principal("alice"), "reports", "delete")
		if err == nil && ok {
			break
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("still failing %v after the connection came back: %v", time.Since(start), err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("decisions again %v after the connection came back", time.Since(start))

	// Close while the server hangs: prompt, and every goroutine ends.
	c := newInstanceOn(t, be, proxy, rbac.WithPollInterval(20*time.Millisecond))
	time.Sleep(50 * time.Millisecond)
	proxy.Pause()
	time.Sleep(100 * time.Millisecond)
	start = time.Now()
	_ = c.w.Close()
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v while the server hangs", d)
	}
	proxy.Heal()
	_ = b.w.Close()
	deadline := time.Now().Add(3 * time.Second)
	for watching() != "" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := watching(); g != "" {
		t.Errorf("a goroutine of a closed Watcher is still running:\n%s", g)
	}
	if ok, err := b.a.Authorize(ctx, principal("alice"), "reports", "delete"); err != nil || !ok {
		t.Errorf("after Close the Authorizer decides with its policy: %v, %v", ok, err)
	}
}

func TestWatchConcurrentSQLite(t *testing.T)   { testWatchConcurrent(t, sqliteBackend(t)) }
func TestWatchConcurrentPostgres(t *testing.T) { testWatchConcurrent(t, postgresBackend(t)) }
func TestWatchConcurrentRedis(t *testing.T)    { testWatchConcurrent(t, redisBackend(t)) }

// testWatchConcurrent changes the policy from two instances at once, while
// both decide: at the end both enforce the stored policy.
func testWatchConcurrent(t *testing.T, be backend) {
	ad, push := be.open(t, nil)
	seed(t, ad)
	insts := []*instance{newInstance(t, ad, push), newInstanceOn(t, be, nil)}
	const workers, changes = 8, 10
	var ready, wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, workers*changes*2)
	ready.Add(workers)
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := insts[g%2]
			ready.Done()
			<-start
			for i := range changes {
				user := fmt.Sprintf("u%d", i%4) // workers collide on users
				var err error
				switch (g + i) % 3 {
				case 0:
					_, err = in.e.AddRoleForUser(user, "admin")
				case 1:
					_, err = in.e.DeleteRoleForUser(user, "admin")
				default:
					_, err = in.e.AddRoleForUser(user, "user")
				}
				in.a.PolicyChanged()
				if err != nil {
					errs <- err
				}
				if _, err := in.a.Authorize(context.Background(), principal(user), "reports", "read"); err != nil {
					errs <- err
				}
			}
		}()
	}
	ready.Wait()
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	want, err := ad.PolicyVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for _, in := range insts {
		for v, _ := in.w.Version(); v != want; v, _ = in.w.Version() {
			if time.Now().After(deadline) {
				t.Fatalf("an instance is at version %d, the store at %d, a second later", v, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	stored := newInstanceOn(t, be, nil)
	wantP, _ := stored.e.GetGroupingPolicy()
	sortRules(wantP)
	for i, in := range insts {
		got, _ := in.e.GetGroupingPolicy()
		sortRules(got)
		if !slices.EqualFunc(got, wantP, slices.Equal) {
			t.Errorf("instance %d enforces roles %v, the store holds %v", i, got, wantP)
		}
		for u := range 4 {
			user := fmt.Sprintf("u%d", u)
			if w, g := stored.allows(t, user, "reports", "delete"), in.allows(t, user, "reports", "delete"); w != g {
				t.Errorf("instance %d: %s may delete = %v, the stored policy says %v", i, user, g, w)
			}
		}
	}
}

// watching returns the stack of a goroutine that a Watcher started, "" when
// none runs.
func watching() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, f := range []string{"rbac.(*Watcher)", "pgstore.listen", "pgstore.WatchChannel", "redisstore.watch", "redisstore.listen", "redisstore.WatchChannel"} {
			if strings.Contains(g, f) {
				return g
			}
		}
	}
	return ""
}

func sortRules(rs [][]string) { slices.SortFunc(rs, slices.Compare) }

// Options are checked; an Authorizer has one Watcher at a time; Close is
// idempotent.
func TestWatchOptions(t *testing.T) {
	be := sqliteBackend(t)
	ad, _ := be.open(t, nil)
	seed(t, ad)
	e, err := rbac.NewEnforcer(rbac.ModelRBAC, ad)
	if err != nil {
		t.Fatal(err)
	}
	a, err := rbac.New(e)
	if err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string][]rbac.WatchOption{
		"poll under 10ms":        {rbac.WithPollInterval(time.Millisecond)},
		"staleness 0":            {rbac.WithMaxStaleness(0)},
		"staleness under a poll": {rbac.WithPollInterval(time.Second), rbac.WithMaxStaleness(500 * time.Millisecond)},
		"nil logger":             {rbac.WithWatchLogger(nil)},
	} {
		if w, err := rbac.Watch(a, ad, opts...); err == nil {
			_ = w.Close()
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := rbac.Watch(nil, ad); err == nil {
		t.Error("nil Authorizer accepted")
	}
	w, err := rbac.Watch(a, ad)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := w.Version(); !ok || v != 1 {
		t.Errorf("version after Watch: %d, %v; want 1 (the seed)", v, ok)
	}
	if _, err := rbac.Watch(a, ad); err == nil {
		t.Error("a second Watcher was accepted")
	}
	if err := w.Close(); err != nil || w.Close() != nil {
		t.Error("Close is not idempotent")
	}
	w2, err := rbac.Watch(a, ad, rbac.UnsafeServeStalePolicy())
	if err != nil {
		t.Fatalf("a new Watcher after Close: %v", err)
	}
	_ = w2.Close()
}
