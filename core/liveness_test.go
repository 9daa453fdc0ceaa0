package core_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/memstore"
	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/core/token"
)

// countingStore counts session reads and can be taken down.
type countingStore struct {
	*memstore.Store
	reads atomic.Int64
	down  atomic.Bool
}

func (s *countingStore) Session(ctx context.Context, id string) (store.Session, error) {
	s.reads.Add(1)
	if s.down.Load() {
		return store.Session{}, errors.New("injected outage")
	}
	return s.Store.Session(ctx, id)
}

// signFor signs an access token of subject for session sid with the
// service's own key: as a deployment sharing the key, a pruned session or a
// leaked key would.
func signFor(t *testing.T, f *authtest.Fixture, subject, sid string) string {
	t.Helper()
	now := f.Clock.Now()
	tok, err := f.Service.Keys().Sign(&token.AccessClaims{
		Issuer: authtest.Issuer, Subject: subject, Audience: []string{authtest.Audience}, Roles: []string{"admin"},
		IssuedAt: now.Unix(), ExpiresAt: now.Add(time.Minute).Unix(), SessionID: sid, ID: "jti-" + sid,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// The guard accepts only tokens whose sid is a live session of this store
// and whose sub is that session's subject, however well signed; a session
// seen once costs no further store read; a first sight while the store is
// unreachable is 503, never 200 and never 401.
func TestGuardAcceptsOnlyLiveSessionsOfThisStore(t *testing.T) {
	st := &countingStore{Store: memstore.New()}
	f := authtest.New(t, authtest.Options{Store: st})
	ctx := context.Background()
	tr, err := f.Service.Login(ctx, core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	refuse := func(tok, reason string) {
		t.Helper()
		_, err := f.Service.Authenticate(ctx, tok)
		if !errors.Is(err, core.ErrInvalidToken) || core.ReasonOf(err) != reason {
			t.Fatalf("Authenticate = %v, want invalid_token %s", err, reason)
		}
	}
	refuse(signFor(t, f, f.UserID, "no-such-session"), "session_unknown")
	refuse(signFor(t, f, f.AdminID, tr.SessionID), "session_subject_mismatch")

	before := st.reads.Load()
	for range 100 {
		if _, err := f.Service.Authenticate(ctx, tr.AccessToken); err != nil {
			t.Fatal(err)
		}
	}
	if n := st.reads.Load() - before; n != 0 {
		t.Fatalf("%d store reads for 100 requests of a session this instance created, want 0", n)
	}
	// Another instance over the same store sees the session first at its
	// first request: one read, then none.
	b, err := core.New(withStore(f, st))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	before = st.reads.Load()
	for range 100 {
		if _, err := b.Authenticate(ctx, tr.AccessToken); err != nil {
			t.Fatal(err)
		}
	}
	if n := st.reads.Load() - before; n != 1 {
		t.Fatalf("%d store reads for a first sight and 99 more requests, want 1", n)
	}
	// A third instance meets the session while the store is down: 503.
	c, err := core.New(withStore(f, st))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st.down.Store(true)
	if _, err := c.Authenticate(ctx, tr.AccessToken); !errors.Is(err, core.ErrUnavailable) {
		t.Fatalf("first sight with the store down: %v, want ErrUnavailable", err)
	}
	if _, err := b.Authenticate(ctx, tr.AccessToken); err != nil {
		t.Fatalf("a session already seen needs no store: %v", err)
	}
	st.down.Store(false)
	// A logout on one instance empties the others' caches through the feed.
	if err := f.Service.Logout(ctx, core.LogoutInput{RefreshToken: tr.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	if err := b.SyncRevocations(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(ctx, tr.AccessToken); !errors.Is(err, core.ErrInvalidToken) {
		t.Fatalf("after logout and a feed read: %v, want ErrInvalidToken", err)
	}
}

// The cache of live sessions is bounded: with room for 8, 60 sessions are
// all served right (each at most one extra store read after an eviction),
// and a revoked one is refused whatever the cache held.
func TestLiveSessionCacheBounded(t *testing.T) {
	st := &countingStore{Store: memstore.New()}
	f := authtest.New(t, authtest.Options{Store: st, Config: func(c *core.Config) {
		c.MaxLiveSessions = 8
		c.LoginThrottle.DisabledUnsafe = true
	}})
	ctx := context.Background()
	var toks []*core.TokenResponse
	for range 60 {
		tr, err := f.Service.Login(ctx, core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tr)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, 600)
	for i := range 600 {
		wg.Go(func() {
			<-start
			if _, err := f.Service.Authenticate(ctx, toks[i%60].AccessToken); err != nil {
				errs <- fmt.Errorf("session %d: %w", i%60, err)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := f.Service.Logout(ctx, core.LogoutInput{RefreshToken: toks[7].RefreshToken}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Service.Authenticate(ctx, toks[7].AccessToken); !errors.Is(err, core.ErrInvalidToken) {
		t.Fatalf("revoked session: %v", err)
	}
}

func withStore(f *authtest.Fixture, st store.Store) core.Config {
	cfg := f.Service.Config()
	cfg.Store, cfg.Throttle = st, nil
	return cfg
}
