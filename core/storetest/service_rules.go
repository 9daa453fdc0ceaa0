package storetest

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/store"
)

// A refresh rotates: a new refresh token in the same session, and the new
// one rotates again.
func testRotation(t *testing.T, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore, nil)
	tr := f.login()
	next := f.mustRefresh(tr.RefreshToken)
	if next.RefreshToken == tr.RefreshToken || next.SessionID != tr.SessionID {
		t.Fatalf("rotation must mint a new token in the same session")
	}
	if !f.alive(next.AccessToken) {
		t.Fatal("new access token refused")
	}
	if third := f.mustRefresh(next.RefreshToken); third.RefreshToken == next.RefreshToken {
		t.Fatal("second rotation reused the token")
	}
}

// Parallel refreshes from one device: a replay of the previous token inside
// the grace window gets the same successor and a fresh access token.
func testGraceReplay(t *testing.T, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore, nil)
	tr := f.login()
	next := f.mustRefresh(tr.RefreshToken)
	f.Clock.Advance(9 * time.Second)
	again := f.mustRefresh(tr.RefreshToken)
	if again.RefreshToken != next.RefreshToken {
		t.Fatal("grace replay must return the same successor")
	}
	if again.AccessToken == next.AccessToken {
		t.Fatal("grace replay must mint a fresh access token")
	}
	f.mustRefresh(next.RefreshToken) // the successor still rotates normally
}

// Replays are bounded; the excess one is refused and revokes nothing.
func testGraceBounded(t *testing.T, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore, nil)
	tr := f.login()
	next := f.mustRefresh(tr.RefreshToken)
	for range 10 {
		f.mustRefresh(tr.RefreshToken)
	}
	_, err := f.refresh(tr.RefreshToken)
	f.wantGrant(err, "grace_replays_exhausted")
	if !f.alive(next.AccessToken) {
		t.Fatal("an excess replay must not revoke the session")
	}
	f.mustRefresh(next.RefreshToken)
}

// The previous token after the window is reuse: the whole session ends, its
// access tokens at once, and an audit event says so.
func testReuseAfterWindow(t *testing.T, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore, nil)
	tr := f.login()
	next := f.mustRefresh(tr.RefreshToken)
	f.Clock.Advance(11 * time.Second)
	_, err := f.refresh(tr.RefreshToken)
	f.wantGrant(err, "reuse_detected")
	if f.alive(next.AccessToken) {
		t.Fatal("reuse must revoke the session's access tokens at once")
	}
	_, err = f.refresh(next.RefreshToken)
	f.wantGrant(err, "session_revoked")
	if !containsEvent(f.Logs.String(), "refresh_token_reuse") {
		t.Fatal("reuse must emit an audit event")
	}
}

// A token older than the previous one is reuse even inside the window.
func testReuseOlder(t *testing.T, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore, nil)
	g0 := f.login()
	g1 := f.mustRefresh(g0.RefreshToken)
	g2 := f.mustRefresh(g1.RefreshToken)
	_, err := f.refresh(g0.RefreshToken)
	f.wantGrant(err, "reuse_detected")
	_, err = f.refresh(g2.RefreshToken)
	f.wantGrant(err, "session_revoked")
}

// Each rotation pushes the idle deadline; a session left alone for the idle
// timeout ends.
func testIdleExpiry(t *testing.T, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore, func(c *core.Config) { c.RefreshIdleTTL = time.Hour; c.RefreshAbsoluteTTL = 10 * time.Hour })
	tr := f.login()
	if tr.RefreshExpiresIn != 3600 {
		t.Fatalf("refreshExpiresIn %d, want 3600", tr.RefreshExpiresIn)
	}
	f.Clock.Advance(59 * time.Minute)
	tr = f.mustRefresh(tr.RefreshToken)
	f.Clock.Advance(59 * time.Minute)
	tr = f.mustRefresh(tr.RefreshToken)
	f.Clock.Advance(time.Hour)
	_, err := f.refresh(tr.RefreshToken)
	f.wantGrant(err, "session_expired_idle")
}

// Rotation never extends the absolute lifetime counted from login.
func testAbsoluteExpiry(t *testing.T, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore, func(c *core.Config) { c.RefreshIdleTTL = time.Hour; c.RefreshAbsoluteTTL = 2 * time.Hour })
	tr := f.login()
	for range 3 {
		f.Clock.Advance(35 * time.Minute)
		tr = f.mustRefresh(tr.RefreshToken)
	}
	if tr.RefreshExpiresIn != 15*60 { // 105 minutes after login
		t.Fatalf("rotation extended the absolute lifetime: refreshExpiresIn %d, want 900", tr.RefreshExpiresIn)
	}
	f.Clock.Advance(15 * time.Minute)
	_, err := f.refresh(tr.RefreshToken)
	f.wantGrant(err, "session_expired_absolute")
}

// An access token never outlives its session.
func testAccessWithinSession(t *testing.T, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore, func(c *core.Config) { c.RefreshIdleTTL = 5 * time.Minute; c.RefreshAbsoluteTTL = 5 * time.Minute })
	tr := f.login()
	if tr.ExpiresIn != 300 {
		t.Fatalf("expiresIn %d, want the session's 300 s", tr.ExpiresIn)
	}
	f.Clock.Advance(5*time.Minute + 6*time.Second)
	if f.alive(tr.AccessToken) {
		t.Fatal("access token outlived its session")
	}
}

// flipBit returns tok with one bit of its decoded bytes flipped.
func flipBit(t *testing.T, tok string, bit int) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatalf("refresh token is not base64url: %v", err)
	}
	raw[bit/8%len(raw)] ^= 1 << (bit % 8)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// A refresh token with any bit flipped, or carrying another session's id,
// reaches no session: it is refused like an unknown token, and both
// sessions, their current and previous tokens keep working. Otherwise anyone
// who learns a session id (from an access token, say) could revoke it by
// presenting an "old generation" of it.
func testForgedTokens(t *testing.T, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore, nil)
	victim, other := f.login(), f.login()
	raw, _ := base64.RawURLEncoding.DecodeString(victim.RefreshToken)
	for bit := range len(raw) * 8 {
		_, err := f.refresh(flipBit(t, victim.RefreshToken, bit))
		f.wantGrant(err, "")
		if err := f.Service.Logout(context.Background(), core.LogoutInput{RefreshToken: flipBit(t, victim.RefreshToken, bit)}); err != nil {
			t.Fatalf("logout with a forged token: %v", err)
		}
	}
	// The other session's token with the victim's session id in it.
	a, _ := base64.RawURLEncoding.DecodeString(victim.RefreshToken)
	b, _ := base64.RawURLEncoding.DecodeString(other.RefreshToken)
	copy(b[1:17], a[1:17])
	_, err := f.refresh(base64.RawURLEncoding.EncodeToString(b))
	f.wantGrant(err, "")
	for _, tr := range []*core.TokenResponse{victim, other} {
		if s := f.session(tr); !s.RevokedAt.IsZero() || s.Generation != 0 {
			t.Fatalf("a forged token changed session %s: revoked %v, generation %d", tr.SessionID, s.RevokedAt, s.Generation)
		}
		f.mustRefresh(tr.RefreshToken)
	}
}

// A session's storage does not grow with its rotations: after 1,000 of them
// it occupies what it did after one, and the generation-1 token, whose digest
// is long gone, is still recognised as reuse and revokes the session.
func testBoundedStorage(t *testing.T, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore, nil)
	fp, ok := f.Store.(store.Footprinter)
	tr := f.login()
	gen1 := f.mustRefresh(tr.RefreshToken)
	var after1 store.Footprint
	if ok {
		var err error
		if after1, err = fp.Footprint(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	cur := gen1
	for range 999 {
		f.Clock.Advance(time.Second)
		cur = f.mustRefresh(cur.RefreshToken)
	}
	if s := f.session(cur); s.Generation != 1000 {
		t.Fatalf("generation %d after 1,000 rotations", s.Generation)
	}
	if ok {
		after1000, err := fp.Footprint(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if after1000 != after1 {
			t.Fatalf("footprint after 1,000 rotations %+v, after one %+v: storage grows with rotations", after1000, after1)
		}
	} else {
		t.Logf("%T does not implement store.Footprinter: storage size not compared", f.Store)
	}
	_, err := f.refresh(gen1.RefreshToken)
	f.wantGrant(err, "reuse_detected")
	if f.alive(cur.AccessToken) {
		t.Fatal("reuse of generation 1 did not revoke the session")
	}
}

// Logout ends the session at once; a second logout with the same token is
// still a success.
func testLogout(t *testing.T, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore, nil)
	tr := f.login()
	ctx := context.Background()
	if err := f.Service.Logout(ctx, core.LogoutInput{RefreshToken: tr.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	if f.alive(tr.AccessToken) {
		t.Fatal("logged-out session's access token still accepted")
	}
	if err := f.Service.Logout(ctx, core.LogoutInput{RefreshToken: tr.RefreshToken}); err != nil {
		t.Fatalf("second logout: %v", err)
	}
	_, err := f.refresh(tr.RefreshToken)
	f.wantGrant(err, "session_revoked")
}

// RevokeSubject (account disabled, password changed) ends every session.
func testRevokeSubject(t *testing.T, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore, nil)
	a, b := f.login(), f.login()
	n, err := f.Service.RevokeSubject(context.Background(), f.UserID)
	if err != nil || n != 2 {
		t.Fatalf("RevokeSubject = %d, %v; want 2", n, err)
	}
	if f.alive(a.AccessToken) || f.alive(b.AccessToken) {
		t.Fatal("revoked sessions still accepted")
	}
	_, err = f.refresh(b.RefreshToken)
	f.wantGrant(err, "session_revoked")
}

// A logout on one instance is refused on another sharing the store within a
// second, through the store's revocation feed.
func testFeedPropagation(t *testing.T, newStore func(t *testing.T) store.Store) {
	st := newStore(t)
	a := &fixture{Fixture: authtest.New(t, authtest.Options{Store: st}), t: t}
	b, err := core.New(withSharedKeys(a.Fixture, st))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	tr := a.login()
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
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance b still accepts the revoked session after 1s (err %v)", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A user who may no longer log in cannot refresh either, and the attempt ends
// the session.
func testDisabledUser(t *testing.T, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore, nil)
	tr := f.login()
	ctx := context.Background()
	u, err := f.Store.UserByID(ctx, f.UserID)
	if err != nil {
		t.Fatal(err)
	}
	u.Disabled = true
	if err := f.Store.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	_, err = f.refresh(tr.RefreshToken)
	f.wantGrant(err, "")
	if s := f.session(tr); s.RevokedAt.IsZero() {
		t.Fatal("a disabled user's refresh must revoke the session")
	}
	if f.alive(tr.AccessToken) {
		t.Fatal("the disabled user's access token still passes the guard")
	}
}
