package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/password"
	"github.com/authguard/authguard/core/store"
)

// Backend prepares one fresh, isolated backend (a file, a key prefix, a
// schema) for t and returns a constructor of store values over it. Every call
// of the constructor must return a NEW store value with its own connection,
// client or pool, as a separate process would hold, and register its closing
// with t.
type Backend func(t *testing.T) (newStore func() store.Store)

// RunInstances runs the guarantees that hold across several core.Service
// instances sharing one backend, each instance over its own store value:
// concurrent refreshes of one token split across instances end with one
// lineage; logout, revoke-others and revoke-all-of-a-subject on one instance
// are refused on the others within one second (the latencies are logged);
// reuse detected on one instance revokes the session another issued; and the
// login throttle counts failures across instances.
func RunInstances(t *testing.T, open Backend) {
	t.Helper()
	for _, tc := range instanceCases {
		t.Run("instances/"+tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

var instanceCases = []struct {
	name string
	fn   func(t *testing.T, open Backend)
}{
	{"concurrent_refresh_one_lineage", testInstancesRefresh},
	{"logout_refused_everywhere_within_1s", testInstancesLogout},
	{"revoke_others_refused_everywhere_within_1s", testInstancesRevokeOthers},
	{"revoke_subject_refused_everywhere_within_1s", testInstancesRevokeSubject},
	{"reuse_on_one_revokes_what_another_issued", testInstancesReuse},
	{"login_throttle_counts_across_instances", testInstancesThrottle},
}

// propagationBound is how soon a revocation on one instance must be refused
// on every other.
const propagationBound = time.Second

// cluster is several services over one backend, sharing one key set, one
// clock and the fixture's users, each with its own store value.
type cluster struct {
	*authtest.Fixture
	t    *testing.T
	svcs []*core.Service
}

// newCluster builds n instances over a fresh backend; edit, when not nil,
// changes the configuration of every instance.
func newCluster(t *testing.T, open Backend, n int, edit func(*core.Config)) *cluster {
	t.Helper()
	newStore := open(t)
	f := authtest.New(t, authtest.Options{Store: newStore(), Config: edit})
	c := &cluster{Fixture: f, t: t, svcs: []*core.Service{f.Service}}
	for range n - 1 {
		st := newStore()
		auth, err := password.NewAuthenticator(st, password.Options{})
		if err != nil {
			t.Fatal(err)
		}
		cfg := withSharedKeys(f, st)
		cfg.Authenticator = auth
		svc, err := core.New(cfg)
		if err != nil {
			t.Fatalf("instance %d: %v", len(c.svcs), err)
		}
		t.Cleanup(func() { _ = svc.Close() })
		c.svcs = append(c.svcs, svc)
	}
	return c
}

func (c *cluster) login(i int) *core.TokenResponse {
	c.t.Helper()
	tr, err := c.svcs[i].Login(context.Background(), core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password,
		DeviceName: fmt.Sprint("device-", i), Client: core.ClientInfo{IP: "192.0.2.7", UserAgent: "storetest"}})
	if err != nil {
		c.t.Fatalf("login on instance %d: %v", i, err)
	}
	return tr
}

// alive reports whether instance i's guard accepts the access token.
func (c *cluster) alive(i int, at string) bool {
	c.t.Helper()
	_, err := c.svcs[i].Authenticate(context.Background(), at)
	if err != nil && !errors.Is(err, core.ErrInvalidToken) {
		c.t.Fatalf("authenticate on instance %d: unexpected %v", i, err)
	}
	return err == nil
}

// seeEverywhere makes every instance accept each token once, so that what is
// measured afterwards is the revocation reaching an instance that holds the
// session as live, not a first-sight store read.
func (c *cluster) seeEverywhere(tokens ...string) {
	c.t.Helper()
	for i := range c.svcs {
		for _, at := range tokens {
			if !c.alive(i, at) {
				c.t.Fatalf("instance %d refuses a live session's access token", i)
			}
		}
	}
}

// refusedWithin waits until instance i refuses the access token and returns
// how long that took since start; it fails t past propagationBound.
func (c *cluster) refusedWithin(i int, at string, start time.Time, what string) time.Duration {
	c.t.Helper()
	for c.alive(i, at) {
		if time.Since(start) > propagationBound {
			c.t.Fatalf("%s: instance %d still accepts the revoked session after %s", what, i, propagationBound)
		}
		time.Sleep(time.Millisecond)
	}
	d := time.Since(start)
	c.t.Logf("%s: instance %d refused the access token %s after the revocation", what, i, d.Round(time.Millisecond))
	return d
}

// testInstancesRefresh: 100 refreshes of one token at once, spread over
// three instances behind a barrier. The rules of lineage.go hold across
// instances: one rotation, the bounded grace replays (counted in the store,
// not per instance) answer the same successor, every other request is
// refused without revoking anything, and the successor rotates on any
// instance.
func testInstancesRefresh(t *testing.T, open Backend) {
	c := newCluster(t, open, 3, nil)
	tr := c.login(0)
	const n = 100
	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make([]*core.TokenResponse, n)
	errs := make([]error, n)
	for i := range n {
		svc := c.svcs[i%len(c.svcs)]
		wg.Go(func() {
			<-start
			results[i], errs[i] = svc.Refresh(context.Background(), tr.RefreshToken, core.ClientInfo{IP: "192.0.2.7"})
		})
	}
	close(start)
	wg.Wait()
	successors := map[string]int{}
	for i := range results {
		switch {
		case errs[i] == nil:
			successors[results[i].RefreshToken]++
		case errors.Is(errs[i], core.ErrInvalidGrant) && core.ReasonOf(errs[i]) == "grace_replays_exhausted":
		default:
			t.Fatalf("refresh %d on instance %d: %v", i, i%len(c.svcs), errs[i])
		}
	}
	if len(successors) != 1 {
		t.Fatalf("%d successor lineages, want exactly 1", len(successors))
	}
	want := 1 + c.Service.Config().RefreshGraceReplays
	var succ string
	for s, count := range successors {
		succ = s
		if count != want {
			t.Fatalf("%d successes, want %d (one rotation plus the bounded grace replays)", count, want)
		}
	}
	ctx := context.Background()
	list, err := c.Store.ListSessions(ctx, c.UserID, c.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != tr.SessionID || !list[0].RevokedAt.IsZero() || list[0].Generation != 1 {
		t.Fatalf("store holds %+v, want the one session, live, at generation 1", list)
	}
	next, err := c.svcs[1].Refresh(ctx, succ, core.ClientInfo{IP: "192.0.2.7"})
	if err != nil {
		t.Fatalf("the successor does not rotate on another instance: %v", err)
	}
	c.seeEverywhere(tr.AccessToken, next.AccessToken)
}

// testInstancesLogout: a logout on one instance is refused by the guards of
// the others within a second, though they had seen the session live.
func testInstancesLogout(t *testing.T, open Backend) {
	c := newCluster(t, open, 3, nil)
	tr := c.login(0)
	c.seeEverywhere(tr.AccessToken)
	start := time.Now()
	if err := c.svcs[0].Logout(context.Background(), core.LogoutInput{RefreshToken: tr.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	if c.alive(0, tr.AccessToken) {
		t.Fatal("the instance that logged out still accepts the session")
	}
	for i := 1; i < len(c.svcs); i++ {
		c.refusedWithin(i, tr.AccessToken, start, "logout")
	}
}

// testInstancesRevokeOthers: revoke-others on one instance ends the other
// sessions on every instance within a second and keeps the caller's.
func testInstancesRevokeOthers(t *testing.T, open Backend) {
	c := newCluster(t, open, 3, nil)
	keep, other1, other2 := c.login(0), c.login(1), c.login(2)
	c.seeEverywhere(keep.AccessToken, other1.AccessToken, other2.AccessToken)
	p, err := c.svcs[0].Authenticate(context.Background(), keep.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	n, err := c.svcs[0].RevokeOtherSessions(context.Background(), p, core.ClientInfo{})
	if err != nil || n != 2 {
		t.Fatalf("RevokeOtherSessions = %d, %v; want 2", n, err)
	}
	for i := 1; i < len(c.svcs); i++ {
		c.refusedWithin(i, other1.AccessToken, start, "revoke-others")
		c.refusedWithin(i, other2.AccessToken, start, "revoke-others")
	}
	for i := range c.svcs {
		if !c.alive(i, keep.AccessToken) {
			t.Fatalf("instance %d refuses the session that revoked the others", i)
		}
	}
}

// testInstancesRevokeSubject: revoking every session of a subject on one
// instance is refused on every other within a second.
func testInstancesRevokeSubject(t *testing.T, open Backend) {
	c := newCluster(t, open, 3, nil)
	a, b := c.login(0), c.login(2)
	c.seeEverywhere(a.AccessToken, b.AccessToken)
	start := time.Now()
	if n, err := c.svcs[1].RevokeSubject(context.Background(), c.UserID); err != nil || n != 2 {
		t.Fatalf("RevokeSubject = %d, %v; want 2", n, err)
	}
	for _, i := range []int{0, 2} {
		c.refusedWithin(i, a.AccessToken, start, "revoke-subject")
		c.refusedWithin(i, b.AccessToken, start, "revoke-subject")
	}
}

// testInstancesReuse: a token rotated on A and presented again on B after
// the grace window is reuse; B revokes the session, and A refuses both the
// access token it issued (within a second) and its current refresh token.
func testInstancesReuse(t *testing.T, open Backend) {
	c := newCluster(t, open, 2, nil)
	ctx := context.Background()
	tr0 := c.login(0)
	tr1, err := c.svcs[0].Refresh(ctx, tr0.RefreshToken, core.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}
	c.seeEverywhere(tr1.AccessToken)
	c.Clock.Advance(c.Service.Config().RefreshGrace + time.Second)
	start := time.Now()
	_, err = c.svcs[1].Refresh(ctx, tr0.RefreshToken, core.ClientInfo{})
	if !errors.Is(err, core.ErrInvalidGrant) || core.ReasonOf(err) != "reuse_detected" {
		t.Fatalf("old generation on instance B: %v, want invalid_grant (reuse_detected)", err)
	}
	c.refusedWithin(0, tr1.AccessToken, start, "reuse")
	if _, err := c.svcs[0].Refresh(ctx, tr1.RefreshToken, core.ClientInfo{}); !errors.Is(err, core.ErrInvalidGrant) {
		t.Fatalf("A's current refresh token after reuse on B: %v, want invalid_grant", err)
	}
	if s, err := c.Store.Session(ctx, tr0.SessionID); err != nil || s.RevokedAt.IsZero() {
		t.Fatalf("session after reuse: %+v, %v; want revoked", s, err)
	}
}

// testInstancesThrottle: failed logins spread over three instances reach the
// account limit at the configured total, and from then on every instance
// refuses, the right password included.
func testInstancesThrottle(t *testing.T, open Backend) {
	const limit = 4
	c := newCluster(t, open, 3, func(cfg *core.Config) { cfg.LoginThrottle.AccountLimit = limit })
	ctx := context.Background()
	try := func(i int, pw string) error {
		_, err := c.svcs[i].Login(ctx, core.LoginInput{Email: authtest.UserEmail, Password: pw,
			Client: core.ClientInfo{IP: "192.0.2.7"}})
		return err
	}
	for k := range limit {
		if err := try(k%len(c.svcs), "wrong password"); !errors.Is(err, core.ErrInvalidGrant) {
			t.Fatalf("failed login %d on instance %d: %v, want invalid_grant", k+1, k%len(c.svcs), err)
		}
	}
	for i := range c.svcs {
		if err := try(i, authtest.Password); !errors.Is(err, core.ErrTooManyRequests) {
			t.Fatalf("instance %d after %d failures spread over %d instances: %v, want too many requests",
				i, limit, len(c.svcs), err)
		}
	}
}
