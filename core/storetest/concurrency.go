package storetest

import (
	"bytes"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authguard/authguard/core/store"
)

var concurrencyTests = []subtest{
	{"SameTokenOneWinner", testSameTokenRace},
	{"ManySessions", testManySessions},
	{"RotateVersusRevoke", testRotateVersusRevoke},
	{"MixedLoad", testMixedLoad},
}

// rotateIfCurrent rotates to newHash only when the presented token is the
// current one, the way the core does outside the grace window.
func rotateIfCurrent(newHash, successor []byte, when time.Time) store.Decide {
	return func(s store.Session, gen int64) store.Change {
		if gen != s.Generation || !s.RevokedAt.IsZero() {
			return store.Change{}
		}
		return store.Change{Kind: store.ChangeRotate, NewTokenHash: newHash, Successor: successor, At: when, IdleExpiresAt: when.Add(time.Hour)}
	}
}

// testSameTokenRace: N concurrent presentations of one token produce exactly
// one successor.
func testSameTokenRace(t *testing.T, st store.Store) {
	ctx := t.Context()
	const n = 100
	mustCreate(t, st, newSession("race", "alice", at(0)), digest("race"))

	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		wins  atomic.Int64
		mu    sync.Mutex
		won   []int
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			s, ch, err := st.Rotate(ctx, digest("race"), rotateIfCurrent(digest("race", "next", i), []byte(fmt.Sprint("succ", i)), at(time.Minute)))
			if err != nil {
				t.Errorf("goroutine %d: Rotate: %v", i, err)
				return
			}
			if ch.Kind == store.ChangeRotate {
				wins.Add(1)
				mu.Lock()
				won = append(won, i)
				mu.Unlock()
				if s.Generation != 1 {
					t.Errorf("winner %d: Generation = %d, want 1", i, s.Generation)
				}
			} else if ch.Kind != store.ChangeNone {
				t.Errorf("goroutine %d: change applied = %v", i, ch.Kind)
			}
		}()
	}
	close(start)
	wg.Wait()

	if w := wins.Load(); w != 1 {
		t.Fatalf("%d goroutines rotated the same generation-0 token, want exactly 1 (winners %v)", w, won)
	}
	winner := won[0]
	s := mustSession(t, st, "race")
	if s.Generation != 1 || !bytes.Equal(s.Successor, []byte(fmt.Sprint("succ", winner))) {
		t.Errorf("final session: Generation = %d Successor = %q; want 1, succ%d", s.Generation, s.Successor, winner)
	}
	// Exactly one successor lineage: only the winner's digest exists.
	for i := range n {
		_, gen, err := st.SessionByToken(ctx, digest("race", "next", i))
		switch {
		case i == winner && (err != nil || gen != 1):
			t.Errorf("winner's digest: gen %d, err %v", gen, err)
		case i != winner && !isNotFound(err):
			t.Errorf("loser %d's digest resolves (gen %d, err %v): a second successor branch", i, gen, err)
		}
	}
}

// testManySessions: rotations of different sessions do not block or break each other.
func testManySessions(t *testing.T, st store.Store) {
	ctx := t.Context()
	const sessions, rounds = 50, 20
	for i := range sessions {
		id := fmt.Sprint("m", i)
		mustCreate(t, st, newSession(id, fmt.Sprint("user", i%7), at(0)), digest(id, 0))
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint("m", i)
			<-start
			for r := 1; r <= rounds; r++ {
				s, ch, err := st.Rotate(ctx, digest(id, r-1), rotateIfCurrent(digest(id, r), []byte{byte(i), byte(r)}, at(time.Duration(r)*time.Second)))
				if err != nil {
					t.Errorf("%s round %d: Rotate: %v", id, r, err)
					return
				}
				if ch.Kind != store.ChangeRotate || s.Generation != int64(r) {
					t.Errorf("%s round %d: change %v, Generation %d", id, r, ch.Kind, s.Generation)
					return
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	for i := range sessions {
		id := fmt.Sprint("m", i)
		s := mustSession(t, st, id)
		if s.Generation != rounds || !bytes.Equal(s.Successor, []byte{byte(i), rounds}) {
			t.Errorf("%s: Generation = %d Successor = %x, want %d", id, s.Generation, s.Successor, rounds)
		}
		for r := 0; r <= rounds; r++ {
			got, gen, err := st.SessionByToken(ctx, digest(id, r))
			if err != nil || gen != int64(r) || got.ID != id {
				t.Errorf("%s gen %d: resolves to %q gen %d, err %v", id, r, got.ID, gen, err)
			}
		}
	}
}

// testRotateVersusRevoke: once a revocation is committed no rotation is applied.
func testRotateVersusRevoke(t *testing.T, st store.Store) {
	ctx := t.Context()
	const rotators, attempts, revokers = 20, 30, 5
	mustCreate(t, st, newSession("rv", "alice", at(0)), digest("rv"))

	var (
		wg          sync.WaitGroup
		start       = make(chan struct{})
		rotations   atomic.Int64
		revokedDone atomic.Bool
		revokeWins  atomic.Int64
		sawRevoked  atomic.Int64
		stale       atomic.Int64
		genAtRevoke atomic.Int64
		rotDone     atomic.Int64
		mu          sync.Mutex
		gens        []int64
	)
	for g := range rotators {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer rotDone.Add(1)
			<-start
			for a := range attempts {
				newHash := digest("rv", g, a)
				lastStale := false // of the last decide call, the one whose change is applied
				s, ch, err := st.Rotate(ctx, digest("rv"), func(s store.Session, _ int64) store.Change {
					// RevokeSession has returned, yet decide sees an active
					// session: a stale snapshot. Harmless only if the store
					// then discards this decision and calls decide again.
					lastStale = s.RevokedAt.IsZero() && revokedDone.Load()
					if !s.RevokedAt.IsZero() {
						sawRevoked.Add(1)
						return store.Change{}
					}
					return store.Change{Kind: store.ChangeRotate, NewTokenHash: newHash, Successor: newHash[:8], At: at(time.Minute), IdleExpiresAt: at(time.Hour)}
				})
				if err != nil {
					t.Errorf("rotator %d: Rotate: %v", g, err)
					return
				}
				if ch.Kind == store.ChangeRotate {
					if lastStale {
						stale.Add(1)
					}
					rotations.Add(1)
					if !s.RevokedAt.IsZero() {
						t.Errorf("rotator %d: a rotation was applied to a revoked session (generation %d)", g, s.Generation)
					}
					mu.Lock()
					gens = append(gens, s.Generation)
					mu.Unlock()
				}
			}
		}()
	}
	for range revokers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for rotations.Load() < 10 && rotDone.Load() < rotators {
				runtime.Gosched()
			}
			ok, err := st.RevokeSession(ctx, "rv", at(2*time.Minute), "revoked")
			if err != nil {
				t.Errorf("RevokeSession: %v", err)
				return
			}
			if ok {
				revokeWins.Add(1)
				revokedDone.Store(true)
				s, err := st.Session(ctx, "rv")
				if err != nil {
					t.Errorf("Session: %v", err)
					return
				}
				genAtRevoke.Store(s.Generation)
			}
		}()
	}
	close(start)
	wg.Wait()

	if n := revokeWins.Load(); n != 1 {
		t.Errorf("%d RevokeSession calls reported a change, want exactly 1", n)
	}
	if n := stale.Load(); n != 0 {
		t.Errorf("%d rotations were applied from a decision taken on a snapshot older than the committed revocation", n)
	}
	s := mustSession(t, st, "rv")
	if s.RevokedAt.IsZero() {
		t.Fatalf("session not revoked at the end")
	}
	if s.Generation != rotations.Load() {
		t.Errorf("final Generation = %d, but %d rotations were reported applied (lost or phantom updates)", s.Generation, rotations.Load())
	}
	if s.Generation != genAtRevoke.Load() {
		t.Errorf("final Generation = %d, Generation right after the revocation = %d: rotations applied after revocation", s.Generation, genAtRevoke.Load())
	}
	sort.Slice(gens, func(i, j int) bool { return gens[i] < gens[j] })
	for i, g := range gens {
		if g != int64(i+1) {
			t.Errorf("applied rotations returned generations %v, want 1..%d each once", gens, len(gens))
			break
		}
	}
	if f := feed(t, st, 0, 0); len(f) != 1 || f[0].SessionID != "rv" {
		t.Errorf("feed = %+v, want exactly one entry for rv", f)
	}
	// Deterministically: a rotation attempted now sees the revocation.
	_, ch, err := st.Rotate(ctx, digest("rv"), func(s store.Session, _ int64) store.Change {
		if s.RevokedAt.IsZero() {
			t.Errorf("decide after the race sees RevokedAt zero")
		}
		return store.Change{}
	})
	if err != nil || ch.Kind != store.ChangeNone {
		t.Errorf("final Rotate = %v, %v", ch.Kind, err)
	}
	t.Logf("%d rotations applied, decide saw the revocation %d times", rotations.Load(), sawRevoked.Load())
}

// testMixedLoad is the design's SQLite stress case, run against every store:
// 50 goroutines rotating different sessions while 20 goroutines follow one
// session's current token.
func testMixedLoad(t *testing.T, st store.Store) {
	ctx := t.Context()
	const sessions, rounds, hot, attempts = 50, 20, 20, 10
	for i := range sessions {
		id := fmt.Sprint("mx", i)
		mustCreate(t, st, newSession(id, "crowd", at(0)), digest(id, 0))
	}
	mustCreate(t, st, newSession("hot", "alice", at(0)), digest("hot", "gen0"))

	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		mu    sync.Mutex
		cur   = digest("hot", "gen0")
		won   = map[int64][]byte{} // generation -> digest
	)
	for i := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint("mx", i)
			<-start
			for r := 1; r <= rounds; r++ {
				_, ch, err := st.Rotate(ctx, digest(id, r-1), rotateIfCurrent(digest(id, r), []byte{byte(r)}, at(time.Duration(r)*time.Second)))
				if err != nil || ch.Kind != store.ChangeRotate {
					t.Errorf("%s round %d: %v, %v", id, r, ch.Kind, err)
					return
				}
			}
		}()
	}
	for g := range hot {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for a := range attempts {
				mu.Lock()
				present := cur
				mu.Unlock()
				newHash := digest("hot", g, a)
				s, ch, err := st.Rotate(ctx, present, rotateIfCurrent(newHash, newHash[:4], at(time.Minute)))
				if err != nil {
					t.Errorf("hot %d: Rotate: %v", g, err)
					return
				}
				if ch.Kind != store.ChangeRotate {
					continue
				}
				mu.Lock()
				if _, dup := won[s.Generation]; dup {
					t.Errorf("generation %d was produced twice: parallel successor branches", s.Generation)
				}
				won[s.Generation] = newHash
				// The presented token must have been generation Generation-1:
				// one linear lineage.
				parent := digest("hot", "gen0")
				if s.Generation > 1 {
					parent = won[s.Generation-1]
				}
				if !bytes.Equal(parent, present) {
					t.Errorf("generation %d was produced from a token that is not generation %d", s.Generation, s.Generation-1)
				}
				cur = newHash
				mu.Unlock()
				runtime.Gosched()
			}
		}()
	}
	close(start)
	wg.Wait()

	s := mustSession(t, st, "hot")
	if s.Generation < 1 || int(s.Generation) != len(won) {
		t.Errorf("hot: final Generation = %d, %d rotations applied", s.Generation, len(won))
	}
	for gen := int64(1); gen <= s.Generation; gen++ {
		h, ok := won[gen]
		if !ok {
			t.Errorf("hot: no applied rotation returned generation %d", gen)
			continue
		}
		if _, g, err := st.SessionByToken(ctx, h); err != nil || g != gen {
			t.Errorf("hot: digest of generation %d resolves to %d, %v", gen, g, err)
		}
	}
	for i := range sessions {
		if got := mustSession(t, st, fmt.Sprint("mx", i)); got.Generation != rounds {
			t.Errorf("mx%d: Generation = %d, want %d", i, got.Generation, rounds)
		}
	}
	t.Logf("hot session reached generation %d under contention", s.Generation)
}
