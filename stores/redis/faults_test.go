package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/password"
	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/core/storetest"
	redisstore "github.com/authguard/authguard/stores/redis"
)

// throughProxy returns a client of the test server that connects through a
// fault proxy, honouring context deadlines as redisstore requires.
func throughProxy(t *testing.T, direct *redis.Client) (*redis.Client, *storetest.Proxy) {
	t.Helper()
	p := storetest.NewProxy(t, direct.Options().Addr)
	opt := *direct.Options()
	opt.Addr = p.Addr()
	opt.ContextTimeoutEnabled = true
	c := redis.NewClient(&opt)
	t.Cleanup(func() { _ = c.Close() })
	return c, p
}

// The test server behind a proxy that pauses, slows, cuts and drops
// answers: nobody is logged out, no session is lost or forked.
func TestFaults(t *testing.T) {
	direct := testClient(t)
	storetest.RunFaults(t, func(t *testing.T) (store.Store, *storetest.Proxy) {
		c, p := throughProxy(t, direct)
		return newStoreOn(t, direct, c), p
	})
}

// newStoreOn returns a store over c in a fresh prefix whose keys are deleted
// through direct (which no fault touches) when the test ends.
func newStoreOn(t *testing.T, direct, c *redis.Client) *redisstore.Store {
	t.Helper()
	st, err := redisstore.New(t.Context(), c, redisstore.WithPrefix(testPrefix(t, direct)))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// New warns when the client ignores context deadlines (a hung Redis would
// then hold each call for ReadTimeout, past the core's StoreTimeout), and
// only then; a cluster client and a ring are checked too.
func TestContextTimeoutWarning(t *testing.T) {
	c := testClient(t)
	const warning = "ContextTimeoutEnabled"
	for _, enabled := range []bool{false, true} {
		opt := *c.Options()
		opt.ContextTimeoutEnabled = enabled
		client := redis.NewClient(&opt)
		t.Cleanup(func() { _ = client.Close() })
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&buf, nil))
		if _, err := redisstore.New(t.Context(), client, redisstore.WithLogger(log), redisstore.WithPrefix(testPrefix(t, c))); err != nil {
			t.Fatal(err)
		}
		if warned := strings.Contains(buf.String(), warning); warned == enabled {
			t.Errorf("ContextTimeoutEnabled %v: log %q", enabled, buf.String())
		}
	}
	// A cluster client and a ring are inspected the same way (New fails on
	// them here, with nothing listening, after the check).
	for name, client := range map[string]redis.UniversalClient{
		"cluster": redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, DialTimeout: 100 * time.Millisecond}),
		"ring":    redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}, DialTimeout: 100 * time.Millisecond}),
	} {
		t.Cleanup(func() { _ = client.Close() })
		var buf bytes.Buffer
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		_, _ = redisstore.New(ctx, client, redisstore.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
		cancel()
		if !strings.Contains(buf.String(), warning) {
			t.Errorf("%s client without ContextTimeoutEnabled: no warning in %q", name, buf.String())
		}
	}
}

// pauseAt pauses a proxy right before the first command, once armed, with
// an argument containing match: "{feed}:n:" is the publish of a revocation
// after its write landed; "zrem" the withdrawal of an intent after a
// revoking write lost its compare-and-set.
type pauseAt struct {
	p     *storetest.Proxy
	match string
	armed atomic.Bool
	act   func() // what to do instead of pausing, when not nil
}

func (h *pauseAt) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *pauseAt) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h *pauseAt) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		for _, a := range cmd.Args() {
			if s, ok := a.(string); ok && strings.Contains(s, h.match) && h.armed.CompareAndSwap(true, false) {
				if h.act != nil {
					h.act()
				} else {
					h.p.Pause()
				}
			}
		}
		return next(ctx, cmd)
	}
}

// A logout whose write landed and whose publish to the feed hangs answers
// within the caller's deadline (the core's StoreTimeout), not after the
// store's own 5s publish timeout; once Redis answers again the revocation
// reaches the feed.
func TestRevocationPublishKeepsDeadline(t *testing.T) {
	direct := testClient(t)
	c, p := throughProxy(t, direct)
	hook := &pauseAt{p: p, match: "{feed}:n:"}
	c.AddHook(hook)
	st, err := redisstore.New(t.Context(), c, redisstore.WithPrefix(testPrefix(t, direct)), redisstore.WithSweepAfter(0))
	if err != nil {
		t.Fatal(err)
	}
	fx := authtest.New(t, authtest.Options{Store: st, Config: func(c *core.Config) {
		c.StoreTimeout = storetest.FaultStoreTimeout
	}})
	tr, err := fx.Service.Login(t.Context(), core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	hook.armed.Store(true)
	start := time.Now()
	err = fx.Service.Logout(t.Context(), core.LogoutInput{RefreshToken: tr.RefreshToken})
	took := time.Since(start)
	t.Logf("logout with a hung publish answered %v in %v", err, took.Round(time.Millisecond))
	if hook.armed.Load() {
		t.Fatal("the publish was never reached")
	}
	if took > storetest.FaultStoreTimeout+500*time.Millisecond {
		t.Errorf("logout took %v with the feed publish hung, over the store timeout %v", took, storetest.FaultStoreTimeout)
	}
	if err != nil {
		t.Errorf("logout whose write landed: %v, want success", err)
	}
	p.Heal()
	deadline := time.Now().Add(5 * time.Second)
	for {
		revs, err := st.Revocations(t.Context(), 0, 0)
		if err == nil && len(revs) == 1 && revs[0].SessionID == tr.SessionID {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the revocation never reached the feed: %v, %v", revs, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A revoking write that loses its compare-and-set withdraws its intent
// within the caller's deadline too, and answers store.ErrStale.
func TestStaleRevocationKeepsDeadline(t *testing.T) {
	direct := testClient(t)
	c, p := throughProxy(t, direct)
	hook := &pauseAt{p: p, match: "zrem"}
	c.AddHook(hook)
	st := newStoreOn(t, direct, c)
	fx := authtest.New(t, authtest.Options{Store: st})
	tr, err := fx.Service.Login(t.Context(), core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := st.Session(t.Context(), tr.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	next := cur
	stale := cur.Version + 7 // another writer moved the session on meanwhile
	next.RevokedAt, next.RevokeReason, next.Version = fx.Clock.Now(), "logout", stale+1
	hook.armed.Store(true)
	ctx, cancel := context.WithTimeout(t.Context(), storetest.FaultStoreTimeout)
	defer cancel()
	start := time.Now()
	err = st.UpdateSession(ctx, store.Update{Session: next, Version: stale, Revoked: true})
	took := time.Since(start)
	p.Heal()
	if hook.armed.Load() {
		t.Fatalf("the intent was never withdrawn (%v)", err)
	}
	if !errors.Is(err, store.ErrStale) || took > storetest.FaultStoreTimeout+500*time.Millisecond {
		t.Errorf("stale revocation with Redis hung after it: %v in %v, want ErrStale within %v", err, took, storetest.FaultStoreTimeout)
	}
}

// lostPublishCluster is instance A over a proxied client whose feed publish
// hangs once armed, and instance B over its own direct client, sharing one
// key prefix, one key set and the users; B has seen the session live.
func lostPublishCluster(t *testing.T, match string) (a, b *core.Service, p *storetest.Proxy, hook *pauseAt, tr *core.TokenResponse) {
	t.Helper()
	direct := testClient(t)
	c, p := throughProxy(t, direct)
	hook = &pauseAt{p: p, match: match}
	c.AddHook(hook)
	prefix := testPrefix(t, direct)
	stA, err := redisstore.New(t.Context(), c, redisstore.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	fx := authtest.New(t, authtest.Options{Store: stA, Config: func(c *core.Config) {
		c.StoreTimeout = storetest.FaultStoreTimeout
	}})
	stB, err := redisstore.New(t.Context(), testClient(t), redisstore.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	cfg := fx.Service.Config()
	cfg.Store, cfg.Throttle = stB, nil
	if cfg.Authenticator, err = password.NewAuthenticator(stB, password.Options{}); err != nil {
		t.Fatal(err)
	}
	if b, err = core.New(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	if tr, err = fx.Service.Login(t.Context(), core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(t.Context(), tr.AccessToken); err != nil {
		t.Fatalf("instance B refuses a live session: %v", err)
	}
	return fx.Service, b, p, hook, tr
}

// refusedAfterHeal waits until b refuses the access token and returns how
// long that took since healed; it fails t past one poll interval of a (the
// writer settles what it could not publish at its next feed read) and a
// half second for that read and b's.
func refusedAfterHeal(t *testing.T, a, b *core.Service, at string, healed time.Time) time.Duration {
	t.Helper()
	bound := a.Config().RevocationPollInterval + 500*time.Millisecond
	for {
		_, err := b.Authenticate(t.Context(), at)
		if errors.Is(err, core.ErrInvalidToken) {
			return time.Since(healed)
		}
		if err != nil {
			t.Fatalf("instance B: %v", err)
		}
		if time.Since(healed) > bound {
			t.Fatalf("instance B still accepts the revoked session %v after Redis answered again", time.Since(healed).Round(time.Millisecond))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A logout on A whose write landed while its publish to the feed failed is
// refused on B within A's poll interval of Redis answering A again: A
// publishes it at its next feed read, without waiting for the grace period
// (10s) after which any reader would settle it.
func TestLostPublishReachesOtherInstances(t *testing.T) {
	a, b, p, hook, tr := lostPublishCluster(t, "{feed}:n:")
	hook.act = p.Cut // the publish never reaches Redis (a paused one would, after Heal)
	hook.armed.Store(true)
	if err := a.Logout(t.Context(), core.LogoutInput{RefreshToken: tr.RefreshToken}); err != nil {
		t.Fatalf("logout whose write landed: %v", err)
	}
	if hook.armed.Load() {
		t.Fatal("the publish was never reached")
	}
	p.Heal()
	healed := time.Now()
	t.Logf("logout with a lost publish refused on B %v after Redis answered A again",
		refusedAfterHeal(t, a, b, tr.AccessToken, healed).Round(time.Millisecond))
}

// A logout on A whose revoking write landed but whose answer was lost is
// answered 503 (the client retries); once Redis answers again, B refuses
// the session within A's poll interval (A settles its own announcement at
// its next feed read), and the client's retry of the logout succeeds on A.
func TestLostWriteAnswerReachesOtherInstances(t *testing.T) {
	a, b, p, hook, tr := lostPublishCluster(t, "}:p")
	hook.act = p.DropResponses
	hook.armed.Store(true)
	err := a.Logout(t.Context(), core.LogoutInput{RefreshToken: tr.RefreshToken})
	if hook.armed.Load() {
		t.Fatal("the revoking write was never reached")
	}
	if !errors.Is(err, core.ErrUnavailable) {
		t.Fatalf("logout whose answer was lost: %v, want ErrUnavailable", err)
	}
	p.Heal()
	healed := time.Now()
	t.Logf("logout whose answer was lost refused on B %v after Redis answered A again",
		refusedAfterHeal(t, a, b, tr.AccessToken, healed).Round(time.Millisecond))
	if err := a.Logout(t.Context(), core.LogoutInput{RefreshToken: tr.RefreshToken}); err != nil {
		t.Fatalf("the client's retry of the logout: %v", err)
	}
	if _, err := a.Authenticate(t.Context(), tr.AccessToken); !errors.Is(err, core.ErrInvalidToken) {
		t.Fatalf("instance A after the retried logout: %v, want ErrInvalidToken", err)
	}
}

// A Redis slower than usual but within the store timeout (each round trip
// 0.2 of it, so that a call that must first open a connection, two round
// trips, still fits with room for a loaded machine) is not an outage: a
// refresh succeeds, a wrong password is still invalid_grant, a login
// succeeds or answers 503, never 400 or 401. Each call being bounded, not
// the request, a request takes up to its number of store calls times the
// timeout; the times are logged.
func TestSlowStoreWithinTimeout(t *testing.T) {
	direct := testClient(t)
	c, p := throughProxy(t, direct)
	st := newStoreOn(t, direct, c)
	const timeout = time.Second
	fx := authtest.New(t, authtest.Options{Store: st, Config: func(c *core.Config) { c.StoreTimeout = timeout }})
	tr, err := fx.Service.Login(t.Context(), core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	p.Slow(timeout / 10) // each way: a round trip costs 0.2 of the timeout
	timed := func(name string, calls int, f func() error) error {
		start := time.Now()
		err := f()
		took := time.Since(start)
		t.Logf("%s on a slow store: %v in %v", name, err, took.Round(time.Millisecond))
		if limit := time.Duration(calls)*timeout + 500*time.Millisecond; took > limit {
			t.Errorf("%s took %v, over %d store calls of %v", name, took, calls, timeout)
		}
		return err
	}
	err = timed("refresh", 3, func() error {
		next, err := fx.Service.Refresh(t.Context(), tr.RefreshToken, core.ClientInfo{})
		if err == nil {
			tr = next
		}
		return err
	})
	if err != nil {
		t.Errorf("refresh on a store within its timeout: %v", err)
	}
	err = timed("login with a wrong password", 6, func() error {
		_, err := fx.Service.Login(t.Context(), core.LoginInput{Email: authtest.UserEmail, Password: "wrong password"})
		return err
	})
	if !errors.Is(err, core.ErrInvalidGrant) {
		t.Errorf("wrong password on a store within its timeout: %v, want invalid_grant", err)
	}
	err = timed("login", 8, func() error {
		_, err := fx.Service.Login(t.Context(), core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
		return err
	})
	if err != nil && !errors.Is(err, core.ErrUnavailable) {
		t.Errorf("login on a store within its timeout: %v, want success or 503", err)
	}
	p.Heal()
	if _, err := fx.Service.Refresh(t.Context(), tr.RefreshToken, core.ClientInfo{}); err != nil {
		t.Errorf("refresh once the store is fast again: %v", err)
	}
}

// A backlog of revocations the store could not publish (a long outage) is
// settled a hundred per feed read, so the read itself stays within its
// deadline; announcements whose write never landed are fenced and leave
// nothing in the feed.
func TestUnsettledBacklogPerRead(t *testing.T) {
	st := newStore(t, testClient(t))
	const n = 250
	for i := range n {
		st.NoteUnsettled(fmt.Sprintf("%032x%s", i, "never-written"))
	}
	for _, want := range []int{150, 50, 0} {
		ctx, cancel := context.WithTimeout(t.Context(), storetest.FaultStoreTimeout)
		revs, err := st.Revocations(ctx, 0, 0)
		cancel()
		if err != nil || len(revs) != 0 {
			t.Fatalf("feed read with a backlog: %v, %v; want no entries", revs, err)
		}
		if got := st.Unsettled(); got != want {
			t.Fatalf("%d unsettled after a read, want %d", got, want)
		}
	}
}
