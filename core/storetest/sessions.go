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
	{"InputNotAliased", testCreateNotAliased},
	{"ListSessions", testListSessions},
}

func testCreateAndGet(t *testing.T, st store.Store) {
	ctx := t.Context()
	want := newSession("s1", "alice", at(0))
	h := digest("s1", 0)
	mustCreate(t, st, want, h)

	got := mustSession(t, st, "s1")
	checkSession(t, "Session", got, want)
	if got.Successor != nil && len(got.Successor) != 0 {
		t.Errorf("Successor = %x, want empty before the first rotation", got.Successor)
	}
	if !got.Active(at(time.Minute)) {
		t.Errorf("new session not Active")
	}

	bt, gen, err := st.SessionByToken(ctx, h)
	if err != nil {
		t.Fatalf("SessionByToken(gen 0): %v", err)
	}
	if gen != 0 {
		t.Errorf("SessionByToken generation = %d, want 0", gen)
	}
	checkSession(t, "SessionByToken", bt, want)

	// A second session of the same subject is independent.
	want2 := newSession("s2", "alice", at(time.Second))
	want2.DeviceName = ""
	want2.IP = "2001:db8::1"
	mustCreate(t, st, want2, digest("s2", 0))
	checkSession(t, "second session", mustSession(t, st, "s2"), want2)
	checkSession(t, "first session after second create", mustSession(t, st, "s1"), want)
}

func testTimeRoundTrip(t *testing.T, st store.Store) {
	// Sub-millisecond parts and a non-UTC zone: the store returns UTC and keeps
	// at least millisecond precision (it may truncate below that).
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	base := time.Date(2031, time.July, 8, 9, 10, 11, 987654321, zone)
	s := newSession("tz", "bob", base)
	s.AuthTime = base.Add(-1500 * time.Microsecond)
	s.IdleExpiresAt = base.Add(time.Hour + 123456*time.Nanosecond)
	s.AbsoluteExpiresAt = base.Add(48*time.Hour + 999999*time.Nanosecond)
	mustCreate(t, st, s, digest("tz"))
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

	// Times written by Rotate and RevokeSession also round-trip.
	when := time.Date(2031, time.July, 8, 9, 30, 0, 456789012, zone)
	idle := when.Add(time.Hour)
	rotate(t, st, digest("tz"), rotateTo(digest("tz", 1), []byte{1}, when, idle))
	got = mustSession(t, st, "tz")
	if !sameTime(got.RotatedAt, when) || !sameTime(got.LastUsedAt, when) || !sameTime(got.IdleExpiresAt, idle) {
		t.Errorf("after Rotate: RotatedAt=%v LastUsedAt=%v IdleExpiresAt=%v, want %v, %v, %v",
			got.RotatedAt, got.LastUsedAt, got.IdleExpiresAt, when.UTC(), when.UTC(), idle.UTC())
	}
	rev := when.Add(time.Minute + 777*time.Microsecond)
	if ok, err := st.RevokeSession(t.Context(), "tz", rev, "logout"); err != nil || !ok {
		t.Fatalf("RevokeSession = %v, %v; want true, nil", ok, err)
	}
	got = mustSession(t, st, "tz")
	if !sameTime(got.RevokedAt, rev) {
		t.Errorf("RevokedAt = %v, want %v", got.RevokedAt, rev.UTC())
	}
	f := feed(t, st, 0, 0)
	if len(f) != 1 || !sameTime(f[0].RevokedAt, rev) {
		t.Errorf("feed = %+v, want one entry at %v", f, rev.UTC())
	}
}

func testCreateConflict(t *testing.T, st store.Store) {
	ctx := t.Context()
	mustCreate(t, st, newSession("a", "alice", at(0)), digest("a"))

	// Same id, new digest.
	err := st.CreateSession(ctx, newSession("a", "bob", at(time.Second)), digest("other"))
	if !isConflict(err) {
		t.Errorf("duplicate id: err = %v, want ErrConflict", err)
	}
	if _, _, err := st.SessionByToken(ctx, digest("other")); !isNotFound(err) {
		t.Errorf("digest of a refused create: err = %v, want ErrNotFound", err)
	}
	if got := mustSession(t, st, "a"); got.Subject != "alice" {
		t.Errorf("refused create overwrote the session: Subject = %q", got.Subject)
	}

	// New id, same digest.
	err = st.CreateSession(ctx, newSession("b", "bob", at(time.Second)), digest("a"))
	if !isConflict(err) {
		t.Errorf("duplicate digest: err = %v, want ErrConflict", err)
	}
	if _, err := st.Session(ctx, "b"); !isNotFound(err) {
		t.Errorf("session of a refused create: err = %v, want ErrNotFound", err)
	}
	if s, _, err := st.SessionByToken(ctx, digest("a")); err != nil || s.ID != "a" {
		t.Errorf("digest now resolves to %q, %v; want a", s.ID, err)
	}

	// A digest of a later generation is taken as well.
	rotate(t, st, digest("a"), rotateTo(digest("a", 1), nil, at(time.Minute), at(time.Hour)))
	err = st.CreateSession(ctx, newSession("c", "carol", at(time.Second)), digest("a", 1))
	if !isConflict(err) {
		t.Errorf("digest of generation 1: err = %v, want ErrConflict", err)
	}
	if _, err := st.Session(ctx, "c"); !isNotFound(err) {
		t.Errorf("session of a refused create: err = %v, want ErrNotFound", err)
	}
}

func testSessionNotFound(t *testing.T, st store.Store) {
	ctx := t.Context()
	if _, err := st.Session(ctx, "missing"); !isNotFound(err) {
		t.Errorf("Session(missing): err = %v, want ErrNotFound", err)
	}
	if _, _, err := st.SessionByToken(ctx, digest("missing")); !isNotFound(err) {
		t.Errorf("SessionByToken(missing): err = %v, want ErrNotFound", err)
	}
	called := false
	_, _, err := st.Rotate(ctx, digest("missing"), func(store.Session, int64) store.Change {
		called = true
		return store.Change{Kind: store.ChangeRevoke, Reason: "reuse"}
	})
	if !isNotFound(err) {
		t.Errorf("Rotate(missing): err = %v, want ErrNotFound", err)
	}
	if called {
		t.Errorf("Rotate(missing) called decide")
	}
	if f := feed(t, st, 0, 0); len(f) != 0 {
		t.Errorf("feed after Rotate(missing) = %+v, want empty", f)
	}
	// With a session present, other ids and digests are still not found.
	mustCreate(t, st, newSession("x", "alice", at(0)), digest("x"))
	if _, err := st.Session(ctx, "X"); !isNotFound(err) {
		t.Errorf("Session(X) (ids are case-sensitive): err = %v, want ErrNotFound", err)
	}
	h := digest("x")
	h[0] ^= 1
	if _, _, err := st.SessionByToken(ctx, h); !isNotFound(err) {
		t.Errorf("SessionByToken(one bit off): err = %v, want ErrNotFound", err)
	}
	if _, _, err := st.SessionByToken(ctx, digest("x")[:16]); !isNotFound(err) {
		t.Errorf("SessionByToken(prefix): err = %v, want ErrNotFound", err)
	}
}

func testCreateNotAliased(t *testing.T, st store.Store) {
	ctx := t.Context()
	s := newSession("al", "alice", at(0))
	s.Successor = []byte{9, 9, 9}
	h := digest("al")
	mustCreate(t, st, s, h)
	// Mutating the caller's buffers after the call must not change the store.
	h[0] ^= 0xff
	s.Successor[0] = 0
	if _, _, err := st.SessionByToken(ctx, digest("al")); err != nil {
		t.Errorf("digest no longer resolves after the caller reused its buffer: %v", err)
	}
	got := mustSession(t, st, "al")
	if !bytes.Equal(got.Successor, []byte{9, 9, 9}) {
		t.Errorf("Successor = %x, want 090909", got.Successor)
	}
	// Mutating a returned session must not change the store either.
	got.Successor[0] = 1
	if again := mustSession(t, st, "al"); !bytes.Equal(again.Successor, []byte{9, 9, 9}) {
		t.Errorf("Successor after mutating a returned copy = %x, want 090909", again.Successor)
	}
}

func testListSessions(t *testing.T, st store.Store) {
	ctx := t.Context()
	now := at(10 * time.Minute)

	// Created out of order on purpose.
	s2 := newSession("s2", "alice", at(2*time.Minute))
	s1 := newSession("s1", "alice", at(1*time.Minute))
	s3 := newSession("s3", "alice", at(3*time.Minute))
	revoked := newSession("revoked", "alice", at(0))
	revoked.RevokedAt = at(5 * time.Minute)
	revoked.RevokeReason = "logout"
	idleGone := newSession("idle-gone", "alice", at(0))
	idleGone.IdleExpiresAt = now.Add(-time.Millisecond)
	idleAtNow := newSession("idle-at-now", "alice", at(0))
	idleAtNow.IdleExpiresAt = now
	absGone := newSession("abs-gone", "alice", at(30*time.Second))
	absGone.AbsoluteExpiresAt = now
	other := newSession("bob-1", "bob", at(0))
	for i, s := range []store.Session{s2, s1, revoked, idleGone, s3, idleAtNow, absGone, other} {
		mustCreate(t, st, s, digest("list", i))
	}
	// s3 is revoked through the API, the other way to end a session.
	if ok, err := st.RevokeSession(ctx, "s3", at(4*time.Minute), "logout"); err != nil || !ok {
		t.Fatalf("RevokeSession(s3) = %v, %v", ok, err)
	}

	got, err := st.ListSessions(ctx, "alice", now)
	if err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	ids := func(ss []store.Session) []string {
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = s.ID
		}
		return out
	}
	if len(got) != 2 || got[0].ID != "s1" || got[1].ID != "s2" {
		t.Fatalf("ListSessions(alice) = %v, want [s1 s2] (active only, oldest first)", ids(got))
	}
	checkSession(t, "listed s1", got[0], s1)
	checkSession(t, "listed s2", got[1], s2)

	// A millisecond earlier, the sessions whose deadline is now are still active.
	got, err = st.ListSessions(ctx, "alice", now.Add(-time.Millisecond))
	if err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	if want := []string{"idle-at-now", "abs-gone", "s1", "s2"}; !equalStrings(ids(got), want) {
		t.Errorf("ListSessions(alice, now-1ms) = %v, want %v", ids(got), want)
	}

	got, err = st.ListSessions(ctx, "bob", now)
	if err != nil || len(got) != 1 || got[0].ID != "bob-1" {
		t.Errorf("ListSessions(bob) = %v, %v; want [bob-1]", ids(got), err)
	}
	got, err = st.ListSessions(ctx, "nobody", now)
	if err != nil || len(got) != 0 {
		t.Errorf("ListSessions(nobody) = %v, %v; want empty, nil", ids(got), err)
	}
	// After both deadlines everything is gone from the list.
	got, err = st.ListSessions(ctx, "alice", at(48*time.Hour))
	if err != nil || len(got) != 0 {
		t.Errorf("ListSessions(alice, +48h) = %v, %v; want empty", ids(got), err)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
