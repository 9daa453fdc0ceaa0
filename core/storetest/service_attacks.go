package storetest

// Adversarial cases of the refresh-token lineage: failures in unlucky
// orders, forged tokens, racing clients and instances, clock jumps. Each
// case says what it attacks. RunService runs them after the rules.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/store"
)

var attackCases = []serviceCase{
	// The 503 promise: a client that only retried is never logged out.
	{"replay_writes_lost_twice_then_retry", atkReplayWriteLostTwice},
	{"replay_writes_lost_until_replays_exhausted", atkReplayWritesLostExhaust},
	{"lookup_fails_then_store_fails_then_retry", atkLookupThenStoreFails},
	{"lost_replay_on_other_instance_is_remembered_there", atkLostRotationOtherInstance},
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
