package core_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/memstore"
	"github.com/authguard/authguard/core/store"
)

// pausingStore lets a test hold one session read after it has read the
// store (the read saw the session live) and before its answer returns.
type pausingStore struct {
	store.Store
	mu      sync.Mutex
	pauseID string
	read    chan struct{} // closed once the paused read has read
	release chan struct{} // closed by the test to let it return
}

func (s *pausingStore) Session(ctx context.Context, id string) (store.Session, error) {
	sess, err := s.Store.Session(ctx, id)
	s.mu.Lock()
	hold := id == s.pauseID
	if hold {
		s.pauseID = ""
	}
	s.mu.Unlock()
	if hold {
		close(s.read)
		<-s.release
	}
	return sess, err
}

func (s *pausingStore) pause(id string) {
	s.mu.Lock()
	s.pauseID, s.read, s.release = id, make(chan struct{}), make(chan struct{})
	s.mu.Unlock()
}

func attackLoginCore(t *testing.T, svc *core.Service) *core.TokenResponse {
	t.Helper()
	tr, err := svc.Login(context.Background(), core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// Many first sights of a session on instance B race its logout, on B itself
// and on another instance A with B reading the feed; once the revocation is
// visible (the logout returned on B, or B's feed read returned), every
// request is refused.
func TestAttackRevocationRacesFirstSight(t *testing.T) {
	ctx := context.Background()
	for _, where := range []string{"same instance", "through the feed"} {
		mem := memstore.New()
		f := authtest.New(t, authtest.Options{Store: mem, Config: func(c *core.Config) { c.LoginThrottle.DisabledUnsafe = true }})
		b, err := core.New(withStore(f, mem))
		if err != nil {
			t.Fatal(err)
		}
		for round := range 16 {
			tr := attackLoginCore(t, f.Service)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for range 16 {
				wg.Go(func() {
					<-start
					_, _ = b.Authenticate(ctx, tr.AccessToken)
				})
			}
			wg.Go(func() {
				<-start
				if where == "same instance" {
					if err := b.Logout(ctx, core.LogoutInput{AccessToken: tr.AccessToken}); err != nil {
						t.Error(err)
					}
					return
				}
				if err := f.Service.Logout(ctx, core.LogoutInput{RefreshToken: tr.RefreshToken}); err != nil {
					t.Error(err)
				}
				if err := b.SyncRevocations(ctx); err != nil {
					t.Error(err)
				}
			})
			close(start)
			wg.Wait()
			for range 3 {
				if _, err := b.Authenticate(ctx, tr.AccessToken); !errors.Is(err, core.ErrInvalidToken) {
					t.Fatalf("%s, round %d: after the revocation was visible: %v, want ErrInvalidToken", where, round, err)
				}
			}
		}
		_ = b.Close()
	}
}

// The interleaving the race above only sometimes hits, forced: B reads the
// session live for a first sight, the session is revoked (on A, or on B)
// and B learns it, and only then does the first sight record the session as
// live. It must not stay accepted.
func TestAttackPausedFirstSightThenRevoked(t *testing.T) {
	ctx := context.Background()
	for _, where := range []string{"same instance", "through the feed"} {
		mem := memstore.New()
		f := authtest.New(t, authtest.Options{Store: mem})
		ps := &pausingStore{Store: mem}
		b, err := core.New(withStore(f, ps))
		if err != nil {
			t.Fatal(err)
		}
		tr := attackLoginCore(t, f.Service)
		ps.pause(tr.SessionID)
		done := make(chan error, 1)
		go func() { _, err := b.Authenticate(ctx, tr.AccessToken); done <- err }()
		<-ps.read
		if where == "same instance" {
			if err := b.Logout(ctx, core.LogoutInput{RefreshToken: tr.RefreshToken}); err != nil {
				t.Fatal(err)
			}
		} else {
			if err := f.Service.Logout(ctx, core.LogoutInput{RefreshToken: tr.RefreshToken}); err != nil {
				t.Fatal(err)
			}
			if err := b.SyncRevocations(ctx); err != nil {
				t.Fatal(err)
			}
		}
		close(ps.release)
		<-done
		if _, err := b.Authenticate(ctx, tr.AccessToken); !errors.Is(err, core.ErrInvalidToken) {
			t.Fatalf("%s: a first sight that read the session before its revocation left it accepted: %v", where, err)
		}
		_ = b.Close()
	}
}

// As above, but the service clock steps forward past the revocation's
// retention while the first sight is held, and the feed is read again (which
// forgets the revocation): the first sight then records a revoked session
// as live with the deadline it read, and B accepts tokens for it (here one
// signed with the service's key, as a deployment sharing the key or a
// leaked key would; the session's own have expired by then).
func TestAttackPausedFirstSightClockStep(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	f := authtest.New(t, authtest.Options{Store: mem})
	ps := &pausingStore{Store: mem}
	b, err := core.New(withStore(f, ps))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	tr := attackLoginCore(t, f.Service)
	ps.pause(tr.SessionID)
	done := make(chan error, 1)
	go func() { _, err := b.Authenticate(ctx, tr.AccessToken); done <- err }()
	<-ps.read
	if err := f.Service.Logout(ctx, core.LogoutInput{RefreshToken: tr.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	if err := b.SyncRevocations(ctx); err != nil {
		t.Fatal(err)
	}
	f.Clock.Advance(time.Hour)
	if err := b.SyncRevocations(ctx); err != nil {
		t.Fatal(err)
	}
	close(ps.release)
	<-done
	if _, err := b.Authenticate(ctx, signFor(t, f, f.UserID, tr.SessionID)); !errors.Is(err, core.ErrInvalidToken) {
		t.Fatalf("a revoked session recorded live by a first sight held across a clock step is accepted: %v", err)
	}
}

// A session refreshed on A (its idle deadline pushed) after B cached its
// first deadline keeps working on B past the cached deadline; one revoked
// after B's cache expired is refused.
func TestAttackRefreshedAfterCachedDeadline(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	f := authtest.New(t, authtest.Options{Store: mem, Config: func(c *core.Config) {
		c.RefreshIdleTTL = 20 * time.Minute
		c.AccessTTL = 15 * time.Minute
	}})
	b, err := core.New(withStore(f, mem))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	tr := attackLoginCore(t, f.Service)
	if _, err := b.Authenticate(ctx, tr.AccessToken); err != nil {
		t.Fatal(err)
	}
	f.Clock.Advance(14 * time.Minute)
	next, err := f.Service.Refresh(ctx, tr.RefreshToken, core.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}
	f.Clock.Advance(10 * time.Minute) // past B's cached idle deadline, before the pushed one
	if _, err := b.Authenticate(ctx, next.AccessToken); err != nil {
		t.Fatalf("a session refreshed after B cached its deadline: %v", err)
	}
	if err := f.Service.Logout(ctx, core.LogoutInput{RefreshToken: next.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	if err := b.SyncRevocations(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(ctx, next.AccessToken); !errors.Is(err, core.ErrInvalidToken) {
		t.Fatalf("revoked: %v", err)
	}
}

// A tiny cache (1) with many sessions revoked and used at once: no revoked
// session is ever accepted once its logout returned.
func TestAttackTinyCacheRevocations(t *testing.T) {
	ctx := context.Background()
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) {
		c.MaxLiveSessions = 1
		c.LoginThrottle.DisabledUnsafe = true
	}})
	var toks []*core.TokenResponse
	for range 24 {
		toks = append(toks, attackLoginCore(t, f.Service))
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	revoked := make([]chan struct{}, len(toks))
	for i, tk := range toks {
		revoked[i] = make(chan struct{})
		wg.Go(func() {
			<-start
			if i%2 == 0 {
				if err := f.Service.Logout(ctx, core.LogoutInput{RefreshToken: tk.RefreshToken}); err != nil {
					t.Error(err)
				}
				close(revoked[i])
			}
		})
		for range 4 {
			wg.Go(func() {
				<-start
				for range 20 {
					_, err := f.Service.Authenticate(ctx, tk.AccessToken)
					select {
					case <-revoked[i]:
						_, err = f.Service.Authenticate(ctx, tk.AccessToken)
						if err == nil {
							t.Errorf("session %d accepted after its logout returned", i)
						}
						return
					default:
					}
					if i%2 == 1 && err != nil {
						t.Errorf("live session %d: %v", i, err)
						return
					}
				}
			})
		}
	}
	close(start)
	wg.Wait()
}
