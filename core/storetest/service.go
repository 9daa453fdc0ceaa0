package storetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/store"
)

// RunService runs the refresh-token rules of the core (rotation, grace
// replays, reuse detection, idle and absolute expiry, revocation and its
// propagation) end to end over a store built by newStore. Run calls it; it is
// exported for stores that want to run it alone. Each subtest closes over a
// fresh store and a fresh fixture.
func RunService(t *testing.T, newStore func(t *testing.T) store.Store) {
	fixture := func(t *testing.T, edit func(*core.Config)) *authtest.Fixture {
		return authtest.New(t, authtest.Options{Store: newStore(t), Config: edit})
	}
	ctx := context.Background()
	login := func(t *testing.T, f *authtest.Fixture) *core.TokenResponse {
		t.Helper()
		tr, err := f.Service.Login(ctx, core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password,
			DeviceName: "phone", Client: core.ClientInfo{IP: "192.0.2.7", UserAgent: "storetest"}})
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		return tr
	}
	refresh := func(f *authtest.Fixture, rt string) (*core.TokenResponse, error) {
		return f.Service.Refresh(ctx, rt, core.ClientInfo{IP: "192.0.2.7"})
	}
	mustRefresh := func(t *testing.T, f *authtest.Fixture, rt string) *core.TokenResponse {
		t.Helper()
		tr, err := refresh(f, rt)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		return tr
	}
	wantGrant := func(t *testing.T, err error, reason string) {
		t.Helper()
		if !errors.Is(err, core.ErrInvalidGrant) {
			t.Fatalf("got %v, want invalid_grant", err)
		}
		if reason != "" && core.ReasonOf(err) != reason {
			t.Fatalf("reason %q, want %q", core.ReasonOf(err), reason)
		}
	}
	alive := func(t *testing.T, f *authtest.Fixture, at string) bool {
		t.Helper()
		_, err := f.Service.Authenticate(ctx, at)
		if err != nil && !errors.Is(err, core.ErrInvalidToken) {
			t.Fatalf("authenticate: unexpected %v", err)
		}
		return err == nil
	}

	t.Run("service/rotation_issues_new_token", func(t *testing.T) {
		f := fixture(t, nil)
		tr := login(t, f)
		next := mustRefresh(t, f, tr.RefreshToken)
		if next.RefreshToken == tr.RefreshToken || next.SessionID != tr.SessionID {
			t.Fatalf("rotation must mint a new token in the same session")
		}
		if !alive(t, f, next.AccessToken) {
			t.Fatal("new access token refused")
		}
		third := mustRefresh(t, f, next.RefreshToken)
		if third.RefreshToken == next.RefreshToken {
			t.Fatal("second rotation reused the token")
		}
	})

	t.Run("service/grace_replay_returns_same_successor", func(t *testing.T) {
		f := fixture(t, nil)
		tr := login(t, f)
		next := mustRefresh(t, f, tr.RefreshToken)
		f.Clock.Advance(9 * time.Second)
		again := mustRefresh(t, f, tr.RefreshToken)
		if again.RefreshToken != next.RefreshToken {
			t.Fatal("grace replay must return the same successor")
		}
		if again.AccessToken == next.AccessToken {
			t.Fatal("grace replay must mint a fresh access token")
		}
		// The successor still rotates normally afterwards.
		mustRefresh(t, f, next.RefreshToken)
	})

	t.Run("service/grace_replays_are_bounded_and_revoke_nothing", func(t *testing.T) {
		f := fixture(t, nil)
		tr := login(t, f)
		next := mustRefresh(t, f, tr.RefreshToken)
		for i := 0; i < 10; i++ {
			mustRefresh(t, f, tr.RefreshToken)
		}
		_, err := refresh(f, tr.RefreshToken)
		wantGrant(t, err, "grace_replays_exhausted")
		if !alive(t, f, next.AccessToken) {
			t.Fatal("an excess replay must not revoke the session")
		}
		mustRefresh(t, f, next.RefreshToken)
	})

	t.Run("service/reuse_after_window_revokes_session", func(t *testing.T) {
		f := fixture(t, nil)
		tr := login(t, f)
		next := mustRefresh(t, f, tr.RefreshToken)
		f.Clock.Advance(11 * time.Second)
		_, err := refresh(f, tr.RefreshToken)
		wantGrant(t, err, "reuse_detected")
		if alive(t, f, next.AccessToken) {
			t.Fatal("reuse must revoke the session's access tokens at once")
		}
		_, err = refresh(f, next.RefreshToken)
		wantGrant(t, err, "session_revoked")
		if !containsEvent(f.Logs.String(), "refresh_token_reuse") {
			t.Fatal("reuse must emit an audit event")
		}
	})

	t.Run("service/reuse_of_older_generation_revokes_session", func(t *testing.T) {
		f := fixture(t, nil)
		g0 := login(t, f)
		g1 := mustRefresh(t, f, g0.RefreshToken)
		g2 := mustRefresh(t, f, g1.RefreshToken)
		_, err := refresh(f, g0.RefreshToken) // older than the previous one, inside the window
		wantGrant(t, err, "reuse_detected")
		_, err = refresh(f, g2.RefreshToken)
		wantGrant(t, err, "session_revoked")
	})

	t.Run("service/idle_expiry", func(t *testing.T) {
		f := fixture(t, func(c *core.Config) { c.RefreshIdleTTL = time.Hour; c.RefreshAbsoluteTTL = 10 * time.Hour })
		tr := login(t, f)
		if tr.RefreshExpiresIn != 3600 {
			t.Fatalf("refreshExpiresIn %d, want 3600", tr.RefreshExpiresIn)
		}
		f.Clock.Advance(59 * time.Minute)
		tr = mustRefresh(t, f, tr.RefreshToken) // pushes the idle deadline
		f.Clock.Advance(59 * time.Minute)
		tr = mustRefresh(t, f, tr.RefreshToken)
		f.Clock.Advance(time.Hour)
		_, err := refresh(f, tr.RefreshToken)
		wantGrant(t, err, "session_expired_idle")
	})

	t.Run("service/absolute_expiry_not_extended_by_rotation", func(t *testing.T) {
		f := fixture(t, func(c *core.Config) { c.RefreshIdleTTL = time.Hour; c.RefreshAbsoluteTTL = 2 * time.Hour })
		tr := login(t, f)
		for i := 0; i < 3; i++ {
			f.Clock.Advance(35 * time.Minute)
			tr = mustRefresh(t, f, tr.RefreshToken)
		}
		// 105 minutes after login: 15 minutes left of the absolute lifetime.
		if tr.RefreshExpiresIn != 15*60 {
			t.Fatalf("rotation extended the absolute lifetime: refreshExpiresIn %d, want 900", tr.RefreshExpiresIn)
		}
		f.Clock.Advance(15 * time.Minute)
		_, err := refresh(f, tr.RefreshToken)
		wantGrant(t, err, "session_expired_absolute")
	})

	t.Run("service/access_token_never_outlives_session", func(t *testing.T) {
		f := fixture(t, func(c *core.Config) { c.RefreshIdleTTL = 5 * time.Minute; c.RefreshAbsoluteTTL = 5 * time.Minute })
		tr := login(t, f)
		if tr.ExpiresIn != 300 {
			t.Fatalf("expiresIn %d, want the session's 300 s", tr.ExpiresIn)
		}
		f.Clock.Advance(5*time.Minute + 6*time.Second)
		if alive(t, f, tr.AccessToken) {
			t.Fatal("access token outlived its session")
		}
	})

	t.Run("service/logout_revokes_at_once_and_is_idempotent", func(t *testing.T) {
		f := fixture(t, nil)
		tr := login(t, f)
		if err := f.Service.Logout(ctx, core.LogoutInput{RefreshToken: tr.RefreshToken}); err != nil {
			t.Fatal(err)
		}
		if alive(t, f, tr.AccessToken) {
			t.Fatal("logged-out session's access token still accepted")
		}
		if err := f.Service.Logout(ctx, core.LogoutInput{RefreshToken: tr.RefreshToken}); err != nil {
			t.Fatalf("second logout: %v", err)
		}
		_, err := refresh(f, tr.RefreshToken)
		wantGrant(t, err, "session_revoked")
	})

	t.Run("service/revoke_subject_ends_every_session", func(t *testing.T) {
		f := fixture(t, nil)
		a, b := login(t, f), login(t, f)
		n, err := f.Service.RevokeSubject(ctx, f.UserID)
		if err != nil || n != 2 {
			t.Fatalf("RevokeSubject = %d, %v; want 2", n, err)
		}
		if alive(t, f, a.AccessToken) || alive(t, f, b.AccessToken) {
			t.Fatal("revoked sessions still accepted")
		}
		_, err = refresh(f, b.RefreshToken)
		wantGrant(t, err, "session_revoked")
	})

	t.Run("service/revocation_reaches_other_instance_through_feed", func(t *testing.T) {
		st := newStore(t)
		a := authtest.New(t, authtest.Options{Store: st})
		// A second instance over the same store, with the same keys.
		b, err := core.New(withSharedKeys(a, st))
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		tr := login(t, a)
		if _, err := b.Authenticate(ctx, tr.AccessToken); err != nil {
			t.Fatalf("instance b refused a live token: %v", err)
		}
		if err := a.Service.Logout(ctx, core.LogoutInput{RefreshToken: tr.RefreshToken}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(time.Second)
		for {
			_, err := b.Authenticate(ctx, tr.AccessToken)
			if errors.Is(err, core.ErrInvalidToken) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("instance b still accepts the revoked session after 1s (err %v)", err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})

	t.Run("service/concurrent_refresh_one_lineage", func(t *testing.T) {
		f := fixture(t, nil)
		tr := login(t, f)
		const n = 100
		var wg sync.WaitGroup
		start := make(chan struct{})
		results := make([]*core.TokenResponse, n)
		errs := make([]error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				results[i], errs[i] = refresh(f, tr.RefreshToken)
			}(i)
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
			mustRefresh(t, f, succ) // the session is alive and the successor rotates
		}
	})

	t.Run("service/store_down_is_unavailable_not_logout", func(t *testing.T) {
		st := newStore(t)
		f := authtest.New(t, authtest.Options{Store: st})
		tr := login(t, f)
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		_, err := refresh(f, tr.RefreshToken)
		if !errors.Is(err, core.ErrUnavailable) {
			t.Skipf("store %T still answers after Close (%v); outage is covered by the adapter suite", st, err)
		}
		err = f.Service.Logout(ctx, core.LogoutInput{RefreshToken: tr.RefreshToken})
		if !errors.Is(err, core.ErrUnavailable) {
			t.Fatalf("logout with the store down: %v, want ErrUnavailable", err)
		}
	})
}

func withSharedKeys(f *authtest.Fixture, st store.Store) core.Config {
	cfg := f.Service.Config()
	cfg.Store = st
	cfg.Throttle = nil
	return cfg
}

func containsEvent(log, event string) bool {
	return strings.Contains(log, `"event":"`+event+`"`)
}
