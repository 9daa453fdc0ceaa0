package storetest

import (
	"testing"
	"time"

	"github.com/authguard/authguard/core/store"
)

var updateTests = []subtest{
	{"AppliesCompleteState", testUpdateApplies},
	{"StaleRefused", testUpdateStale},
	{"NotFound", testUpdateNotFound},
	{"RevokedAppendsOne", testUpdateRevoked},
	{"FootprintConstant", testFootprint},
}

// testUpdateApplies: UpdateSession writes the complete state it is given,
// every field, and keeps nothing of the stored one: the core decides, the
// store persists. Fields can be cleared again (zero times, nil slices,
// false), and no update without Revoked touches the feed.
func testUpdateApplies(t *testing.T, st store.Store) {
	s := newSession("u", "alice", at(0))
	mustCreate(t, st, s)
	keep := newSession("keep", "alice", at(0))
	mustCreate(t, st, keep)

	next := rotated(s, at(time.Minute))
	mustUpdate(t, st, next, false)
	checkSession(t, "after a rotation", mustSession(t, st, "u"), next)

	// Every field changes at once, even those the core never changes.
	all := store.Session{
		ID: "u", Subject: "alice2", DeviceName: "renamed", IP: "198.51.100.9", UserAgent: "other/2",
		AuthTime: at(-time.Hour), CreatedAt: at(-time.Minute), LastUsedAt: at(3 * time.Minute),
		IdleExpiresAt: at(2 * time.Hour), AbsoluteExpiresAt: at(48 * time.Hour),
		RevokedAt: at(4 * time.Minute), RevokeReason: "odd",
		Generation: 42, TokenDigest: digest("all", "t"), SecretDigest: digest("all", "s"),
		RotatedAt: at(2 * time.Minute), GraceReplays: 5, Successor: []byte("sealed"), RetryOpen: false,
		Version: next.Version + 1,
	}
	mustUpdate(t, st, all, false)
	checkSession(t, "after changing every field", mustSession(t, st, "u"), all)

	// And back to zero values (a store keeps nothing of the stored state).
	cleared := store.Session{ID: "u", Subject: "alice", Version: all.Version + 1}
	mustUpdate(t, st, cleared, false)
	checkSession(t, "after clearing every field", mustSession(t, st, "u"), cleared)

	checkSession(t, "other session", mustSession(t, st, "keep"), keep)
	if f := feed(t, st, 0, 0); len(f) != 0 {
		t.Errorf("updates without Revoked appended to the feed: %+v", f)
	}
}

// testUpdateStale: a write over a version other than the stored one fails
// with ErrStale and writes nothing, session and feed alike; this is what
// lets the core decide outside any lock.
func testUpdateStale(t *testing.T, st store.Store) {
	ctx := t.Context()
	s := newSession("st", "alice", at(0))
	mustCreate(t, st, s)
	first := rotated(s, at(time.Minute))
	mustUpdate(t, st, first, false)

	// A writer that read version 1 before first was written.
	lost := rotated(s, at(2*time.Minute))
	lost.TokenDigest = digest("lost")
	if err := update(ctx, st, lost, false); !isStale(err) {
		t.Errorf("update over version 1 when 2 is stored: err = %v, want ErrStale", err)
	}
	if err := update(ctx, st, revoked(s, at(2*time.Minute), "reuse"), true); !isStale(err) {
		t.Errorf("revoking update over version 1: err = %v, want ErrStale", err)
	}
	// Versions ahead of the stored one and nonsense versions are stale too.
	for _, v := range []int64{0, -1, 3, 1 << 40} {
		u := first
		u.Version = v + 1
		u.RevokedAt, u.RevokeReason = at(3*time.Minute), "reuse"
		err := st.UpdateSession(ctx, store.Update{Session: u, Version: v, Revoked: true})
		if !isStale(err) {
			t.Errorf("update over version %d when 2 is stored: err = %v, want ErrStale", v, err)
		}
	}
	checkSession(t, "after refused updates", mustSession(t, st, "st"), first)
	if f := feed(t, st, 0, 0); len(f) != 0 {
		t.Errorf("refused revoking updates appended to the feed: %+v", f)
	}
	// The current version still writes.
	mustUpdate(t, st, rotated(first, at(4*time.Minute)), false)
}

// testUpdateNotFound: an update of a session that does not exist (never
// created, or pruned) is ErrNotFound, creates nothing and appends nothing.
func testUpdateNotFound(t *testing.T, st store.Store) {
	ctx := t.Context()
	ghost := revoked(newSession("ghost", "alice", at(0)), at(time.Minute), "logout")
	if err := update(ctx, st, ghost, true); !isNotFound(err) {
		t.Errorf("update of an unknown session: err = %v, want ErrNotFound", err)
	}
	if _, err := st.Session(ctx, "ghost"); !isNotFound(err) {
		t.Errorf("a refused update created the session: %v", err)
	}
	s := newSession("gone", "alice", at(0))
	mustCreate(t, st, s)
	if n, err := st.Prune(ctx, at(48*time.Hour)); err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v; want 1", n, err)
	}
	if err := update(ctx, st, rotated(s, at(time.Minute)), false); !isNotFound(err) {
		t.Errorf("update of a pruned session: err = %v, want ErrNotFound", err)
	}
	if f := feed(t, st, 0, 0); len(f) != 0 {
		t.Errorf("refused updates appended to the feed: %+v", f)
	}
}

// testUpdateRevoked: an update with Revoked appends exactly one feed entry,
// (ID, RevokedAt) of the written state, with a positive Seq; an update
// without it appends none, whatever RevokedAt says (the store does not
// interpret the state).
func testUpdateRevoked(t *testing.T, st store.Store) {
	s := newSession("rv", "alice", at(0))
	mustCreate(t, st, s)
	other := newSession("other", "alice", at(0))
	mustCreate(t, st, other)

	rev := revoked(s, at(3*time.Minute), "logout")
	mustUpdate(t, st, rev, true)
	checkSession(t, "revoked session", mustSession(t, st, "rv"), rev)
	checkSession(t, "other session", mustSession(t, st, "other"), other)
	f := feed(t, st, 0, 0)
	if len(f) != 1 || f[0].SessionID != "rv" || !sameTime(f[0].RevokedAt, rev.RevokedAt) || f[0].Seq <= 0 {
		t.Fatalf("feed = %+v, want one entry for rv at %v with a positive Seq", f, rev.RevokedAt)
	}

	// A later write of the revoked state (a replay counted, say) appends nothing.
	later := rev
	later.GraceReplays++
	later.Version++
	mustUpdate(t, st, later, false)
	// A state that says revoked, written without Revoked, appends nothing.
	quiet := revoked(other, at(4*time.Minute), "revoked")
	mustUpdate(t, st, quiet, false)
	if got := feed(t, st, 0, 0); len(got) != 1 {
		t.Errorf("updates without Revoked appended to the feed: %+v", got)
	}
	checkSession(t, "revoked without a feed entry", mustSession(t, st, "other"), quiet)

	// Revoked again on a new version appends again: the store counts writes,
	// the core decides whether a revocation is news.
	again := later
	again.RevokedAt = at(5 * time.Minute)
	again.Version++
	mustUpdate(t, st, again, true)
	if got := feed(t, st, f[0].Seq, 0); len(got) != 1 || got[0].SessionID != "rv" || !sameTime(got[0].RevokedAt, again.RevokedAt) {
		t.Errorf("feed after a second revoking update = %+v, want one more entry for rv", got)
	}
}

// testFootprint: a session's storage is O(1) whatever the number of its
// rotations: after 1,000 writes of one session the store holds exactly what
// it held after the first (no per-token rows, digests or history).
func testFootprint(t *testing.T, st store.Store) {
	fp, ok := st.(store.Footprinter)
	if !ok {
		t.Skipf("%T does not implement store.Footprinter", st)
	}
	ctx := t.Context()
	empty, err := fp.Footprint(ctx)
	if err != nil {
		t.Fatalf("Footprint: %v", err)
	}
	s := newSession("fp", "alice", at(0))
	mustCreate(t, st, s)
	created, err := fp.Footprint(ctx)
	if err != nil {
		t.Fatalf("Footprint: %v", err)
	}
	if created.Records <= empty.Records || created.Bytes <= empty.Bytes {
		t.Errorf("Footprint does not count sessions: %+v empty, %+v with one session", empty, created)
	}
	s = rotated(s, at(time.Second))
	mustUpdate(t, st, s, false)
	first, err := fp.Footprint(ctx)
	if err != nil {
		t.Fatalf("Footprint: %v", err)
	}
	for i := 1; i < 1000; i++ {
		s = rotated(s, at(time.Second+time.Duration(i)*time.Millisecond))
		s.GraceReplays = i % 3
		mustUpdate(t, st, s, false)
	}
	last, err := fp.Footprint(ctx)
	if err != nil {
		t.Fatalf("Footprint: %v", err)
	}
	if last != first {
		t.Errorf("Footprint after 1000 writes of one session = %+v, after the first = %+v: storage grows with rotations", last, first)
	}
	checkSession(t, "after 1000 writes", mustSession(t, st, "fp"), s)
}
