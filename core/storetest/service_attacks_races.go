package storetest

// Adversarial cases, continued: forged tokens, races on one lineage and
// between revocation and refresh, clock steps, storage.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/store"
)

// Refreshes of one session race its logout. Once Logout returns, no token of
// the session refreshes, its access tokens are refused, and the stored
// revocation is the logout's (no rotation overwrote it).
func atkRefreshVsLogout(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, _, _ := atkFixture(t, newStore, quiet)
	for round := range 5 {
		tr := f.login()
		var wg sync.WaitGroup
		start := make(chan struct{})
		var mu sync.Mutex
		var issued []*core.TokenResponse
		for range 16 {
			wg.Go(func() {
				<-start
				r, err := f.refresh(tr.RefreshToken)
				if err == nil {
					mu.Lock()
					issued = append(issued, r)
					mu.Unlock()
				} else if !errors.Is(err, core.ErrInvalidGrant) {
					t.Errorf("round %d: refresh: %v", round, err)
				}
			})
		}
		var logoutErr error
		wg.Go(func() {
			<-start
			logoutErr = f.Service.Logout(context.Background(), core.LogoutInput{RefreshToken: tr.RefreshToken})
		})
		close(start)
		wg.Wait()
		if logoutErr != nil {
			t.Fatalf("round %d: logout: %v", round, logoutErr)
		}
		s := f.session(tr)
		if s.RevokedAt.IsZero() || s.RevokeReason != "logout" {
			t.Fatalf("round %d: after logout: revoked %v reason %q", round, s.RevokedAt, s.RevokeReason)
		}
		for _, r := range append(issued, tr) {
			if _, err := f.refresh(r.RefreshToken); err == nil {
				t.Fatalf("round %d: a token of a logged-out session refreshed", round)
			}
			if f.alive(r.AccessToken) {
				t.Fatalf("round %d: an access token of a logged-out session passes the guard", round)
			}
		}
	}
}

// RevokeSubject while every session of the subject is being refreshed in a
// loop: it must not fail with contention, and afterwards every session is
// revoked with its reason, for good.
func atkRevokeSubjectVsRefresh(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, _, _ := atkFixture(t, newStore, quiet)
	const sessions = 8
	trs := make([]*core.TokenResponse, sessions)
	for i := range trs {
		trs[i] = f.login()
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	latest := map[string]string{}
	for _, tr := range trs {
		latest[tr.SessionID] = tr.RefreshToken
	}
	// One client per session (a client holds one chain of tokens; two
	// clients sharing one would present stale tokens and be revoked for
	// reuse, rightly), all of them against the revocation.
	for _, tr := range trs {
		for range 1 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					mu.Lock()
					rt := latest[tr.SessionID]
					mu.Unlock()
					r, err := f.refresh(rt)
					if err != nil {
						if errors.Is(err, core.ErrInvalidGrant) {
							return
						}
						continue
					}
					mu.Lock()
					latest[tr.SessionID] = r.RefreshToken
					mu.Unlock()
				}
			})
		}
	}
	time.Sleep(20 * time.Millisecond)
	n, err := f.Service.RevokeSubject(context.Background(), f.UserID)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("RevokeSubject under refresh load: %v (revoked %d)", err, n)
	}
	if n != sessions {
		t.Fatalf("RevokeSubject revoked %d sessions, want %d", n, sessions)
	}
	for _, tr := range trs {
		s := f.session(tr)
		if s.RevokedAt.IsZero() || s.RevokeReason != "subject" {
			t.Fatalf("session %s: revoked %v reason %q after RevokeSubject", tr.SessionID, s.RevokedAt, s.RevokeReason)
		}
		if _, err := f.refresh(latest[tr.SessionID]); err == nil {
			t.Fatalf("session %s refreshed after RevokeSubject", tr.SessionID)
		}
	}
}

// Truncated, extended, re-encoded and padded tokens: malformed, nothing
// revoked, the real token still works.
func atkForgedShapes(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, _, _ := atkFixture(t, newStore, quiet)
	tr := f.login()
	rt := tr.RefreshToken
	raw, _ := base64.RawURLEncoding.DecodeString(rt)
	shapes := []string{
		"", rt[:len(rt)-1], rt[1:], rt + "A", rt + "=", rt + "==", "A" + rt,
		base64.URLEncoding.EncodeToString(raw), base64.RawStdEncoding.EncodeToString(raw),
		base64.RawURLEncoding.EncodeToString(append(raw, 0)), base64.RawURLEncoding.EncodeToString(raw[:len(raw)-1]),
		" " + rt, rt + "\n", rt[:len(rt)-1] + "\x00",
	}
	for i, s := range shapes {
		if s == rt {
			continue
		}
		_, err := f.refresh(s)
		f.wantGrant(err, "")
		if s == "" {
			continue
		}
		if err := f.Service.Logout(context.Background(), core.LogoutInput{RefreshToken: s}); err != nil {
			t.Fatalf("shape %d: logout: %v", i, err)
		}
	}
	if s := f.session(tr); !s.RevokedAt.IsZero() || s.Generation != 0 {
		t.Fatalf("malformed tokens changed the session: revoked %v generation %d", s.RevokedAt, s.Generation)
	}
	f.mustRefresh(rt)
}

// reforge returns rt with its generation set to gen and a tag that holds
// under the secret the token carries (anyone holding a token can do this).
func reforge(t *testing.T, rt string, gen uint64) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(rt)
	if err != nil || len(raw) != 105 {
		t.Fatalf("unexpected refresh token layout: %d bytes, %v", len(raw), err)
	}
	binary.BigEndian.PutUint64(raw[17:25], gen)
	body := raw[:89]
	m := hmac.New(sha256.New, raw[57:89])
	m.Write([]byte("authguard refresh-token tag\x00"))
	m.Write(body)
	copy(raw[89:], m.Sum(nil)[:16])
	return base64.RawURLEncoding.EncodeToString(raw)
}

// Generations no lineage can reach: negative, MaxInt64, past 2^62. They are
// malformed, reach no session and revoke nothing; a reachable but future
// generation carried with the session's secret is reuse. The reforge helper
// is checked against a token the core minted.
func atkForgedGenerations(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, _, _ := atkFixture(t, newStore, quiet)
	tr := f.login()
	if reforge(t, tr.RefreshToken, 0) != tr.RefreshToken {
		t.Fatal("the test's idea of the token layout is wrong")
	}
	for _, g := range []uint64{math.MaxUint64, 1 << 63, math.MaxInt64, 1<<62 + 1} {
		_, err := f.refresh(reforge(t, tr.RefreshToken, g))
		f.wantGrant(err, "malformed_token")
	}
	if s := f.session(tr); !s.RevokedAt.IsZero() {
		t.Fatal("an unreachable generation revoked the session")
	}
	cur := f.mustRefresh(tr.RefreshToken)
	// The current generation with another nonce: not the current token.
	_, err := f.refresh(reforge(t, tr.RefreshToken, 1))
	f.wantGrant(err, "reuse_detected")
	if f.alive(cur.AccessToken) {
		t.Fatal("a forgery under the session's secret did not revoke the session")
	}
	// 2^62 parses: it is reuse, and the increment past it cannot overflow.
	tr2 := f.login()
	_, err = f.refresh(reforge(t, tr2.RefreshToken, 1<<62))
	f.wantGrant(err, "reuse_detected")
}

// A token carrying the victim's session id under the attacker's own secret
// and a tag that holds: forged, nothing revoked, for every generation.
func atkForeignSecret(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, _, _ := atkFixture(t, newStore, quiet)
	victim, attacker := f.login(), f.login()
	v, _ := base64.RawURLEncoding.DecodeString(victim.RefreshToken)
	a, _ := base64.RawURLEncoding.DecodeString(attacker.RefreshToken)
	copy(a[1:17], v[1:17])
	mixed := base64.RawURLEncoding.EncodeToString(a)
	for _, g := range []uint64{0, 1, 2, 1000} {
		_, err := f.refresh(reforge(t, mixed, g))
		f.wantGrant(err, "forged_token")
		if err := f.Service.Logout(context.Background(), core.LogoutInput{RefreshToken: reforge(t, mixed, g)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tr := range []*core.TokenResponse{victim, attacker} {
		if s := f.session(tr); !s.RevokedAt.IsZero() {
			t.Fatalf("session %s revoked by a foreign-secret forgery", tr.SessionID)
		}
		f.mustRefresh(tr.RefreshToken)
	}
}

// Within the grace window the previous and the current token are presented
// by many goroutines at once (two tabs, one retrying). Whatever happens,
// there is at most one lineage: every success for the previous token got the
// same successor, every success for the current token got the same one, and
// the tokens handed out are the session's if it is alive.
func atkPreviousVsCurrent(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, _, _ := atkFixture(t, newStore, quiet)
	for round := range 5 {
		t0 := f.login()
		t1 := f.mustRefresh(t0.RefreshToken)
		var wg sync.WaitGroup
		start := make(chan struct{})
		var mu sync.Mutex
		got := map[string]map[string]bool{t0.RefreshToken: {}, t1.RefreshToken: {}}
		for i := range 24 {
			rt := t0.RefreshToken
			if i%2 == 1 {
				rt = t1.RefreshToken
			}
			wg.Go(func() {
				<-start
				r, err := f.refresh(rt)
				if err != nil {
					if !errors.Is(err, core.ErrInvalidGrant) {
						t.Errorf("round %d: %v", round, err)
					}
					return
				}
				mu.Lock()
				got[rt][r.RefreshToken] = true
				mu.Unlock()
			})
		}
		close(start)
		wg.Wait()
		if len(got[t0.RefreshToken]) > 1 || len(got[t1.RefreshToken]) > 1 {
			t.Fatalf("round %d: %d successors for the previous token, %d for the current: more than one lineage",
				round, len(got[t0.RefreshToken]), len(got[t1.RefreshToken]))
		}
		for succ := range got[t0.RefreshToken] {
			if succ != t1.RefreshToken {
				t.Fatalf("round %d: a replay of the previous token did not return the current one", round)
			}
		}
		s := f.session(t0)
		if s.RevokedAt.IsZero() {
			if s.Generation != 2 || len(got[t1.RefreshToken]) != 1 {
				t.Fatalf("round %d: live session at generation %d", round, s.Generation)
			}
			for succ := range got[t1.RefreshToken] {
				f.mustRefresh(succ)
			}
		}
	}
}

// 100 presentations of the previous token, half by an instance whose clock
// reads exactly the end of the grace window and half by one a millisecond
// past it. The late half detects reuse; nothing issued afterwards survives,
// no caller gets a 503, and at most RefreshGraceReplays replays are served.
func atkGraceEdgeStorm(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, fs, _ := atkFixture(t, newStore, quiet)
	t0 := f.login()
	t1 := f.mustRefresh(t0.RefreshToken)
	edge := f.Clock.Now().Add(f.Service.Config().RefreshGrace)
	f.Clock.Set(edge)
	late := authtest.NewClock(edge.Add(time.Millisecond))
	cfg := withSharedKeys(f.Fixture, fs.Store)
	quiet(&cfg)
	cfg.Now = late.Now
	b, err := core.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var wg sync.WaitGroup
	start := make(chan struct{})
	var replays atomic.Int32
	for i := range 100 {
		svc := f.Service
		if i%2 == 1 {
			svc = b
		}
		wg.Go(func() {
			<-start
			r, err := svc.Refresh(context.Background(), t0.RefreshToken, core.ClientInfo{})
			switch {
			case err == nil:
				replays.Add(1)
				if r.RefreshToken != t1.RefreshToken {
					t.Error("a replay returned another successor")
				}
			case errors.Is(err, core.ErrInvalidGrant):
			default:
				t.Errorf("presentation at the grace edge: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if n := int(replays.Load()); n > f.Service.Config().RefreshGraceReplays {
		t.Fatalf("%d replays served, more than the bound", n)
	}
	if s := f.session(t1); s.RevokedAt.IsZero() {
		t.Fatal("the late presentations did not revoke the session")
	}
	if _, err := f.refresh(t1.RefreshToken); err == nil {
		t.Fatal("the successor refreshed after reuse was detected")
	}
}

// The clock steps back an hour after a rotation and then forward again: the
// previous token is a replay while the clock is behind (never reuse of the
// current token), and reuse once it is past the window again; the current
// token keeps its lineage.
func atkClockBack(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, _, _ := atkFixture(t, newStore, quiet)
	t0 := f.login()
	t1 := f.mustRefresh(t0.RefreshToken)
	f.Clock.Advance(-time.Hour)
	r := f.mustRefresh(t0.RefreshToken)
	if r.RefreshToken != t1.RefreshToken {
		t.Fatal("replay while the clock is behind returned another successor")
	}
	if r.ExpiresIn <= 0 || r.RefreshExpiresIn <= 0 {
		t.Fatalf("replay while the clock is behind: expires in %d, refresh expires in %d", r.ExpiresIn, r.RefreshExpiresIn)
	}
	t2 := f.mustRefresh(t1.RefreshToken) // rotation with the clock behind
	f.Clock.Advance(time.Hour + time.Minute)
	if s := f.session(t2); !s.Active(f.Clock.Now()) {
		t.Fatalf("a rotation with the clock behind left the session inactive once it caught up: %+v", s)
	}
	_, err := f.refresh(t1.RefreshToken)
	f.wantGrant(err, "reuse_detected")
}

// A session goes through rotations, grace replays, lost answers, refused
// writes, repairs and retries; its footprint does not grow.
func atkFootprint(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, fs, _ := atkFixture(t, newStore, quiet)
	fp, ok := fs.Store.(store.Footprinter)
	if !ok {
		t.Skipf("%T does not implement store.Footprinter", fs.Store)
	}
	tr := f.login()
	cur := f.mustRefresh(tr.RefreshToken)
	before, err := fp.Footprint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		f.Clock.Advance(time.Second)
		switch i % 4 {
		case 0:
			fs.mode.Store(failAfter)
			_, err := f.refresh(cur.RefreshToken)
			f.wantUnavailable(err)
			fs.heal()
			f.Clock.Advance(time.Minute)
			cur = f.mustRefresh(cur.RefreshToken) // the retry of the lost rotation
		case 1:
			fs.mode.Store(failBefore)
			_, err := f.refresh(cur.RefreshToken)
			f.wantUnavailable(err)
			fs.heal()
		case 2:
			prev := cur
			cur = f.mustRefresh(cur.RefreshToken)
			f.mustRefresh(prev.RefreshToken)
			f.mustRefresh(prev.RefreshToken)
		default:
			cur = f.mustRefresh(cur.RefreshToken)
		}
	}
	after, err := fp.Footprint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Fatalf("footprint %+v after 200 rounds of rotations, replays and repairs, %+v before", after, before)
	}
}
