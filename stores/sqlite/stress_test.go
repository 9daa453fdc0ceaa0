package sqlitestore

import (
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authguard/authguard/core/store"
)

func hash(parts ...any) []byte {
	s := sha256.Sum256(fmt.Appendf(nil, "%q", parts))
	return s[:]
}

func rotateIfCurrent(next []byte, when time.Time) store.Decide {
	return func(s store.Session, gen int64) store.Change {
		if gen != s.Generation || !s.RevokedAt.IsZero() {
			return store.Change{}
		}
		return store.Change{Kind: store.ChangeRotate, NewTokenHash: next, Successor: next[:8], At: when, IdleExpiresAt: when.Add(time.Hour)}
	}
}

// TestStressTwoHandles is the design's SQLite stress case with the contention
// moved between two Store handles on one file (as two processes on one host
// would be): 50 goroutines rotate 50 different sessions 20 times each while
// 20 goroutines race on one session's current token. The two writers only
// meet at SQLite's file lock, so BEGIN IMMEDIATE and the busy handling are
// what keep rotations atomic here.
func TestStressTwoHandles(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{"BusyTimeout", nil},
		// No busy timeout: SQLITE_BUSY surfaces at once and only the jittered
		// retry loop absorbs it.
		{"RetryOnly", []Option{WithBusyTimeout(0), WithBusyRetries(1000)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			retries := stressTwoHandles(t, tc.opts...)
			if tc.name == "RetryOnly" && retries == 0 {
				t.Errorf("no transaction was retried: the SQLITE_BUSY retry path did not run")
			}
		})
	}
}

// stressTwoHandles returns how many write transactions were retried.
func stressTwoHandles(t *testing.T, opts ...Option) int64 {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "stress.db")
	var handles [2]*Store
	for i := range handles {
		st, err := Open(ctx, path, opts...)
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		t.Cleanup(func() { st.Close() })
		handles[i] = st
	}
	t0 := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	newSess := func(id string) store.Session {
		return store.Session{ID: id, Subject: "stress", CreatedAt: t0, LastUsedAt: t0,
			IdleExpiresAt: t0.Add(time.Hour), AbsoluteExpiresAt: t0.Add(24 * time.Hour)}
	}
	const sessions, rounds, hot, attempts = 50, 20, 20, 10
	for i := range sessions {
		if err := handles[i%2].CreateSession(ctx, newSess(fmt.Sprint("s", i)), hash("s", i, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := handles[0].CreateSession(ctx, newSess("hot"), hash("hot", 0)); err != nil {
		t.Fatal(err)
	}

	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		mu    sync.Mutex
		cur   = hash("hot", 0)
		gens  []int64
		first atomic.Int64 // winners on the generation-0 token
	)
	for i := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := handles[i%2]
			<-start
			for r := 1; r <= rounds; r++ {
				s, ch, err := st.Rotate(ctx, hash("s", i, r-1), rotateIfCurrent(hash("s", i, r), t0.Add(time.Duration(r)*time.Second)))
				if err != nil || ch.Kind != store.ChangeRotate || s.Generation != int64(r) {
					t.Errorf("s%d round %d: %v gen %d, %v", i, r, ch.Kind, s.Generation, err)
					return
				}
			}
		}()
	}
	for g := range hot {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := handles[g%2]
			<-start
			for a := range attempts {
				mu.Lock()
				present := cur
				mu.Unlock()
				next := hash("hot", g, a)
				s, ch, err := st.Rotate(ctx, present, rotateIfCurrent(next, t0.Add(time.Minute)))
				if err != nil {
					t.Errorf("hot %d: %v", g, err)
					return
				}
				if ch.Kind != store.ChangeRotate {
					continue
				}
				if s.Generation == 1 {
					first.Add(1)
				}
				mu.Lock()
				gens = append(gens, s.Generation)
				cur = next
				mu.Unlock()
			}
		}()
	}
	began := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(began)

	if n := first.Load(); n != 1 {
		t.Errorf("%d rotations of the generation-0 token, want exactly 1", n)
	}
	sort.Slice(gens, func(i, j int) bool { return gens[i] < gens[j] })
	for i, g := range gens {
		if g != int64(i+1) {
			t.Errorf("hot rotations returned generations %v, want 1..%d once each", gens, len(gens))
			break
		}
	}
	for _, st := range handles {
		s, err := st.Session(ctx, "hot")
		if err != nil || s.Generation != int64(len(gens)) {
			t.Errorf("hot: Generation %d, %v; want %d", s.Generation, err, len(gens))
		}
	}
	for i := range sessions {
		s, err := handles[(i+1)%2].Session(ctx, fmt.Sprint("s", i))
		if err != nil || s.Generation != rounds {
			t.Errorf("s%d: Generation %d, %v; want %d", i, s.Generation, err, rounds)
		}
	}
	retries := handles[0].retries.Load() + handles[1].retries.Load()
	t.Logf("%d rotations of different sessions and %d of the hot session in %v; %d transactions retried after SQLITE_BUSY",
		sessions*rounds, len(gens), elapsed.Round(time.Millisecond), retries)
	return retries
}
