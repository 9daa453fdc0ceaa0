package storetest

// Adversarial cases of the refresh-token lineage: failures in unlucky
// orders, forged tokens, racing clients and instances, clock jumps. Each
// case says what it attacks. RunService runs them after the rules.

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

var attackCases = []serviceCase{
	// The 503 promise: a client that only retried is never logged out.
	{"replay_writes_lost_twice_then_retry", atkReplayWriteLostTwice},
	{"replay_writes_lost_until_replays_exhausted", atkReplayWritesLostExhaust},
	{"lookup_fails_then_store_fails_then_retry", atkLookupThenStoreFails},
	{"lost_rotation_retried_on_other_instance_after_crash", atkLostRotationOtherInstance},
	{"context_cancelled_before_write", atkCancelledBeforeWrite},
	// Reuse detection must not be weakened by the repair of lost rotations.
	{"refused_write_does_not_open_retry_of_answered_rotation", atkFalseRepairNote},
	{"retry_open_previous_after_successor_used_is_reuse", atkRetryOpenThenSuccessorUsed},
	{"lookup_down_while_token_reused_still_revokes", atkLookupDownDuringReuse},
	// Revocation is never undone.
	{"logout_lost_answer_then_retry_refuses_access_at_once", atkLogoutLostAnswer},
	{"reuse_revocation_lost_answer_refuses_access_at_once", atkReuseRevocationLostAnswer},
	{"logout_at_idle_deadline_then_clock_steps_back", atkLogoutAtIdleDeadlineClockBack},
	{"revoke_subject_at_idle_deadline_then_clock_steps_back", atkRevokeSubjectClockBack},
	{"refresh_races_logout", atkRefreshVsLogout},
	{"revoke_subject_races_refreshes", atkRevokeSubjectVsRefresh},
	// Forged tokens.
	{"forged_lengths_and_alphabets", atkForgedShapes},
	{"forged_generations_with_valid_tag", atkForgedGenerations},
	{"foreign_secret_with_victim_id", atkForeignSecret},
	// Races on one lineage.
	{"previous_and_current_presented_together", atkPreviousVsCurrent},
	{"hundred_presentations_at_grace_edge", atkGraceEdgeStorm},
	// Clock.
	{"clock_steps_back_around_grace", atkClockBack},
	// Storage.
	{"footprint_constant_with_replays_and_repairs", atkFootprint},
}

// quiet makes the poller (revocation feed, repairs) as good as absent in a
// test: only what a request does is observed.
func quiet(c *core.Config) {
	c.RevocationPollInterval = time.Hour
	c.RevocationMaxStaleness = 2 * time.Hour
}

// atkFixture is faultFixture: a fixture over a faultStore and a faultAuth.
var atkFixture = faultFixture

// neverInvalid fails if err is an invalid_grant: the client only retried
// after 503s.
func neverInvalid(t *testing.T, err error, what string) {
	t.Helper()
	if errors.Is(err, core.ErrInvalidGrant) {
		t.Fatalf("%s: %v (reason %q): a client that only retried after 503s was refused", what, err, core.ReasonOf(err))
	}
}

// The rotation's write lands but its answer is lost, and so does the answer
// of the first replay that retries it. The client retries a third time, an
// hour later: it must still get the committed successor.
func atkReplayWriteLostTwice(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, fs, _ := atkFixture(t, newStore, quiet)
	tr := f.login()
	fs.mode.Store(failAfter)
	for i := range 2 {
		_, err := f.refresh(tr.RefreshToken)
		f.wantUnavailable(err)
		if s := f.session(tr); s.Generation != 1 {
			t.Fatalf("attempt %d: generation %d, want 1", i, s.Generation)
		}
	}
	fs.heal()
	f.Clock.Advance(time.Hour)
	next, err := f.refresh(tr.RefreshToken)
	neverInvalid(t, err, "third retry")
	if err != nil {
		t.Fatal(err)
	}
	f.mustRefresh(next.RefreshToken)
}

// Every answer is lost while the store keeps committing: the rotation, then
// one replay per retry. After RefreshGraceReplays lost replays the client,
// which has never received any token but the one it holds, is refused for
// good once the store recovers: grace_replays_exhausted. The replay budget
// is spent by writes whose answers never reached anyone.
func atkReplayWritesLostExhaust(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, fs, _ := atkFixture(t, newStore, quiet)
	tr := f.login()
	fs.mode.Store(failAfter)
	retries := f.Service.Config().RefreshGraceReplays + 1
	for range retries {
		_, err := f.refresh(tr.RefreshToken)
		f.wantUnavailable(err)
	}
	fs.heal()
	next, err := f.refresh(tr.RefreshToken)
	neverInvalid(t, err, "retry after the outage")
	if err != nil {
		t.Fatal(err)
	}
	f.mustRefresh(next.RefreshToken)
}

// The user store fails, then the session store refuses the write, then the
// session store loses an answer; the client retries each time and must end
// with one live lineage.
func atkLookupThenStoreFails(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, fs, fa := atkFixture(t, newStore, quiet)
	tr := f.login()
	fa.down.Store(true)
	_, err := f.refresh(tr.RefreshToken)
	f.wantUnavailable(err)
	fa.down.Store(false)
	fs.mode.Store(failBefore)
	_, err = f.refresh(tr.RefreshToken)
	f.wantUnavailable(err)
	fs.mode.Store(failAfter)
	_, err = f.refresh(tr.RefreshToken)
	f.wantUnavailable(err)
	fs.heal()
	fa.down.Store(true)
	f.Clock.Advance(time.Minute)
	_, err = f.refresh(tr.RefreshToken)
	f.wantUnavailable(err)
	fa.down.Store(false)
	f.Clock.Advance(time.Hour)
	next, err := f.refresh(tr.RefreshToken)
	neverInvalid(t, err, "retry after the outages")
	if err != nil {
		t.Fatal(err)
	}
	last := f.mustRefresh(next.RefreshToken)
	if s := f.session(last); !s.RevokedAt.IsZero() || s.Generation != 2 {
		t.Fatalf("revoked %v, generation %d; want a live session at generation 2", s.RevokedAt, s.Generation)
	}
}

// Instance A commits a rotation and loses its answer (503); the client's
// retry reaches instance B inside the grace window, B serves it as a replay
// and loses that answer too. A's note no longer matches the store (the replay
// moved the version on), so B must remember its own: once the store is back,
// the rotation is recorded as open for retry, and a retry long after the
// window succeeds on either instance.
func atkLostRotationOtherInstance(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, fs, _ := atkFixture(t, newStore, nil)
	tr := f.login()
	fs.mode.Store(failAfter)
	_, err := f.refresh(tr.RefreshToken)
	f.wantUnavailable(err)
	fs.heal()
	b, err := core.New(withSharedKeys(f.Fixture, fs))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	fs.mode.Store(failAfter)
	_, err = b.Refresh(context.Background(), tr.RefreshToken, core.ClientInfo{})
	f.wantUnavailable(err)
	fs.heal()
	deadline := time.Now().Add(3 * time.Second)
	for !f.session(tr).RetryOpen {
		if time.Now().After(deadline) {
			t.Fatal("the lost replay was not recorded as open for retry")
		}
		time.Sleep(20 * time.Millisecond)
	}
	f.Clock.Advance(time.Hour)
	viaA := f.mustRefresh(tr.RefreshToken)
	viaB, err := b.Refresh(context.Background(), tr.RefreshToken, core.ClientInfo{})
	neverInvalid(t, err, "retry on instance B")
	if err != nil || viaB.RefreshToken != viaA.RefreshToken {
		t.Fatalf("retry on B: %v (same successor as A: %v)", err, err == nil && viaB.RefreshToken == viaA.RefreshToken)
	}
	f.mustRefresh(viaA.RefreshToken)
}

// The request's context is cancelled between the read and the write: 503,
// and the token keeps working later.
func atkCancelledBeforeWrite(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, fs, _ := atkFixture(t, newStore, quiet)
	tr := f.login()
	ctx, cancel := context.WithCancel(context.Background())
	fs.mu.Lock()
	fs.hook = func(store.Update) int32 { cancel(); return writeOK }
	fs.mu.Unlock()
	_, err := f.Service.Refresh(ctx, tr.RefreshToken, core.ClientInfo{})
	if err == nil {
		t.Fatal("a refresh whose context was cancelled before the write succeeded")
	}
	neverInvalid(t, err, "cancelled refresh")
	fs.mu.Lock()
	fs.hook = nil
	fs.mu.Unlock()
	f.Clock.Advance(time.Hour)
	next, err := f.refresh(tr.RefreshToken)
	neverInvalid(t, err, "retry after the cancelled refresh")
	if err != nil {
		t.Fatal(err)
	}
	f.mustRefresh(next.RefreshToken)
}

// The store refuses a rotation's write outright (nothing lands), the client
// retries at once and the rotation succeeds: the client holds the new token.
// A thief who holds the old one presents it an hour later. That is reuse
// (rule 4): the rotation was answered. But the core remembered the refused
// write as "possibly lost" by version only, and the answered rotation wrote
// that very version, so the thief is served the current token.
func atkFalseRepairNote(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, fs, _ := atkFixture(t, newStore, quiet)
	tr := f.login()
	fs.mode.Store(failBefore)
	_, err := f.refresh(tr.RefreshToken)
	f.wantUnavailable(err)
	fs.heal()
	legit := f.mustRefresh(tr.RefreshToken) // the client got it: nothing is lost
	f.Clock.Advance(time.Hour)
	stolen, err := f.refresh(tr.RefreshToken)
	if err == nil {
		t.Fatalf("an old token, after the grace window, of a rotation that was answered, was served the live token (same as the client's: %v)",
			stolen.RefreshToken == legit.RefreshToken)
	}
	f.wantGrant(err, "reuse_detected")
	if s := f.session(legit); s.RevokedAt.IsZero() {
		t.Fatal("reuse did not revoke the session")
	}
}

// A lost rotation is retried (RetryOpen), its successor is then used; the
// lost rotation's predecessor is now two generations old: reuse.
func atkRetryOpenThenSuccessorUsed(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, fs, _ := atkFixture(t, newStore, quiet)
	tr := f.login()
	fs.mode.Store(failAfter)
	_, err := f.refresh(tr.RefreshToken)
	f.wantUnavailable(err)
	fs.heal()
	f.Clock.Advance(time.Hour)
	got := f.mustRefresh(tr.RefreshToken)
	f.Clock.Advance(time.Second)
	f.mustRefresh(got.RefreshToken)
	f.Clock.Advance(time.Hour)
	_, err = f.refresh(tr.RefreshToken)
	f.wantGrant(err, "reuse_detected")
	_, err = f.refresh(got.RefreshToken) // the previous one, after its window
	f.wantGrant(err, "")
	if s := f.session(got); s.RevokedAt.IsZero() {
		t.Fatal("reuse after a repaired rotation did not revoke the session")
	}
}

// The user store is down while a thief presents an old token: reuse is
// decided before the lookup, so the session is revoked all the same.
func atkLookupDownDuringReuse(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, _, fa := atkFixture(t, newStore, quiet)
	tr := f.login()
	next := f.mustRefresh(tr.RefreshToken)
	f.Clock.Advance(time.Minute)
	fa.down.Store(true)
	_, err := f.refresh(tr.RefreshToken)
	f.wantGrant(err, "reuse_detected")
	fa.down.Store(false)
	if s := f.session(next); s.RevokedAt.IsZero() {
		t.Fatal("reuse while the user store was down revoked nothing")
	}
}

// Logout's write lands but its answer is lost (503); the client retries and
// gets success. Access tokens of a logged-out session must stop working at
// once on this instance, not only after the next feed read.
func atkLogoutLostAnswer(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, fs, _ := atkFixture(t, newStore, quiet)
	tr := f.login()
	fs.mode.Store(failAfter)
	err := f.Service.Logout(context.Background(), core.LogoutInput{RefreshToken: tr.RefreshToken})
	f.wantUnavailable(err)
	fs.heal()
	if err := f.Service.Logout(context.Background(), core.LogoutInput{RefreshToken: tr.RefreshToken}); err != nil {
		t.Fatalf("retried logout: %v", err)
	}
	if f.alive(tr.AccessToken) {
		t.Fatal("after a logout that answered success, the session's access token still passes the guard on this instance")
	}
	_, err = f.refresh(tr.RefreshToken)
	f.wantGrant(err, "session_revoked")
}

// A thief presents an old token; the reuse revocation lands but its answer
// is lost (503). Every later presentation sees a revoked session. The
// session's access tokens (the thief's included) must be refused on this
// instance as they are after an answered revocation, not only after the next
// feed read.
func atkReuseRevocationLostAnswer(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, fs, _ := atkFixture(t, newStore, quiet)
	t0 := f.login()
	t1 := f.mustRefresh(t0.RefreshToken)
	f.Clock.Advance(time.Minute)
	fs.mode.Store(failAfter)
	_, err := f.refresh(t0.RefreshToken)
	f.wantUnavailable(err)
	fs.heal()
	if s := f.session(t1); s.RevokedAt.IsZero() {
		t.Fatal("the injected fault did not let the revocation land")
	}
	_, err = f.refresh(t0.RefreshToken)
	f.wantGrant(err, "session_revoked")
	_, err = f.refresh(t1.RefreshToken)
	f.wantGrant(err, "session_revoked")
	if f.alive(t1.AccessToken) {
		t.Fatal("a session revoked for reuse (answer lost, then seen revoked twice) still passes the guard on this instance")
	}
}

// Logout lands exactly on the idle deadline (this instance's clock is a
// little ahead, or the request was slow). It answers success but writes
// nothing, so when the clock steps back (NTP, or another instance a second
// behind) the "logged out" session refreshes again.
func atkLogoutAtIdleDeadlineClockBack(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, _, _ := atkFixture(t, newStore, func(c *core.Config) {
		quiet(c)
		c.RefreshIdleTTL = time.Hour
	})
	tr := f.login()
	f.Clock.Advance(time.Hour)
	if err := f.Service.Logout(context.Background(), core.LogoutInput{RefreshToken: tr.RefreshToken}); err != nil {
		t.Fatalf("logout: %v", err)
	}
	f.Clock.Advance(-2 * time.Second)
	if _, err := f.refresh(tr.RefreshToken); err == nil {
		t.Fatal("a session whose logout answered success refreshed after the clock stepped back 2s")
	}
}

// The same for RevokeSubject (an account disabled at the idle deadline of
// one of its sessions): a session it skipped comes back.
func atkRevokeSubjectClockBack(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, _, _ := atkFixture(t, newStore, func(c *core.Config) {
		quiet(c)
		c.RefreshIdleTTL = time.Hour
	})
	tr := f.login()
	f.Clock.Advance(time.Hour)
	if _, err := f.Service.RevokeSubject(context.Background(), f.UserID); err != nil {
		t.Fatal(err)
	}
	f.Clock.Advance(-2 * time.Second)
	if _, err := f.refresh(tr.RefreshToken); err == nil {
		t.Fatal("a session of a revoked subject refreshed after the clock stepped back 2s")
	}
}

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
