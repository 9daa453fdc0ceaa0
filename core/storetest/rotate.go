package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/authguard/authguard/core/store"
)

var rotateTests = []subtest{
	{"None", testRotateNone},
	{"Rotate", testRotateRotate},
	{"Generations", testRotateGenerations},
	{"Replay", testRotateReplay},
	{"Revoke", testRotateRevoke},
	{"RevokeZeroAt", testRotateRevokeZeroAt},
	{"RevokeAlreadyRevoked", testRotateRevokeRevoked},
	{"DigestConflict", testRotateConflict},
	{"NotAliased", testRotateNotAliased},
	{"DecideSeesState", testRotateDecideSees},
}

func testRotateNone(t *testing.T, st store.Store) {
	s := newSession("n", "alice", at(0))
	h := digest("n")
	mustCreate(t, st, s, h)
	calls := 0
	got, ch := rotate(t, st, h, func(seen store.Session, gen int64) store.Change {
		calls++
		checkSession(t, "decide argument", seen, s)
		if gen != 0 {
			t.Errorf("decide gen = %d, want 0", gen)
		}
		// Fields set with ChangeNone must be ignored.
		return store.Change{Kind: store.ChangeNone, NewTokenHash: digest("n", 1), Successor: []byte{1}, At: at(time.Minute), IdleExpiresAt: at(2 * time.Hour), Reason: "x"}
	})
	if calls != 1 {
		t.Errorf("decide called %d times, want 1", calls)
	}
	if ch.Kind != store.ChangeNone {
		t.Errorf("change applied = %v, want ChangeNone", ch.Kind)
	}
	checkSession(t, "returned session", got, s)
	checkSession(t, "stored session", mustSession(t, st, "n"), s)
	if _, _, err := st.SessionByToken(t.Context(), digest("n", 1)); !isNotFound(err) {
		t.Errorf("ChangeNone registered the new digest: err = %v", err)
	}
	if f := feed(t, st, 0, 0); len(f) != 0 {
		t.Errorf("ChangeNone appended to the feed: %+v", f)
	}
}

func testRotateRotate(t *testing.T, st store.Store) {
	ctx := t.Context()
	s := newSession("r", "alice", at(0))
	h0, h1 := digest("r", 0), digest("r", 1)
	mustCreate(t, st, s, h0)
	// A replay first, so the rotation has GraceReplays to reset.
	rotate(t, st, h0, fixed(store.Change{Kind: store.ChangeReplay, At: at(time.Second)}))

	// Successor bytes with zeros, high bytes and a realistic size.
	succ := make([]byte, 157)
	for i := range succ {
		succ[i] = byte(255 - i)
	}
	succ[3], succ[4] = 0, 0
	when, idle := at(5*time.Minute), at(65*time.Minute)
	got, ch := rotate(t, st, h0, rotateTo(h1, succ, when, idle))

	want := s
	want.Generation = 1
	want.Successor = succ
	want.RotatedAt = when
	want.LastUsedAt = when
	want.IdleExpiresAt = idle
	want.GraceReplays = 0
	checkSession(t, "returned session", got, want)
	checkSession(t, "stored session", mustSession(t, st, "r"), want)
	if ch.Kind != store.ChangeRotate || !bytes.Equal(ch.NewTokenHash, h1) || !bytes.Equal(ch.Successor, succ) {
		t.Errorf("change applied = %+v, want the rotation", ch)
	}

	for _, c := range []struct {
		h   []byte
		gen int64
	}{{h0, 0}, {h1, 1}} {
		bt, gen, err := st.SessionByToken(ctx, c.h)
		if err != nil {
			t.Fatalf("SessionByToken(gen %d): %v", c.gen, err)
		}
		if gen != c.gen {
			t.Errorf("SessionByToken: generation = %d, want %d", gen, c.gen)
		}
		checkSession(t, "SessionByToken", bt, want)
	}
	if f := feed(t, st, 0, 0); len(f) != 0 {
		t.Errorf("ChangeRotate appended to the feed: %+v", f)
	}
}

func testRotateGenerations(t *testing.T, st store.Store) {
	ctx := t.Context()
	mustCreate(t, st, newSession("g", "alice", at(0)), digest("g", 0))
	const n = 6
	for i := 1; i <= n; i++ {
		want := int64(i - 1)
		got, _ := rotate(t, st, digest("g", i-1), func(s store.Session, gen int64) store.Change {
			if gen != want || s.Generation != want {
				t.Errorf("rotation %d: decide saw gen=%d s.Generation=%d, want %d", i, gen, s.Generation, want)
			}
			return store.Change{Kind: store.ChangeRotate, NewTokenHash: digest("g", i), Successor: []byte{byte(i)}, At: at(time.Duration(i) * time.Minute), IdleExpiresAt: at(time.Hour + time.Duration(i)*time.Minute)}
		})
		if got.Generation != int64(i) {
			t.Fatalf("after rotation %d: Generation = %d", i, got.Generation)
		}
	}
	// Every digest stays resolvable with its own generation, to the current session.
	for i := 0; i <= n; i++ {
		s, gen, err := st.SessionByToken(ctx, digest("g", i))
		if err != nil {
			t.Fatalf("SessionByToken(gen %d): %v", i, err)
		}
		if gen != int64(i) || s.ID != "g" || s.Generation != n || !bytes.Equal(s.Successor, []byte{n}) {
			t.Errorf("SessionByToken(gen %d) = id %q gen %d (session gen %d, successor %x)", i, s.ID, gen, s.Generation, s.Successor)
		}
	}
	// Presenting an old token hands decide the old generation.
	var seen int64 = -1
	rotate(t, st, digest("g", 2), func(_ store.Session, gen int64) store.Change { seen = gen; return store.Change{} })
	if seen != 2 {
		t.Errorf("decide gen for generation-2 token = %d, want 2", seen)
	}
}

func testRotateReplay(t *testing.T, st store.Store) {
	s := newSession("p", "alice", at(0))
	h0, h1 := digest("p", 0), digest("p", 1)
	mustCreate(t, st, s, h0)
	when, idle := at(time.Minute), at(61*time.Minute)
	rotate(t, st, h0, rotateTo(h1, []byte("sealed"), when, idle))

	want := s
	want.Generation, want.Successor, want.RotatedAt, want.IdleExpiresAt = 1, []byte("sealed"), when, idle
	for i := 1; i <= 3; i++ {
		use := at(time.Minute + time.Duration(i)*time.Second)
		got, ch := rotate(t, st, h0, fixed(store.Change{Kind: store.ChangeReplay, At: use}))
		want.GraceReplays = i
		want.LastUsedAt = use
		checkSession(t, "returned session", got, want)
		checkSession(t, "stored session", mustSession(t, st, "p"), want)
		if ch.Kind != store.ChangeReplay {
			t.Errorf("change applied = %v, want ChangeReplay", ch.Kind)
		}
	}
	// A rotation resets the counter.
	got, _ := rotate(t, st, h1, rotateTo(digest("p", 2), []byte("next"), at(10*time.Minute), at(70*time.Minute)))
	if got.GraceReplays != 0 || got.Generation != 2 {
		t.Errorf("after rotation: GraceReplays = %d, Generation = %d; want 0, 2", got.GraceReplays, got.Generation)
	}
	if f := feed(t, st, 0, 0); len(f) != 0 {
		t.Errorf("ChangeReplay appended to the feed: %+v", f)
	}
}

func testRotateRevoke(t *testing.T, st store.Store) {
	ctx := t.Context()
	s := newSession("v", "alice", at(0))
	h0, h1 := digest("v", 0), digest("v", 1)
	mustCreate(t, st, s, h0)
	rotate(t, st, h0, rotateTo(h1, []byte{7}, at(time.Minute), at(time.Hour)))
	before := lastSeq(t, st)

	when := at(20 * time.Minute)
	// The old token comes back: the core decides reuse.
	got, ch := rotate(t, st, h0, fixed(store.Change{Kind: store.ChangeRevoke, At: when, Reason: "reuse"}))
	if ch.Kind != store.ChangeRevoke || ch.Reason != "reuse" {
		t.Errorf("change applied = %+v, want ChangeRevoke reuse", ch)
	}
	if !sameTime(got.RevokedAt, when) || got.RevokeReason != "reuse" {
		t.Errorf("returned session RevokedAt=%v reason=%q, want %v reuse", got.RevokedAt, got.RevokeReason, when)
	}
	stored := mustSession(t, st, "v")
	checkSession(t, "stored session", stored, got)
	if stored.Active(when) || stored.Generation != 1 {
		t.Errorf("revoked session Active=%v Generation=%d", stored.Active(when), stored.Generation)
	}
	f := feed(t, st, before, 0)
	if len(f) != 1 || f[0].SessionID != "v" || !sameTime(f[0].RevokedAt, when) || f[0].Seq <= before {
		t.Fatalf("feed after ChangeRevoke = %+v, want one entry for v at %v", f, when)
	}
	// Revoked sessions stay readable by id and by every digest until pruned.
	for i, h := range [][]byte{h0, h1} {
		if bs, gen, err := st.SessionByToken(ctx, h); err != nil || gen != int64(i) || bs.RevokedAt.IsZero() {
			t.Errorf("SessionByToken(gen %d) after revoke = gen %d revoked %v err %v", i, gen, bs.RevokedAt, err)
		}
	}
	// RevokeSession on it now changes nothing.
	if ok, err := st.RevokeSession(ctx, "v", at(30*time.Minute), "logout"); err != nil || ok {
		t.Errorf("RevokeSession(revoked) = %v, %v; want false, nil", ok, err)
	}
	if got := mustSession(t, st, "v"); got.RevokeReason != "reuse" || !sameTime(got.RevokedAt, when) {
		t.Errorf("second revocation overwrote RevokedAt/Reason: %v %q", got.RevokedAt, got.RevokeReason)
	}
	if n := len(feed(t, st, before, 0)); n != 1 {
		t.Errorf("feed grew to %d entries after RevokeSession(revoked), want 1", n)
	}
}

func testRotateRevokeZeroAt(t *testing.T, st store.Store) {
	mustCreate(t, st, newSession("z", "alice", at(0)), digest("z"))
	got, _ := rotate(t, st, digest("z"), fixed(store.Change{Kind: store.ChangeRevoke, Reason: "reuse"}))
	if got.RevokedAt.IsZero() {
		t.Fatalf("ChangeRevoke with a zero At left RevokedAt zero: the session still looks active")
	}
	if s := mustSession(t, st, "z"); s.RevokedAt.IsZero() || s.RevokeReason != "reuse" {
		t.Errorf("stored RevokedAt=%v reason=%q", s.RevokedAt, s.RevokeReason)
	}
	if f := feed(t, st, 0, 0); len(f) != 1 || f[0].SessionID != "z" {
		t.Errorf("feed = %+v, want one entry for z", f)
	}
}

func testRotateRevokeRevoked(t *testing.T, st store.Store) {
	mustCreate(t, st, newSession("rr", "alice", at(0)), digest("rr"))
	first := at(time.Minute)
	rotate(t, st, digest("rr"), fixed(store.Change{Kind: store.ChangeRevoke, At: first, Reason: "logout"}))
	seq := lastSeq(t, st)
	got, ch := rotate(t, st, digest("rr"), func(s store.Session, _ int64) store.Change {
		if s.RevokedAt.IsZero() {
			t.Errorf("decide saw a revoked session with RevokedAt zero")
		}
		return store.Change{Kind: store.ChangeRevoke, At: at(2 * time.Minute), Reason: "reuse"}
	})
	if ch.Kind != store.ChangeNone {
		t.Errorf("change applied = %v, want ChangeNone (already revoked)", ch.Kind)
	}
	if !sameTime(got.RevokedAt, first) || got.RevokeReason != "logout" {
		t.Errorf("returned RevokedAt=%v reason=%q, want the first revocation", got.RevokedAt, got.RevokeReason)
	}
	if s := mustSession(t, st, "rr"); !sameTime(s.RevokedAt, first) || s.RevokeReason != "logout" {
		t.Errorf("stored RevokedAt=%v reason=%q, want the first revocation", s.RevokedAt, s.RevokeReason)
	}
	if f := feed(t, st, seq, 0); len(f) != 0 {
		t.Errorf("second revocation appended %+v", f)
	}
}

func testRotateConflict(t *testing.T, st store.Store) {
	ctx := t.Context()
	a := newSession("ca", "alice", at(0))
	mustCreate(t, st, a, digest("ca"))
	mustCreate(t, st, newSession("cb", "bob", at(0)), digest("cb"))
	_, _, err := st.Rotate(ctx, digest("ca"), rotateTo(digest("cb"), []byte{1}, at(time.Minute), at(time.Hour)))
	if !isConflict(err) {
		t.Fatalf("Rotate to an existing digest: err = %v, want ErrConflict", err)
	}
	checkSession(t, "session after refused rotation", mustSession(t, st, "ca"), a)
	if s, gen, err := st.SessionByToken(ctx, digest("cb")); err != nil || s.ID != "cb" || gen != 0 {
		t.Errorf("digest cb now resolves to %q gen %d (%v), want cb gen 0", s.ID, gen, err)
	}
	// The same session's own older digest is taken too.
	rotate(t, st, digest("ca"), rotateTo(digest("ca", 1), nil, at(time.Minute), at(time.Hour)))
	_, _, err = st.Rotate(ctx, digest("ca", 1), rotateTo(digest("ca"), nil, at(2*time.Minute), at(time.Hour)))
	if !isConflict(err) {
		t.Errorf("Rotate back to generation 0's digest: err = %v, want ErrConflict", err)
	}
	if s := mustSession(t, st, "ca"); s.Generation != 1 {
		t.Errorf("Generation after refused rotation = %d, want 1", s.Generation)
	}
}

func testRotateNotAliased(t *testing.T, st store.Store) {
	ctx := t.Context()
	mustCreate(t, st, newSession("na", "alice", at(0)), digest("na"))
	newHash := digest("na", 1)
	succ := []byte{1, 2, 3, 4}
	got, ch := rotate(t, st, digest("na"), rotateTo(newHash, succ, at(time.Minute), at(time.Hour)))
	// Reuse every buffer the store has seen or returned.
	newHash[0] ^= 0xff
	succ[0] = 0xee
	got.Successor[1] = 0xee
	ch.Successor[2] = 0xee
	ch.NewTokenHash[1] ^= 0xff
	s, gen, err := st.SessionByToken(ctx, digest("na", 1))
	if err != nil || gen != 1 {
		t.Fatalf("SessionByToken(gen 1) after buffer reuse: gen %d err %v", gen, err)
	}
	if !bytes.Equal(s.Successor, []byte{1, 2, 3, 4}) {
		t.Errorf("stored Successor = %x, want 01020304", s.Successor)
	}
	// decide gets a copy too.
	rotate(t, st, digest("na", 1), func(s store.Session, _ int64) store.Change {
		s.Successor[0] = 0xaa
		s.Generation = 99
		return store.Change{}
	})
	if s := mustSession(t, st, "na"); s.Generation != 1 || !bytes.Equal(s.Successor, []byte{1, 2, 3, 4}) {
		t.Errorf("decide mutated the store: Generation %d Successor %x", s.Generation, s.Successor)
	}
}

func testRotateDecideSees(t *testing.T, st store.Store) {
	// The store calls decide whatever the state: rules live in the core.
	revoked := newSession("dr", "alice", at(0))
	mustCreate(t, st, revoked, digest("dr"))
	if ok, err := st.RevokeSession(t.Context(), "dr", at(time.Minute), "logout"); err != nil || !ok {
		t.Fatalf("RevokeSession = %v, %v", ok, err)
	}
	expired := newSession("de", "alice", at(0))
	expired.IdleExpiresAt = at(time.Second)
	mustCreate(t, st, expired, digest("de"))

	var sawRevoked, sawExpired bool
	rotate(t, st, digest("dr"), func(s store.Session, _ int64) store.Change {
		sawRevoked = !s.RevokedAt.IsZero() && s.RevokeReason == "logout"
		return store.Change{}
	})
	rotate(t, st, digest("de"), func(s store.Session, _ int64) store.Change {
		sawExpired = !s.Active(at(time.Hour)) && s.RevokedAt.IsZero()
		return store.Change{}
	})
	if !sawRevoked {
		t.Errorf("decide did not see the revoked session as revoked")
	}
	if !sawExpired {
		t.Errorf("decide did not see the expired session as it is")
	}
}
