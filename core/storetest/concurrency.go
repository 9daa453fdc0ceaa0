package storetest

import (
	"bytes"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authguard/authguard/core/store"
)

var concurrencyTests = []subtest{
	{"SameVersionOneWinner", testSameVersionRace},
	{"ManySessions", testManySessions},
	{"UpdatesVersusRevoke", testUpdatesVersusRevoke},
	{"MixedLoad", testMixedLoad},
	{"FeedTailMissesNothing", testFeedTail},
}

// rotateLoop reads the session and writes its rotation until a write wins,
// the session is revoked (false) or an error other than ErrStale occurs.
// It returns the state it wrote.
func rotateLoop(t *testing.T, st store.Store, id string, when time.Time, tag any) (store.Session, bool) {
	for {
		s, err := st.Session(t.Context(), id)
		if err != nil {
			t.Errorf("Session(%s): %v", id, err)
			return store.Session{}, false
		}
		if !s.RevokedAt.IsZero() {
			return s, false
		}
		next := rotated(s, when)
		next.Successor = digest(id, "successor", next.Generation, tag)
		switch err := update(t.Context(), st, next, false); {
		case err == nil:
			return next, true
		case !isStale(err):
			t.Errorf("UpdateSession(%s): %v", id, err)
			return store.Session{}, false
		}
		runtime.Gosched()
	}
}

// testSameVersionRace: N writers that all read version 1 race to write
// version 2: exactly one wins, every other gets ErrStale, and the stored
// state is the winner's. This is what makes a refresh token single-use
// without a lock held across the core's decision.
func testSameVersionRace(t *testing.T, st store.Store) {
	const n = 100
	mustCreate(t, st, newSession("race", "alice", at(0)))
	var (
		read, wg sync.WaitGroup
		start    = make(chan struct{})
		stale    atomic.Int64
		mu       sync.Mutex
		won      []int
		states   = make([]store.Session, n)
	)
	read.Add(n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := st.Session(t.Context(), "race")
			read.Done()
			if err != nil {
				t.Errorf("goroutine %d: Session: %v", i, err)
				return
			}
			next := rotated(s, at(time.Minute))
			next.TokenDigest = digest("race", "winner", i)
			next.Successor = []byte(fmt.Sprint("succ", i))
			states[i] = next
			<-start
			switch err := update(t.Context(), st, next, false); {
			case err == nil:
				mu.Lock()
				won = append(won, i)
				mu.Unlock()
			case isStale(err):
				stale.Add(1)
			default:
				t.Errorf("goroutine %d: UpdateSession: %v", i, err)
			}
		}()
	}
	read.Wait() // every writer read version 1 before any writes
	close(start)
	wg.Wait()
	if len(won) != 1 || stale.Load() != n-1 {
		t.Fatalf("%d writers of version 2 won (%v) and %d got ErrStale; want exactly 1 and %d", len(won), won, stale.Load(), n-1)
	}
	checkSession(t, "final state", mustSession(t, st, "race"), states[won[0]])
}

// testManySessions: writes of different sessions do not block, refuse or
// break each other.
func testManySessions(t *testing.T, st store.Store) {
	const sessions, rounds = 50, 20
	for i := range sessions {
		mustCreate(t, st, newSession(fmt.Sprint("m", i), fmt.Sprint("user", i%7), at(0)))
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	final := make([]store.Session, sessions)
	for i := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint("m", i)
			<-start
			for r := 1; r <= rounds; r++ {
				s, err := st.Session(t.Context(), id)
				if err != nil {
					t.Errorf("%s round %d: Session: %v", id, r, err)
					return
				}
				next := rotated(s, at(time.Duration(r)*time.Second))
				if err := update(t.Context(), st, next, false); err != nil {
					t.Errorf("%s round %d: UpdateSession without contention: %v", id, r, err)
					return
				}
				final[i] = next
			}
		}()
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	for i := range sessions {
		s := mustSession(t, st, fmt.Sprint("m", i))
		checkSession(t, s.ID, s, final[i])
		if s.Generation != rounds || s.Version != rounds+1 {
			t.Errorf("%s: Generation %d, Version %d; want %d, %d", s.ID, s.Generation, s.Version, rounds, rounds+1)
		}
	}
}

// testUpdatesVersusRevoke: rotations racing with revocations, each written
// over the version it read: exactly one revocation lands, no rotation is
// lost or applied to a revoked state, and the feed has one entry.
func testUpdatesVersusRevoke(t *testing.T, st store.Store) {
	const rotators, attempts, revokers = 20, 30, 5
	mustCreate(t, st, newSession("rv", "alice", at(0)))
	var (
		wg         sync.WaitGroup
		start      = make(chan struct{})
		rotations  atomic.Int64
		revokeWins atomic.Int64
		mu         sync.Mutex
		gens       []int64
	)
	for g := range rotators {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for a := range attempts {
				s, ok := rotateLoop(t, st, "rv", at(time.Minute), fmt.Sprint(g, "/", a))
				if !ok {
					return
				}
				rotations.Add(1)
				mu.Lock()
				gens = append(gens, s.Generation)
				mu.Unlock()
			}
		}()
	}
	for r := range revokers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for rotations.Load() < 10 {
				runtime.Gosched()
			}
			for {
				s, err := st.Session(t.Context(), "rv")
				if err != nil || !s.RevokedAt.IsZero() {
					return
				}
				err = update(t.Context(), st, revoked(s, at(2*time.Minute), fmt.Sprint("revoker", r)), true)
				if err == nil {
					revokeWins.Add(1)
					return
				}
				if !isStale(err) {
					t.Errorf("revoker %d: UpdateSession: %v", r, err)
					return
				}
			}
		}()
	}
	close(start)
	wg.Wait()

	if n := revokeWins.Load(); n != 1 {
		t.Errorf("%d revoking writes won, want exactly 1", n)
	}
	s := mustSession(t, st, "rv")
	if s.RevokedAt.IsZero() {
		t.Fatalf("session not revoked at the end")
	}
	if s.Generation != rotations.Load() || s.Version != rotations.Load()+2 {
		t.Errorf("final Generation %d, Version %d after %d winning rotations and one revocation: lost or phantom writes",
			s.Generation, s.Version, rotations.Load())
	}
	slices.Sort(gens)
	for i, g := range gens {
		if g != int64(i+1) {
			t.Errorf("winning rotations wrote generations %v, want 1..%d each once", gens, len(gens))
			break
		}
	}
	if f := feed(t, st, 0, 0); len(f) != 1 || f[0].SessionID != "rv" {
		t.Errorf("feed = %+v, want exactly one entry for rv", f)
	}
}

// testMixedLoad is the SQLite stress case of the design, run against every
// store: 50 goroutines rotating their own sessions while 20 goroutines fight
// over one hot session and readers page through the feed and list sessions.
// The hot session's writes form one linear chain of versions.
func testMixedLoad(t *testing.T, st store.Store) {
	const sessions, rounds, hot, attempts = 50, 20, 20, 10
	for i := range sessions {
		mustCreate(t, st, newSession(fmt.Sprint("mx", i), "crowd", at(0)))
	}
	mustCreate(t, st, newSession("hot", "alice", at(0)))
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		done  = make(chan struct{})
		mu    sync.Mutex
		won   = map[int64][]byte{} // generation -> successor written
	)
	for i := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for r := 1; r <= rounds; r++ {
				if _, ok := rotateLoop(t, st, fmt.Sprint("mx", i), at(time.Duration(r)*time.Second), r); !ok {
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
				s, ok := rotateLoop(t, st, "hot", at(time.Minute), fmt.Sprint(g, "/", a))
				if !ok {
					return
				}
				mu.Lock()
				if _, dup := won[s.Generation]; dup {
					t.Errorf("generation %d was written twice: parallel branches", s.Generation)
				}
				won[s.Generation] = s.Successor
				mu.Unlock()
			}
		}()
	}
	readers := readUnderLoad(t, st, done)
	close(start)
	wg.Wait()
	close(done)
	readers.Wait()

	s := mustSession(t, st, "hot")
	if s.Generation != hot*attempts || s.Version != hot*attempts+1 || len(won) != hot*attempts {
		t.Errorf("hot: Generation %d, Version %d, %d winning writes; want %d, %d, %d",
			s.Generation, s.Version, len(won), hot*attempts, hot*attempts+1, hot*attempts)
	}
	if !bytes.Equal(s.Successor, won[s.Generation]) {
		t.Errorf("hot: stored Successor is not the one of the last winning write")
	}
	for i := range sessions {
		if got := mustSession(t, st, fmt.Sprint("mx", i)); got.Generation != rounds || got.Version != rounds+1 {
			t.Errorf("mx%d: Generation %d, Version %d; want %d, %d", i, got.Generation, got.Version, rounds, rounds+1)
		}
	}
}

// readUnderLoad pages through the feed and lists sessions until done is
// closed; wait on the returned group.
func readUnderLoad(t *testing.T, st store.Store, done <-chan struct{}) *sync.WaitGroup {
	var readers sync.WaitGroup
	for _, read := range []func() error{
		func() error { _, err := st.Revocations(t.Context(), 0, 10); return err },
		func() error { _, err := st.ListSessions(t.Context(), "crowd", at(time.Minute)); return err },
	} {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := read(); err != nil {
					t.Errorf("read under load: %v", err)
					return
				}
			}
		}()
	}
	return &readers
}
