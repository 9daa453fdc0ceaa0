package goclient

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authguard/authguard/examples/internal/demo"
)

// age rewrites the saved tokens as if the access token, of the given
// lifetime, had left of it to live.
func age(t *testing.T, st TokenStore, lifetime, left time.Duration) {
	t.Helper()
	ctx := context.Background()
	tok, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Round(0)
	tok.AccessExpiresAt = now.Add(left)
	tok.AccessIssuedAt = tok.AccessExpiresAt.Add(-lifetime)
	if err := st.Save(ctx, tok); err != nil {
		t.Fatal(err)
	}
}

func TestRefreshMargin(t *testing.T) {
	at := time.Unix(1_000_000, 0)
	tok := func(lifetime time.Duration) Tokens {
		return Tokens{AccessToken: "a", AccessIssuedAt: at, AccessExpiresAt: at.Add(lifetime)}
	}
	def, _ := New("http://x")
	five, _ := New("http://x", WithRefreshSkew(5*time.Second))
	zero, _ := New("http://x", WithRefreshSkew(0))
	for _, tc := range []struct {
		c    *Client
		t    Tokens
		want time.Duration
	}{
		{def, tok(10 * time.Minute), 30 * time.Second},
		{def, tok(time.Hour), 30 * time.Second},
		{def, tok(time.Minute), 6 * time.Second},
		{def, tok(2 * time.Second), 200 * time.Millisecond},
		{def, Tokens{AccessToken: "a", AccessExpiresAt: at}, 30 * time.Second}, // lifetime unknown
		{five, tok(time.Minute), 5 * time.Second},
		{five, tok(10 * time.Minute), 5 * time.Second},
		{zero, tok(time.Minute), 0},
	} {
		if got := tc.c.margin(tc.t); got != tc.want {
			t.Errorf("margin(%v lifetime, skew %v set %v) = %v, want %v",
				tc.t.AccessExpiresAt.Sub(tc.t.AccessIssuedAt), tc.c.skew, tc.c.skewSet, got, tc.want)
		}
	}
	if _, err := New("http://x", WithRefreshSkew(-time.Second)); err == nil {
		t.Fatal("negative skew accepted")
	}
}

func TestKeepFreshRefreshesBeforeExpiry(t *testing.T) {
	s := newServer(t)
	path := filepath.Join(t.TempDir(), "tokens.json")
	c0, st := fileClient(t, s, path, nil)
	login(t, c0)
	// A 10s token with 1.3s left: the default margin is 1s, so the refresh
	// is due in 0.3s, before the token expires.
	age(t, st, 10*time.Second, 1300*time.Millisecond)
	old, _ := st.Load(context.Background())

	c, _ := fileClient(t, s, path, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- c.KeepFresh(ctx) }()
	for s.refreshes.Load() == 0 && time.Since(start) < 3*time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(start)
	if s.refreshes.Load() != 1 || took < 200*time.Millisecond || !time.Now().Before(old.AccessExpiresAt) {
		t.Fatalf("%d refreshes after %v (due after 300ms, expiry at %v)", s.refreshes.Load(), took, old.AccessExpiresAt)
	}
	time.Sleep(200 * time.Millisecond) // the new token is not due: no second refresh
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("KeepFresh: %v, want context.Canceled", err)
	}
	if n := s.refreshes.Load(); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
	saved, _ := st.Load(context.Background())
	if saved.RefreshToken == old.RefreshToken || time.Until(saved.AccessExpiresAt) < 9*time.Minute {
		t.Fatalf("new tokens not saved: %+v", saved)
	}
	status, _, err := get(t, c, s, demo.PathProfile)
	if err != nil || status != 200 || s.refreshes.Load() != 1 {
		t.Fatalf("profile: %d %v, %d refreshes", status, err, s.refreshes.Load())
	}
}

// KeepFresh's refresh, explicit Refresh calls and the refreshes of requests
// refused with 401, all at once: exactly one refresh request.
func TestProactiveAndReactiveRefreshAreOneRequest(t *testing.T) {
	s := newServer(t)
	s.refreshDelay.Store(int64(100 * time.Millisecond))
	c0, st := newClient(t, s, nil)
	login(t, c0)
	before, _ := st.Load(context.Background())
	tamper(t, s, st, nil)                      // every request is refused: reactive refreshes
	age(t, st, 10*time.Second, -1*time.Second) // expired: KeepFresh is due at once
	// Skew 0: Do does not refresh ahead, so its requests meet the 401.
	c, err := New(s.URL, WithTokenStore(st), WithRefreshSkew(0))
	if err != nil {
		t.Fatal(err)
	}

	const requests, refreshers = 20, 3
	var ready, wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, requests+refreshers)
	ctx, cancel := context.WithCancel(context.Background())
	kf := make(chan error, 1)
	ready.Add(requests + refreshers + 1)
	go func() {
		ready.Done()
		<-start
		kf <- c.KeepFresh(ctx)
	}()
	for range refreshers {
		wg.Go(func() {
			ready.Done()
			<-start
			if err := c.Refresh(context.Background()); err != nil {
				errs <- err
			}
		})
	}
	for range requests {
		wg.Go(func() {
			ready.Done()
			<-start
			if err := profileOK(c, s); err != nil {
				errs <- err
			}
		})
	}
	ready.Wait()
	close(start)
	wg.Wait()
	time.Sleep(50 * time.Millisecond) // let KeepFresh see the new token
	cancel()
	if err := <-kf; !errors.Is(err, context.Canceled) {
		t.Errorf("KeepFresh: %v", err)
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := s.refreshes.Load(); got != 1 {
		t.Fatalf("%d refresh requests reached the server, want exactly 1", got)
	}
	after, _ := st.Load(context.Background())
	if after.RefreshToken == before.RefreshToken || after.SessionID != before.SessionID {
		t.Fatalf("tokens not rotated: %+v", after)
	}
}

func TestRefreshOutageKeepsTokenFile(t *testing.T) {
	s := newServer(t)
	f := &flaky{}
	path := filepath.Join(t.TempDir(), "tokens.json")
	c0, st := fileClient(t, s, path, f)
	login(t, c0)
	tamper(t, s, st, f)
	age(t, st, 10*time.Second, 500*time.Millisecond) // due: the margin is 1s
	kept, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	for _, status := range []int{503, 0, 429} {
		f.set(status, "/auth/refresh")
		f.hits.Store(0)
		c, _ := fileClient(t, s, path, f)
		// KeepFresh tries once, then waits the server's Retry-After (3s).
		ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
		err := c.KeepFresh(ctx)
		cancel()
		// One try: the next waits for Retry-After (3s) or, after a network
		// error, for 1s.
		const wantHits = 1
		if !errors.Is(err, context.DeadlineExceeded) || f.hits.Load() != wantHits {
			t.Fatalf("status %d: KeepFresh %v after %d refresh attempts, want the deadline after %d", status, err, f.hits.Load(), wantHits)
		}
		// Do's refresh, proactive and then reactive, fails the same way.
		_, _, err = get(t, c, s, demo.PathProfile)
		if !errors.Is(err, ErrTemporary) || errors.Is(err, ErrLoggedOut) {
			t.Fatalf("status %d: Do: %v, want ErrTemporary", status, err)
		}
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, kept) {
			t.Fatalf("status %d: token file changed or gone: %v", status, err)
		}
	}

	f.set(0)
	c, _ := fileClient(t, s, path, f)
	status, _, err := get(t, c, s, demo.PathProfile)
	if err != nil || status != 200 {
		t.Fatalf("after the outage: %d %v", status, err)
	}
	if got, _ := os.ReadFile(path); bytes.Equal(got, kept) {
		t.Fatal("token file not updated by the refresh after the outage")
	}
}

func TestKeepFreshEndsWithTheSession(t *testing.T) {
	s := newServer(t)
	path := filepath.Join(t.TempDir(), "tokens.json")
	c, st := fileClient(t, s, path, nil)
	if err := c.KeepFresh(context.Background()); !errors.Is(err, ErrLoggedOut) {
		t.Fatalf("KeepFresh without a session: %v", err)
	}

	// A logout while KeepFresh waits wakes it.
	login(t, c)
	done := make(chan error, 1)
	go func() { done <- c.KeepFresh(context.Background()) }()
	time.Sleep(50 * time.Millisecond)
	if err := c.Logout(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrLoggedOut) {
			t.Fatalf("KeepFresh after Logout: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("KeepFresh did not return after Logout")
	}

	// The session is revoked elsewhere: the due refresh gets invalid_grant.
	login(t, c)
	tok, _ := st.Load(context.Background())
	other, _ := New(s.URL)
	_ = other.store.Save(context.Background(), tok)
	if err := other.Logout(context.Background()); err != nil {
		t.Fatal(err)
	}
	age(t, st, 10*time.Second, 500*time.Millisecond)
	c, _ = fileClient(t, s, path, nil)
	err := c.KeepFresh(context.Background())
	var ae *APIError
	if !errors.Is(err, ErrLoggedOut) || !errors.As(err, &ae) || ae.Code != "invalid_grant" {
		t.Fatalf("KeepFresh after revocation: %v", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("token file after the session ended: %v", err)
	}
}

// failingStore is a MemoryStore whose Save fails while fail is set.
type failingStore struct {
	MemoryStore
	fail atomic.Bool
}

func (f *failingStore) Save(ctx context.Context, t Tokens) error {
	if f.fail.Load() {
		return errors.New("disk full")
	}
	return f.MemoryStore.Save(ctx, t)
}

// A refresh the server answered but the store could not save: the rotated
// tokens stay in use in memory and the store's error is returned; nothing
// is cleared.
func TestRefreshSaveFailureKeepsNewTokens(t *testing.T) {
	s := newServer(t)
	st := &failingStore{}
	c, err := New(s.URL, WithTokenStore(st))
	if err != nil {
		t.Fatal(err)
	}
	login(t, c)
	old, _ := st.Load(context.Background())
	st.fail.Store(true)
	err = c.Refresh(context.Background())
	if err == nil || errors.Is(err, ErrLoggedOut) || errors.Is(err, ErrTemporary) {
		t.Fatalf("Refresh with a failing store: %v", err)
	}
	cur, _ := c.Tokens(context.Background())
	if cur.RefreshToken == "" || cur.RefreshToken == old.RefreshToken {
		t.Fatalf("rotated tokens dropped: %+v", cur)
	}
	if saved, _ := st.Load(context.Background()); saved != old {
		t.Fatalf("store changed: %+v", saved)
	}
	status, _, err := get(t, c, s, demo.PathProfile)
	if err != nil || status != 200 || s.refreshes.Load() != 1 {
		t.Fatalf("profile: %d %v, %d refreshes", status, err, s.refreshes.Load())
	}
	st.fail.Store(false)
	if err := c.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if saved, _ := st.Load(context.Background()); saved.RefreshToken == cur.RefreshToken || saved.RefreshToken == old.RefreshToken {
		t.Fatalf("next refresh not saved: %+v", saved)
	}
}
