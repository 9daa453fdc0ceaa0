package sqlitestore

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authguard/authguard/core/store"
)

func hash(parts ...any) []byte {
	s := sha256.Sum256(fmt.Appendf(nil, "%q", parts))
	return s[:]
}

// rotate reads the session and writes its next generation over the version
// read, until a write wins; it returns the generation written.
func rotate(t *testing.T, st *Store, id string, when time.Time) (int64, bool) {
	for {
		s, err := st.Session(t.Context(), id)
		if err != nil {
			t.Errorf("%s: Session: %v", id, err)
			return 0, false
		}
		next := s
		next.Generation++
		next.TokenDigest = hash(id, next.Generation)
		next.Successor = next.TokenDigest[:8]
		next.RotatedAt, next.LastUsedAt, next.IdleExpiresAt = when, when, when.Add(time.Hour)
		next.Version++
		err = st.UpdateSession(t.Context(), store.Update{Session: next, Version: s.Version})
		if err == nil {
			return next.Generation, true
		}
		if !errors.Is(err, store.ErrStale) {
			t.Errorf("%s: UpdateSession: %v", id, err)
			return 0, false
		}
	}
}

// TestStressTwoHandles is the design's SQLite stress case with the contention
// moved between two Store handles on one file (as two processes on one host
// would be): 50 goroutines rotate 50 different sessions 20 times each while
// 20 goroutines race to rotate one session, each write conditional on the
// version it read. The two writers only meet at SQLite's file lock, so BEGIN
// IMMEDIATE, the conditional UPDATE and the busy handling are what keep each
// version written exactly once here.
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
			IdleExpiresAt: t0.Add(time.Hour), AbsoluteExpiresAt: t0.Add(24 * time.Hour),
			TokenDigest: hash(id, 0), SecretDigest: hash(id, "secret"), Version: 1}
	}
	const sessions, rounds, hot, attempts = 50, 20, 20, 10
	for i := range sessions {
		if err := handles[i%2].CreateSession(ctx, newSess(fmt.Sprint("s", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := handles[0].CreateSession(ctx, newSess("hot")); err != nil {
		t.Fatal(err)
	}

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		gens []int64
	)
	start := make(chan struct{})
	for i := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := handles[i%2]
			<-start
			for r := 1; r <= rounds; r++ {
				if gen, won := rotate(t, st, fmt.Sprint("s", i), t0.Add(time.Duration(r)*time.Second)); !won || gen != int64(r) {
					t.Errorf("s%d round %d: generation %d, %v", i, r, gen, won)
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
			for range attempts {
				gen, won := rotate(t, st, "hot", t0.Add(time.Minute))
				if !won {
					return
				}
				mu.Lock()
				gens = append(gens, gen)
				mu.Unlock()
			}
		}()
	}
	began := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(began)

	slices.Sort(gens)
	if len(gens) != hot*attempts {
		t.Errorf("%d winning writes of the hot session, want %d", len(gens), hot*attempts)
	}
	for i, g := range gens {
		if g != int64(i+1) {
			t.Errorf("hot writes won generations %v, want 1..%d once each", gens, len(gens))
			break
		}
	}
	for _, st := range handles {
		s, err := st.Session(ctx, "hot")
		if err != nil || s.Generation != int64(len(gens)) || s.Version != int64(len(gens))+1 {
			t.Errorf("hot: Generation %d, Version %d, %v; want %d, %d", s.Generation, s.Version, err, len(gens), len(gens)+1)
		}
	}
	for i := range sessions {
		s, err := handles[(i+1)%2].Session(ctx, fmt.Sprint("s", i))
		if err != nil || s.Generation != rounds || s.Version != rounds+1 {
			t.Errorf("s%d: Generation %d, Version %d, %v; want %d", i, s.Generation, s.Version, err, rounds)
		}
	}
	retries := handles[0].retries.Load() + handles[1].retries.Load()
	t.Logf("%d rotations of different sessions and %d of the hot session in %v; %d transactions retried after SQLITE_BUSY",
		sessions*rounds, len(gens), elapsed.Round(time.Millisecond), retries)
	return retries
}
