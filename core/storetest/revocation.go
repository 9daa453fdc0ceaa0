package storetest

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/authguard/authguard/core/store"
)

var revocationTests = []subtest{
	{"RevokeSession", testRevokeSession},
	{"RevokeSubject", testRevokeSubject},
	{"Feed", testFeed},
}

var pruneTests = []subtest{
	{"Prune", testPrune},
	{"SeqNotReused", testPruneSeq},
}

func testRevokeSession(t *testing.T, st store.Store) {
	ctx := t.Context()
	s := newSession("rs", "alice", at(0))
	mustCreate(t, st, s, digest("rs"))
	other := newSession("keep", "alice", at(0))
	mustCreate(t, st, other, digest("keep"))

	when := at(3 * time.Minute)
	ok, err := st.RevokeSession(ctx, "rs", when, "logout")
	if err != nil || !ok {
		t.Fatalf("RevokeSession(active) = %v, %v; want true, nil", ok, err)
	}
	want := s
	want.RevokedAt, want.RevokeReason = when, "logout"
	checkSession(t, "revoked session", mustSession(t, st, "rs"), want)
	checkSession(t, "other session", mustSession(t, st, "keep"), other)
	f := feed(t, st, 0, 0)
	if len(f) != 1 || f[0].SessionID != "rs" || !sameTime(f[0].RevokedAt, when) || f[0].Seq <= 0 {
		t.Fatalf("feed = %+v, want one entry for rs with a positive Seq", f)
	}

	// Revoked, unknown and expired sessions: false, nil, nothing appended.
	if ok, err := st.RevokeSession(ctx, "rs", at(4*time.Minute), "revoked"); err != nil || ok {
		t.Errorf("RevokeSession(revoked) = %v, %v; want false, nil", ok, err)
	}
	if ok, err := st.RevokeSession(ctx, "unknown", when, "logout"); err != nil || ok {
		t.Errorf("RevokeSession(unknown) = %v, %v; want false, nil", ok, err)
	}
	exp := newSession("exp", "alice", at(0))
	mustCreate(t, st, exp, digest("exp"))
	if ok, err := st.RevokeSession(ctx, "exp", exp.IdleExpiresAt, "logout"); err != nil || ok {
		t.Errorf("RevokeSession(expired at `at`) = %v, %v; want false, nil (not active)", ok, err)
	}
	if got := mustSession(t, st, "exp"); !got.RevokedAt.IsZero() {
		t.Errorf("expired session got RevokedAt %v", got.RevokedAt)
	}
	if f := feed(t, st, 0, 0); len(f) != 1 {
		t.Errorf("feed has %d entries, want 1: %+v", len(f), f)
	}
	if got := mustSession(t, st, "rs"); got.RevokeReason != "logout" || !sameTime(got.RevokedAt, when) {
		t.Errorf("RevokedAt/Reason changed by a no-op revocation: %v %q", got.RevokedAt, got.RevokeReason)
	}
	// Rotate after revocation hands decide the revoked state.
	rotate(t, st, digest("rs"), func(s store.Session, _ int64) store.Change {
		if s.RevokedAt.IsZero() {
			t.Errorf("decide after RevokeSession saw RevokedAt zero")
		}
		return store.Change{}
	})
}

func testRevokeSubject(t *testing.T, st store.Store) {
	ctx := t.Context()
	for i := range 4 {
		mustCreate(t, st, newSession(fmt.Sprint("a", i), "alice", at(time.Duration(i)*time.Second)), digest("a", i))
	}
	old := newSession("a-old", "alice", at(0))
	old.IdleExpiresAt = at(time.Minute)
	mustCreate(t, st, old, digest("a-old"))
	mustCreate(t, st, newSession("b0", "bob", at(0)), digest("b0"))
	if ok, err := st.RevokeSession(ctx, "a3", at(time.Minute), "logout"); err != nil || !ok {
		t.Fatalf("RevokeSession(a3) = %v, %v", ok, err)
	}
	seq := lastSeq(t, st)

	when := at(10 * time.Minute)
	n, err := st.RevokeSubject(ctx, "alice", "a0", when, "subject")
	if err != nil || n != 2 {
		t.Fatalf("RevokeSubject(alice, except a0) = %d, %v; want 2 (a1, a2), nil", n, err)
	}
	for _, id := range []string{"a1", "a2"} {
		s := mustSession(t, st, id)
		if !sameTime(s.RevokedAt, when) || s.RevokeReason != "subject" {
			t.Errorf("%s: RevokedAt=%v reason=%q, want %v subject", id, s.RevokedAt, s.RevokeReason, when)
		}
	}
	if s := mustSession(t, st, "a0"); !s.RevokedAt.IsZero() {
		t.Errorf("excepted session a0 was revoked")
	}
	if s := mustSession(t, st, "a3"); s.RevokeReason != "logout" || !sameTime(s.RevokedAt, at(time.Minute)) {
		t.Errorf("already revoked a3 was revoked again: %v %q", s.RevokedAt, s.RevokeReason)
	}
	if s := mustSession(t, st, "a-old"); !s.RevokedAt.IsZero() {
		t.Errorf("expired a-old was revoked (not active at `at`)")
	}
	if s := mustSession(t, st, "b0"); !s.RevokedAt.IsZero() {
		t.Errorf("other subject's session b0 was revoked")
	}
	f := feed(t, st, seq, 0)
	got := map[string]bool{}
	for _, r := range f {
		got[r.SessionID] = true
		if !sameTime(r.RevokedAt, when) {
			t.Errorf("feed entry %+v: RevokedAt want %v", r, when)
		}
	}
	if len(f) != 2 || !got["a1"] || !got["a2"] {
		t.Errorf("feed after RevokeSubject = %+v, want a1 and a2", f)
	}

	if n, err := st.RevokeSubject(ctx, "alice", "a0", when, "subject"); err != nil || n != 0 {
		t.Errorf("RevokeSubject again = %d, %v; want 0, nil", n, err)
	}
	if n, err := st.RevokeSubject(ctx, "alice", "", at(11*time.Minute), "subject"); err != nil || n != 1 {
		t.Errorf("RevokeSubject(alice, no except) = %d, %v; want 1 (a0), nil", n, err)
	}
	if n, err := st.RevokeSubject(ctx, "nobody", "", when, "subject"); err != nil || n != 0 {
		t.Errorf("RevokeSubject(nobody) = %d, %v; want 0, nil", n, err)
	}
	if l, err := st.ListSessions(ctx, "alice", at(12*time.Minute)); err != nil || len(l) != 0 {
		t.Errorf("ListSessions(alice) after revoking all = %d sessions, %v", len(l), err)
	}
	if n := len(feed(t, st, seq, 0)); n != 3 {
		t.Errorf("feed grew by %d, want 3", n)
	}
}

func testFeed(t *testing.T, st store.Store) {
	ctx := t.Context()
	if f := feed(t, st, 0, 0); len(f) != 0 {
		t.Fatalf("feed of an empty store = %+v", f)
	}
	const n = 7
	for i := range n {
		id := fmt.Sprint("f", i)
		mustCreate(t, st, newSession(id, fmt.Sprint("user", i), at(0)), digest(id))
	}
	// Revoke in an order different from creation, through all three paths.
	order := []string{"f3", "f0", "f6", "f1", "f5", "f2", "f4"}
	for i, id := range order {
		when := at(time.Duration(i+1) * time.Minute)
		switch i % 3 {
		case 0:
			if ok, err := st.RevokeSession(ctx, id, when, "logout"); err != nil || !ok {
				t.Fatalf("RevokeSession(%s) = %v, %v", id, ok, err)
			}
		case 1:
			rotate(t, st, digest(id), fixed(store.Change{Kind: store.ChangeRevoke, At: when, Reason: "reuse"}))
		case 2:
			if c, err := st.RevokeSubject(ctx, "user"+id[1:], "", when, "subject"); err != nil || c != 1 {
				t.Fatalf("RevokeSubject(%s) = %d, %v", id, c, err)
			}
		}
	}
	all := feed(t, st, 0, 0)
	if len(all) != n {
		t.Fatalf("feed has %d entries, want %d: %+v", len(all), n, all)
	}
	for i, r := range all {
		if r.SessionID != order[i] || !sameTime(r.RevokedAt, at(time.Duration(i+1)*time.Minute)) {
			t.Errorf("feed[%d] = %+v, want %s at +%dm", i, r, order[i], i+1)
		}
		if i > 0 && r.Seq <= all[i-1].Seq {
			t.Errorf("Seq not strictly increasing: %d then %d", all[i-1].Seq, r.Seq)
		}
	}
	if all[0].Seq <= 0 {
		t.Errorf("first Seq = %d, want > 0 (after=0 must return it)", all[0].Seq)
	}
	if f := feed(t, st, 0, -1); len(f) != n {
		t.Errorf("limit -1: %d entries, want %d", len(f), n)
	}
	if f := feed(t, st, 0, 3); len(f) != 3 || f[0].Seq != all[0].Seq || f[2].Seq != all[2].Seq {
		t.Errorf("limit 3 = %+v, want the first 3", f)
	}
	if f := feed(t, st, all[1].Seq, 0); len(f) != n-2 || f[0].Seq != all[2].Seq {
		t.Errorf("after feed[1].Seq = %+v, want feed[2:]", f)
	}
	if f := feed(t, st, all[1].Seq, 2); len(f) != 2 || f[0].Seq != all[2].Seq || f[1].Seq != all[3].Seq {
		t.Errorf("after feed[1].Seq limit 2 = %+v, want feed[2:4]", f)
	}
	// after between two sequence numbers (Seq need not be dense).
	if f := feed(t, st, all[4].Seq-1, 1); len(f) != 1 || f[0].Seq != all[4].Seq {
		t.Errorf("after feed[4].Seq-1 limit 1 = %+v, want feed[4]", f)
	}
	last := all[n-1].Seq
	if f := feed(t, st, last, 0); len(f) != 0 {
		t.Errorf("after the last Seq = %+v, want empty", f)
	}
	if f := feed(t, st, math.MaxInt64, 0); len(f) != 0 {
		t.Errorf("after MaxInt64 = %+v, want empty", f)
	}
	if f := feed(t, st, -1, 1); len(f) != 1 || f[0].Seq != all[0].Seq {
		t.Errorf("after -1 limit 1 = %+v, want feed[0]", f)
	}
	if f := feed(t, st, last+1000, 10); len(f) != 0 {
		t.Errorf("after beyond the last Seq = %+v, want empty", f)
	}
	// Reading with a cursor in pages sees every entry exactly once.
	var cursor int64
	var paged []store.Revocation
	for range n + 1 {
		page := feed(t, st, cursor, 2)
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		cursor = page[len(page)-1].Seq
	}
	if len(paged) != n {
		t.Errorf("paging with limit 2 saw %d entries, want %d", len(paged), n)
	}
}

func testPrune(t *testing.T, st store.Store) {
	ctx := t.Context()
	cutoff := at(10 * time.Hour)

	live := newSession("live", "alice", at(9*time.Hour))
	live.IdleExpiresAt = cutoff.Add(time.Hour)
	idleGone := newSession("idle-gone", "alice", at(0))
	idleGone.IdleExpiresAt = cutoff.Add(-time.Millisecond)
	idleAtCutoff := newSession("idle-at-cutoff", "alice", at(0))
	idleAtCutoff.IdleExpiresAt = cutoff
	absGone := newSession("abs-gone", "alice", at(0))
	absGone.IdleExpiresAt = cutoff.Add(time.Hour)
	absGone.AbsoluteExpiresAt = cutoff.Add(-time.Second)
	revokedEarly := newSession("revoked-early", "alice", at(9*time.Hour))
	revokedEarly.IdleExpiresAt = cutoff.Add(time.Hour)
	revokedLate := newSession("revoked-late", "alice", at(9*time.Hour))
	revokedLate.IdleExpiresAt = cutoff.Add(time.Hour)
	rotated := newSession("rotated", "bob", at(0))
	rotated.IdleExpiresAt = at(time.Hour)
	for _, s := range []store.Session{live, idleGone, idleAtCutoff, absGone, revokedEarly, revokedLate, rotated} {
		mustCreate(t, st, s, digest(s.ID, 0))
	}
	for i := 1; i <= 3; i++ {
		rotate(t, st, digest("rotated", i-1), rotateTo(digest("rotated", i), []byte{byte(i)}, at(time.Duration(i)*time.Minute), at(2*time.Hour)))
	}
	if ok, err := st.RevokeSession(ctx, "revoked-early", cutoff.Add(-time.Minute), "logout"); err != nil || !ok {
		t.Fatalf("RevokeSession(revoked-early) = %v, %v", ok, err)
	}
	if ok, err := st.RevokeSession(ctx, "revoked-late", cutoff.Add(time.Minute), "logout"); err != nil || !ok {
		t.Fatalf("RevokeSession(revoked-late) = %v, %v", ok, err)
	}

	n, err := st.Prune(ctx, cutoff)
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	gone := []string{"idle-gone", "abs-gone", "revoked-early", "rotated"}
	kept := []string{"live", "idle-at-cutoff", "revoked-late"}
	if n != len(gone) {
		t.Errorf("Prune = %d, want %d", n, len(gone))
	}
	for _, id := range gone {
		if _, err := st.Session(ctx, id); !isNotFound(err) {
			t.Errorf("Session(%s) after Prune: err = %v, want ErrNotFound", id, err)
		}
		if _, _, err := st.SessionByToken(ctx, digest(id, 0)); !isNotFound(err) {
			t.Errorf("SessionByToken(%s gen 0) after Prune: err = %v, want ErrNotFound", id, err)
		}
	}
	for i := 1; i <= 3; i++ {
		if _, _, err := st.SessionByToken(ctx, digest("rotated", i)); !isNotFound(err) {
			t.Errorf("SessionByToken(rotated gen %d) after Prune: err = %v, want ErrNotFound", i, err)
		}
		called := false
		_, _, err := st.Rotate(ctx, digest("rotated", i), func(store.Session, int64) store.Change { called = true; return store.Change{} })
		if !isNotFound(err) || called {
			t.Errorf("Rotate(rotated gen %d) after Prune: err = %v, decide called = %v; want ErrNotFound, false", i, err, called)
		}
	}
	for _, id := range kept {
		if _, err := st.Session(ctx, id); err != nil {
			t.Errorf("Session(%s) after Prune: %v (should be kept)", id, err)
		}
		if s, _, err := st.SessionByToken(ctx, digest(id, 0)); err != nil || s.ID != id {
			t.Errorf("SessionByToken(%s) after Prune: %q, %v", id, s.ID, err)
		}
	}
	// Feed entries revoked before cutoff are gone, later ones stay.
	f := feed(t, st, 0, 0)
	if len(f) != 1 || f[0].SessionID != "revoked-late" {
		t.Errorf("feed after Prune = %+v, want only revoked-late", f)
	}
	if l, err := st.ListSessions(ctx, "alice", cutoff.Add(-time.Second)); err != nil || len(l) != 2 {
		t.Errorf("ListSessions(alice) after Prune = %d sessions, %v; want live and idle-at-cutoff", len(l), err)
	}

	// The id and every digest of a pruned session are really gone: they can be reused.
	reborn := newSession("rotated", "bob", cutoff)
	if err := st.CreateSession(ctx, reborn, digest("rotated", 2)); err != nil {
		t.Errorf("CreateSession with a pruned id and digest: %v", err)
	} else if _, gen, err := st.SessionByToken(ctx, digest("rotated", 2)); err != nil || gen != 0 {
		t.Errorf("recreated session resolves with gen %d, %v; want 0", gen, err)
	}

	if n, err := st.Prune(ctx, cutoff); err != nil || n != 0 {
		t.Errorf("second Prune = %d, %v; want 0, nil", n, err)
	}
}

func testPruneSeq(t *testing.T, st store.Store) {
	ctx := t.Context()
	for i := range 3 {
		id := fmt.Sprint("p", i)
		mustCreate(t, st, newSession(id, "alice", at(0)), digest(id))
		if ok, err := st.RevokeSession(ctx, id, at(time.Duration(i+1)*time.Minute), "logout"); err != nil || !ok {
			t.Fatalf("RevokeSession(%s) = %v, %v", id, ok, err)
		}
	}
	before := feed(t, st, 0, 0)
	if len(before) != 3 {
		t.Fatalf("feed = %+v, want 3 entries", before)
	}
	maxSeq := before[2].Seq
	if n, err := st.Prune(ctx, at(48*time.Hour)); err != nil || n != 3 {
		t.Fatalf("Prune = %d, %v; want 3", n, err)
	}
	if f := feed(t, st, 0, 0); len(f) != 0 {
		t.Fatalf("feed after Prune of everything = %+v", f)
	}
	mustCreate(t, st, newSession("p-new", "alice", at(48*time.Hour)), digest("p-new"))
	if ok, err := st.RevokeSession(ctx, "p-new", at(48*time.Hour+time.Minute), "logout"); err != nil || !ok {
		t.Fatalf("RevokeSession(p-new) = %v, %v", ok, err)
	}
	f := feed(t, st, maxSeq, 0)
	if len(f) != 1 || f[0].SessionID != "p-new" || f[0].Seq <= maxSeq {
		t.Errorf("feed after %d = %+v, want p-new with Seq > %d (sequence numbers are never reused)", maxSeq, f, maxSeq)
	}
}
