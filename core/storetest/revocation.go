package storetest

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/authguard/authguard/core/store"
)

var revocationTests = []subtest{
	{"FeedOrderAndPaging", testFeed},
}

var pruneTests = []subtest{
	{"Prune", testPrune},
	{"SeqNotReused", testPruneSeq},
}

// testFeed: the feed lists revocations in the order they were written (not
// the order of creation), Seq strictly increasing and positive, and the
// after/limit cursor pages through it seeing every entry exactly once.
func testFeed(t *testing.T, st store.Store) {
	if f := feed(t, st, 0, 0); len(f) != 0 {
		t.Fatalf("feed of an empty store = %+v", f)
	}
	const n = 7
	sessions := map[string]store.Session{}
	for i := range n {
		id := fmt.Sprint("f", i)
		sessions[id] = newSession(id, fmt.Sprint("user", i), at(0))
		mustCreate(t, st, sessions[id])
	}
	// Revoke in an order different from creation, some after a rotation, with
	// non-revoking writes in between.
	order := []string{"f3", "f0", "f6", "f1", "f5", "f2", "f4"}
	for i, id := range order {
		s := sessions[id]
		if i%2 == 1 {
			s = rotated(s, at(time.Duration(i)*time.Minute))
			mustUpdate(t, st, s, false)
		}
		mustUpdate(t, st, revoked(s, at(time.Duration(i+1)*time.Minute), "logout"), true)
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

// testPrune: Prune deletes exactly the sessions with a deadline or a
// revocation strictly before cutoff (equal is kept) and the feed entries
// revoked before it, and a pruned id can be created again.
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
	rotatedGone := newSession("rotated", "bob", at(0))
	for _, s := range []store.Session{live, idleGone, idleAtCutoff, absGone, revokedEarly, revokedLate, rotatedGone} {
		mustCreate(t, st, s)
	}
	for i := 1; i <= 3; i++ {
		rotatedGone = rotated(rotatedGone, at(time.Duration(i)*time.Minute))
		mustUpdate(t, st, rotatedGone, false)
	}
	mustUpdate(t, st, revoked(revokedEarly, cutoff.Add(-time.Minute), "logout"), true)
	revokedLate = revoked(revokedLate, cutoff.Add(time.Minute), "logout")
	mustUpdate(t, st, revokedLate, true)

	n, err := st.Prune(ctx, cutoff)
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	gone := []string{"idle-gone", "abs-gone", "revoked-early", "rotated"}
	if n != len(gone) {
		t.Errorf("Prune = %d, want %d", n, len(gone))
	}
	for _, id := range gone {
		if _, err := st.Session(ctx, id); !isNotFound(err) {
			t.Errorf("Session(%s) after Prune: err = %v, want ErrNotFound", id, err)
		}
	}
	checkSession(t, "live after Prune", mustSession(t, st, "live"), live)
	checkSession(t, "idle-at-cutoff after Prune", mustSession(t, st, "idle-at-cutoff"), idleAtCutoff)
	checkSession(t, "revoked-late after Prune", mustSession(t, st, "revoked-late"), revokedLate)
	f := feed(t, st, 0, 0)
	if len(f) != 1 || f[0].SessionID != "revoked-late" {
		t.Errorf("feed after Prune = %+v, want only revoked-late", f)
	}
	if l, err := st.ListSessions(ctx, "alice", cutoff.Add(-time.Second)); err != nil || len(l) != 2 {
		t.Errorf("ListSessions(alice) after Prune = %d sessions, %v; want live and idle-at-cutoff", len(l), err)
	}
	// The id of a pruned session is really gone: it can be created again.
	reborn := newSession("rotated", "bob", cutoff)
	if err := st.CreateSession(ctx, reborn); err != nil {
		t.Errorf("CreateSession with a pruned id: %v", err)
	} else {
		checkSession(t, "recreated session", mustSession(t, st, "rotated"), reborn)
	}
	if n, err := st.Prune(ctx, cutoff); err != nil || n != 0 {
		t.Errorf("second Prune = %d, %v; want 0, nil", n, err)
	}
}

// testPruneSeq: after Prune empties the feed, new entries get sequence
// numbers above every number ever handed out, so a reader's cursor never
// skips a revocation.
func testPruneSeq(t *testing.T, st store.Store) {
	ctx := t.Context()
	for i := range 3 {
		s := newSession(fmt.Sprint("p", i), "alice", at(0))
		mustCreate(t, st, s)
		mustUpdate(t, st, revoked(s, at(time.Duration(i+1)*time.Minute), "logout"), true)
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
	s := newSession("p-new", "alice", at(48*time.Hour))
	mustCreate(t, st, s)
	mustUpdate(t, st, revoked(s, at(48*time.Hour+time.Minute), "logout"), true)
	f := feed(t, st, maxSeq, 0)
	if len(f) != 1 || f[0].SessionID != "p-new" || f[0].Seq <= maxSeq {
		t.Errorf("feed after %d = %+v, want p-new with Seq > %d (sequence numbers are never reused)", maxSeq, f, maxSeq)
	}
}

// testFeedTail: a reader that follows the feed with a cursor, as every
// instance does (Revocations after the highest Seq it has read), sees every
// revocation, while many writers append concurrently. A store whose Seq
// order can differ from the order in which entries become readable (a
// sequence number taken before a commit that lands after a later one's)
// fails this: the reader moves past an entry that appears later below its
// cursor, and that session is never refused by that instance.
func testFeedTail(t *testing.T, st store.Store) {
	const writers, perWriter = 16, 25
	for w := range writers {
		for i := range perWriter {
			mustCreate(t, st, newSession(fmt.Sprint("t", w, "-", i), "user", at(0)))
		}
	}
	seen := map[string]int{}
	var cursor int64
	tail := func() error {
		revs, err := st.Revocations(t.Context(), cursor, 0)
		for _, r := range revs {
			seen[r.SessionID]++
			cursor = max(cursor, r.Seq)
		}
		return err
	}
	var wg sync.WaitGroup
	start, done := make(chan struct{}), make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := range perWriter {
				s := newSession(fmt.Sprint("t", w, "-", i), "user", at(0))
				if err := update(t.Context(), st, revoked(s, at(time.Minute), "logout"), true); err != nil {
					t.Errorf("revoke %s: %v", s.ID, err)
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	close(start)
	for tailing := true; tailing; {
		select {
		case <-done:
			tailing = false
		default:
		}
		if err := tail(); err != nil {
			t.Fatalf("Revocations(after %d): %v", cursor, err)
		}
	}
	if err := tail(); err != nil { // every write has returned: all is readable
		t.Fatalf("Revocations(after %d): %v", cursor, err)
	}
	missed := 0
	for w := range writers {
		for i := range perWriter {
			if id := fmt.Sprint("t", w, "-", i); seen[id] != 1 {
				missed++
				if missed <= 5 {
					t.Errorf("the tailing reader saw the revocation of %s %d times, want once", id, seen[id])
				}
			}
		}
	}
	if missed > 0 {
		t.Errorf("%d of %d revocations missed or repeated by a reader following the feed", missed, writers*perWriter)
	}
}
