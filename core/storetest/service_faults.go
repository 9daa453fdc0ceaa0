package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/store"
)

var errInjected = errors.New("storetest: injected outage")

// Fault modes of faultStore.UpdateSession.
const (
	writeOK    int32 = iota
	failBefore       // the write is refused: nothing is written
	failAfter        // the write lands, then the answer is lost
)

// faultStore injects failures into a real store's sessions: a refused write,
// or a write that lands after which the store drops (reads and writes fail
// until heal), so its answer is lost. hook, when set, picks the mode of each
// write.
type faultStore struct {
	store.Store
	mode     atomic.Int32
	readDown atomic.Bool
	mu       sync.Mutex
	hook     func(u store.Update) int32
}

func (s *faultStore) UpdateSession(ctx context.Context, u store.Update) error {
	m := s.mode.Load()
	s.mu.Lock()
	if s.hook != nil {
		m = s.hook(u)
	}
	s.mu.Unlock()
	if s.readDown.Load() {
		return errInjected
	}
	switch m {
	case failBefore:
		return errInjected
	case failAfter:
		if err := s.Store.UpdateSession(ctx, u); err != nil {
			return err
		}
		s.readDown.Store(true)
		return errInjected
	}
	return s.Store.UpdateSession(ctx, u)
}

func (s *faultStore) Session(ctx context.Context, id string) (store.Session, error) {
	if s.readDown.Load() {
		return store.Session{}, errInjected
	}
	return s.Store.Session(ctx, id)
}

// heal ends every injected fault.
func (s *faultStore) heal() {
	s.mode.Store(writeOK)
	s.readDown.Store(false)
}

// faultAuth is an Authenticator whose Lookup can be made to fail.
type faultAuth struct {
	core.Authenticator
	down atomic.Bool
}

func (a *faultAuth) Lookup(ctx context.Context, subject string) (core.Identity, error) {
	if a.down.Load() {
		return core.Identity{}, core.ErrUnavailable
	}
	return a.Authenticator.Lookup(ctx, subject)
}

// faultFixture is a fixture whose store writes and user lookups can fail.
// edit, if not nil, runs after the fault wrappers are installed.
func faultFixture(t *testing.T, newStore func(t *testing.T) store.Store, edit func(*core.Config)) (*fixture, *faultStore, *faultAuth) {
	fs, fa := &faultStore{}, &faultAuth{}
	f := newFixture(t, newStore, func(c *core.Config) {
		fs.Store = c.Store.(store.Store)
		fa.Authenticator = c.Authenticator
		c.Store, c.Authenticator = fs, fa
		if edit != nil {
			edit(c)
		}
	})
	return f, fs, fa
}

// retryLater presents tok again an hour after an outage (long past the grace
// window, well within the idle deadline): it must succeed and continue one
// lineage, whose next token rotates and whose session is not revoked.
func retryLater(f *fixture, tok string, wantGen int64) {
	f.t.Helper()
	f.Clock.Advance(time.Hour)
	next := f.mustRefresh(tok)
	if !f.alive(next.AccessToken) {
		f.t.Fatal("the access token of the retried refresh is refused")
	}
	last := f.mustRefresh(next.RefreshToken)
	s := f.session(last)
	if !s.RevokedAt.IsZero() || s.Generation != wantGen {
		f.t.Fatalf("after the retry: revoked %v, generation %d; want a live session at generation %d", s.RevokedAt, s.Generation, wantGen)
	}
}

// The user store is down at refresh: 503, nothing committed, and the same
// token works after the outage, at any time within the idle deadline.
func testFaultLookup(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, _, fa := faultFixture(t, newStore, nil)
	tr := f.login()
	fa.down.Store(true)
	for range 12 { // more than the grace replays: none is spent
		_, err := f.refresh(tr.RefreshToken)
		f.wantUnavailable(err)
	}
	if s := f.session(tr); s.Generation != 0 || s.Version != 1 {
		t.Fatalf("a refresh answered 503 wrote the session: generation %d, version %d", s.Generation, s.Version)
	}
	fa.down.Store(false)
	retryLater(f, tr.RefreshToken, 2)
}

// The session store refuses the write: 503, and the same token works later.
func testFaultBeforeWrite(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, fs, _ := faultFixture(t, newStore, nil)
	tr := f.login()
	fs.mode.Store(failBefore)
	_, err := f.refresh(tr.RefreshToken)
	f.wantUnavailable(err)
	fs.heal()
	retryLater(f, tr.RefreshToken, 2)
}

// The write lands but its answer is lost: 503, and the same token, presented
// again long after the grace window, still succeeds (it gets the successor
// that was committed) and the lineage goes on. Once the store answers again
// the rotation is recorded as open for retry, so another instance honours the
// retry too.
func testFaultAfterWrite(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, fs, _ := faultFixture(t, newStore, nil)
	tr := f.login()
	fs.mode.Store(failAfter)
	_, err := f.refresh(tr.RefreshToken)
	f.wantUnavailable(err)
	fs.heal()
	if s := f.session(tr); s.Generation != 1 {
		t.Fatalf("generation %d: the injected fault did not let the write land", s.Generation)
	}
	// The poller records the open retry in the store.
	deadline := time.Now().Add(3 * time.Second)
	for !f.session(tr).RetryOpen {
		if time.Now().After(deadline) {
			t.Fatal("the possibly lost rotation was not recorded as open for retry")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Another instance over the same store honours the retry.
	b, err := core.New(withSharedKeys(f.Fixture, fs.Store))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	f.Clock.Advance(time.Hour)
	viaB, err := b.Refresh(context.Background(), tr.RefreshToken, core.ClientInfo{})
	if err != nil {
		t.Fatalf("retry on another instance after the outage: %v", err)
	}
	again := f.mustRefresh(tr.RefreshToken) // the retry on the first instance
	if again.RefreshToken != viaB.RefreshToken {
		t.Fatal("two retries of one lost rotation got different successors")
	}
	last := f.mustRefresh(again.RefreshToken)
	if s := f.session(last); !s.RevokedAt.IsZero() || s.Generation != 2 || s.RetryOpen {
		t.Fatalf("after the retries: revoked %v, generation %d, retry open %v", s.RevokedAt, s.Generation, s.RetryOpen)
	}
	// The lost rotation's predecessor is now an old token: reuse.
	_, err = f.refresh(tr.RefreshToken)
	f.wantGrant(err, "reuse_detected")
}

// A closed store answers 503 to refresh and logout, never a logout.
func testStoreDown(t *testing.T, newStore func(t *testing.T) store.Store) {
	st := newStore(t)
	f := &fixture{Fixture: authtest.New(t, authtest.Options{Store: st}), t: t}
	tr := f.login()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := f.refresh(tr.RefreshToken)
	f.wantUnavailable(err)
	err = f.Service.Logout(context.Background(), core.LogoutInput{RefreshToken: tr.RefreshToken})
	f.wantUnavailable(err)
}

// 100 goroutines behind a barrier present one token: exactly one successor
// lineage; every caller gets that successor or is refused.
func testConcurrentRefresh(t *testing.T, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore, nil)
	tr := f.login()
	const n = 100
	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make([]*core.TokenResponse, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			results[i], errs[i] = f.refresh(tr.RefreshToken)
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
			t.Fatalf("goroutine %d: %v", i, errs[i])
		}
	}
	if len(successors) != 1 {
		t.Fatalf("%d successor lineages, want exactly 1", len(successors))
	}
	for succ, count := range successors {
		if count != 1+10 { // one rotation plus the bounded grace replays
			t.Fatalf("%d successes, want 11", count)
		}
		f.mustRefresh(succ) // the session is alive and the successor rotates
	}
}
