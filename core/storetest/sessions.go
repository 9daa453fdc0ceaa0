package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/authguard/authguard/core/store"
)

var sessionTests = []subtest{
	{"CreateAndGet", testCreateAndGet},
	{"TimeRoundTrip", testTimeRoundTrip},
	{"CreateConflict", testCreateConflict},
	{"NotFound", testSessionNotFound},
	{"NotAliased", testNotAliased},
	{"ListSessions", testListSessions},
}

// testCreateAndGet: every field the core hands CreateSession comes back from
// Session unchanged, the new ones (TokenDigest, SecretDigest, RetryOpen,
// Version) included, and sessions do not bleed into each other.
func testCreateAndGet(t *testing.T, st store.Store) {
	want := newSession("s1", "alice", at(0))
	mustCreate(t, st, want)
	got := mustSession(t, st, "s1")
	checkSession(t, "Session", got, want)
	if len(got.Successor) != 0 || got.RetryOpen || !got.RotatedAt.IsZero() {
		t.Errorf("a fresh session came back with Successor %x, RetryOpen %v, RotatedAt %v; want none", got.Successor, got.RetryOpen, got.RotatedAt)
	}
	if !got.Active(at(time.Minute)) {
		t.Errorf("new session not Active")
	}

	// A session created with every optional field set (a store persists what
	// it is given and decides nothing, so a create may carry any state).
	full := newSession("s2", "alice", at(time.Second))
	full.DeviceName = ""
	full.IP = "2001:db8::1"
	full.Generation = 7
	full.RotatedAt = at(2 * time.Second)
	full.GraceReplays = 3
	full.Successor = bytes.Repeat([]byte{0, 0xff}, 40)
	full.RetryOpen = true
	full.RevokedAt = at(3 * time.Second)
	full.RevokeReason = "reuse"
	full.Version = 9
	mustCreate(t, st, full)
	checkSession(t, "session with every field set", mustSession(t, st, "s2"), full)
	checkSession(t, "first session after the second create", mustSession(t, st, "s1"), want)
	if f := feed(t, st, 0, 0); len(f) != 0 {
		t.Errorf("CreateSession of a revoked state appended to the feed: %+v (only UpdateSession with Revoked does)", f)
	}
}

// testTimeRoundTrip: times come back in UTC with at least millisecond
// precision whatever zone they were given in, through CreateSession and
// through UpdateSession, and zero times stay zero.
func testTimeRoundTrip(t *testing.T, st store.Store) {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	base := time.Date(2031, time.July, 8, 9, 10, 11, 987654321, zone)
	s := newSession("tz", "bob", base)
	s.AuthTime = base.Add(-1500 * time.Microsecond)
	s.IdleExpiresAt = base.Add(time.Hour + 123456*time.Nanosecond)
	s.AbsoluteExpiresAt = base.Add(48*time.Hour + 999999*time.Nanosecond)
	mustCreate(t, st, s)
	got := mustSession(t, st, "tz")
	checkSession(t, "Session", got, s)
	for name, pair := range map[string][2]time.Time{
		"AuthTime":          {got.AuthTime, s.AuthTime},
		"CreatedAt":         {got.CreatedAt, s.CreatedAt},
		"IdleExpiresAt":     {got.IdleExpiresAt, s.IdleExpiresAt},
		"AbsoluteExpiresAt": {got.AbsoluteExpiresAt, s.AbsoluteExpiresAt},
	} {
		g, w := pair[0], pair[1]
		if g.Before(ms(w)) || g.After(w) {
			t.Errorf("%s = %v, want within [%v, %v] (ms precision or better)", name, g, ms(w), w)
		}
	}
	if !got.RevokedAt.IsZero() || !got.RotatedAt.IsZero() {
		t.Errorf("zero times came back non-zero: RevokedAt=%v RotatedAt=%v", got.RevokedAt, got.RotatedAt)
	}

	// Times written by UpdateSession round-trip too, the feed's included.
	next := rotated(s, time.Date(2031, time.July, 8, 9, 30, 0, 456789012, zone))
	mustUpdate(t, st, next, false)
	checkSession(t, "after a rotation", mustSession(t, st, "tz"), next)
	rev := revoked(next, next.RotatedAt.Add(time.Minute+777*time.Microsecond), "logout")
	mustUpdate(t, st, rev, true)
	checkSession(t, "after a revocation", mustSession(t, st, "tz"), rev)
	f := feed(t, st, 0, 0)
	if len(f) != 1 || !sameTime(f[0].RevokedAt, rev.RevokedAt) {
		t.Errorf("feed = %+v, want one entry at %v", f, rev.RevokedAt.UTC())
	}
}

// testCreateConflict: an existing id is refused with ErrConflict and the
// stored session is left as it was, revoked or pruned-to-be alike.
func testCreateConflict(t *testing.T, st store.Store) {
	ctx := t.Context()
	orig := newSession("a", "alice", at(0))
	mustCreate(t, st, orig)
	dup := newSession("a", "bob", at(time.Second))
	dup.TokenDigest = digest("other")
	if err := st.CreateSession(ctx, dup); !isConflict(err) {
		t.Errorf("duplicate id: err = %v, want ErrConflict", err)
	}
	checkSession(t, "session after a refused create", mustSession(t, st, "a"), orig)

	// Still a conflict after the session was updated and revoked.
	rev := revoked(rotated(orig, at(time.Minute)), at(2*time.Minute), "logout")
	rev.Version = orig.Version + 1
	mustUpdate(t, st, rev, true)
	if err := st.CreateSession(ctx, dup); !isConflict(err) {
		t.Errorf("duplicate id of a revoked session: err = %v, want ErrConflict", err)
	}
	checkSession(t, "revoked session after a refused create", mustSession(t, st, "a"), rev)

	// Two sessions may share digests: the store keys sessions by id only.
	twin := newSession("b", "alice", at(0))
	twin.TokenDigest, twin.SecretDigest = orig.TokenDigest, orig.SecretDigest
	if err := st.CreateSession(ctx, twin); err != nil {
		t.Errorf("a session with another session's digests: %v, want nil (no digest index)", err)
	}
}

// testSessionNotFound: unknown ids are ErrNotFound, ids compare exactly.
func testSessionNotFound(t *testing.T, st store.Store) {
	ctx := t.Context()
	if _, err := st.Session(ctx, "missing"); !isNotFound(err) {
		t.Errorf("Session(missing): err = %v, want ErrNotFound", err)
	}
	mustCreate(t, st, newSession("x", "alice", at(0)))
	for _, id := range []string{"X", "x ", "", "%"} {
		if _, err := st.Session(ctx, id); !isNotFound(err) {
			t.Errorf("Session(%q) (ids compare exactly): err = %v, want ErrNotFound", id, err)
		}
	}
}

// testNotAliased: the store copies byte slices on the way in and on the way
// out, so neither the caller's buffers nor a returned session can change
// what the store holds.
func testNotAliased(t *testing.T, st store.Store) {
	s := newSession("al", "alice", at(0))
	s.Successor = []byte{9, 9, 9}
	want := s
	want.TokenDigest = bytes.Clone(s.TokenDigest)
	want.SecretDigest = bytes.Clone(s.SecretDigest)
	want.Successor = bytes.Clone(s.Successor)
	mustCreate(t, st, s)
	s.TokenDigest[0] ^= 0xff
	s.SecretDigest[0] ^= 0xff
	s.Successor[0] = 0
	got := mustSession(t, st, "al")
	checkSession(t, "after the caller reused its buffers", got, want)
	got.TokenDigest[0] ^= 0xff
	got.SecretDigest[0] ^= 0xff
	got.Successor[0] = 1
	checkSession(t, "after mutating a returned copy", mustSession(t, st, "al"), want)

	// The same through UpdateSession.
	next := rotated(want, at(time.Minute))
	wantNext := next
	wantNext.TokenDigest = bytes.Clone(next.TokenDigest)
	wantNext.SecretDigest = bytes.Clone(next.SecretDigest)
	wantNext.Successor = bytes.Clone(next.Successor)
	mustUpdate(t, st, next, false)
	next.TokenDigest[0] ^= 0xff
	next.SecretDigest[1] ^= 0xff
	next.Successor[0] ^= 0xff
	checkSession(t, "after the caller reused the buffers of an update", mustSession(t, st, "al"), wantNext)
	listed, err := st.ListSessions(t.Context(), "alice", at(2*time.Minute))
	if err != nil || len(listed) != 1 {
		t.Fatalf("ListSessions = %d sessions, %v", len(listed), err)
	}
	listed[0].TokenDigest[0] ^= 0xff
	listed[0].Successor[0] ^= 0xff
	checkSession(t, "after mutating a listed copy", mustSession(t, st, "al"), wantNext)
}

// testListSessions: only the subject's active sessions (not revoked, both
// deadlines strictly after now), oldest first, every field intact.
func testListSessions(t *testing.T, st store.Store) {
	ctx := t.Context()
	now := at(10 * time.Minute)

	// Created out of order on purpose.
	s2 := newSession("s2", "alice", at(2*time.Minute))
	s1 := newSession("s1", "alice", at(1*time.Minute))
	s3 := newSession("s3", "alice", at(3*time.Minute))
	revokedAtCreate := newSession("revoked", "alice", at(0))
	revokedAtCreate.RevokedAt = at(5 * time.Minute)
	revokedAtCreate.RevokeReason = "logout"
	idleGone := newSession("idle-gone", "alice", at(0))
	idleGone.IdleExpiresAt = now.Add(-time.Millisecond)
	idleAtNow := newSession("idle-at-now", "alice", at(0))
	idleAtNow.IdleExpiresAt = now
	absGone := newSession("abs-gone", "alice", at(30*time.Second))
	absGone.AbsoluteExpiresAt = now
	other := newSession("bob-1", "bob", at(0))
	for _, s := range []store.Session{s2, s1, revokedAtCreate, idleGone, s3, idleAtNow, absGone, other} {
		mustCreate(t, st, s)
	}
	// s3 is revoked by an update, the other way a session ends; s2 rotates.
	mustUpdate(t, st, revoked(s3, at(4*time.Minute), "logout"), true)
	s2 = rotated(s2, at(5*time.Minute))
	mustUpdate(t, st, s2, false)

	ids := func(ss []store.Session) []string {
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = s.ID
		}
		return out
	}
	got, err := st.ListSessions(ctx, "alice", now)
	if err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	if len(got) != 2 || got[0].ID != "s1" || got[1].ID != "s2" {
		t.Fatalf("ListSessions(alice) = %v, want [s1 s2] (active only, oldest first)", ids(got))
	}
	checkSession(t, "listed s1", got[0], s1)
	checkSession(t, "listed s2", got[1], s2)

	// A millisecond earlier, the sessions whose deadline is now are still active.
	got, err = st.ListSessions(ctx, "alice", now.Add(-time.Millisecond))
	if want := []string{"idle-at-now", "abs-gone", "s1", "s2"}; err != nil || !equalStrings(ids(got), want) {
		t.Errorf("ListSessions(alice, now-1ms) = %v, %v; want %v", ids(got), err, want)
	}
	got, err = st.ListSessions(ctx, "bob", now)
	if err != nil || len(got) != 1 || got[0].ID != "bob-1" {
		t.Errorf("ListSessions(bob) = %v, %v; want [bob-1]", ids(got), err)
	}
	got, err = st.ListSessions(ctx, "nobody", now)
	if err != nil || len(got) != 0 {
		t.Errorf("ListSessions(nobody) = %v, %v; want empty, nil", ids(got), err)
	}
	got, err = st.ListSessions(ctx, "alice", at(48*time.Hour))
	if err != nil || len(got) != 0 {
		t.Errorf("ListSessions(alice, +48h) = %v, %v; want empty", ids(got), err)
	}
}
