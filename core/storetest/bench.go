package storetest

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authguard/authguard/core/store"
)

// RunBench runs the store benchmarks against the stores newStore returns
// (one fresh store per benchmark):
//
//	func BenchmarkStore(b *testing.B) {
//		storetest.RunBench(b, func(b *testing.B) store.Store { ... })
//	}
//
// Rotate is one refresh (a chain of rotations of one session),
// RotateParallel is refreshes of different sessions from GOMAXPROCS
// goroutines, SessionByToken a lookup, CreateSession a login.
func RunBench(b *testing.B, newStore func(b *testing.B) store.Store) {
	open := func(b *testing.B) store.Store {
		st := newStore(b)
		b.Cleanup(func() { _ = st.Close() })
		return st
	}
	var ids atomic.Int64
	// token returns a fresh 32-byte digest.
	token := func() []byte {
		h := make([]byte, 32)
		binary.BigEndian.PutUint64(h, uint64(ids.Add(1)))
		copy(h[8:], "storetest-benchmark-digest")
		return h
	}
	newSess := func(b *testing.B, st store.Store) []byte {
		h := token()
		s := newSession(fmt.Sprint("bench-", ids.Add(1)), "bench", t0)
		s.AbsoluteExpiresAt = t0.Add(1000 * time.Hour)
		if err := st.CreateSession(context.Background(), s, h); err != nil {
			b.Fatal(err)
		}
		return h
	}
	successor := make([]byte, 80)
	when := t0.Add(time.Minute)
	rotateOnce := func(b *testing.B, st store.Store, cur []byte) []byte {
		next := token()
		_, ch, err := st.Rotate(context.Background(), cur, rotateIfCurrent(next, successor, when))
		if err != nil {
			b.Fatal(err)
		}
		if ch.Kind != store.ChangeRotate {
			b.Fatalf("rotation not applied: %v", ch.Kind)
		}
		return next
	}

	b.Run("Rotate", func(b *testing.B) {
		st := open(b)
		cur := newSess(b, st)
		b.ReportAllocs()
		for b.Loop() {
			cur = rotateOnce(b, st, cur)
		}
	})
	b.Run("RotateParallel", func(b *testing.B) {
		st := open(b)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			cur := newSess(b, st)
			for pb.Next() {
				cur = rotateOnce(b, st, cur)
			}
		})
	})
	b.Run("SessionByToken", func(b *testing.B) {
		st := open(b)
		h := newSess(b, st)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := st.SessionByToken(context.Background(), h); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CreateSession", func(b *testing.B) {
		st := open(b)
		b.ReportAllocs()
		for b.Loop() {
			newSess(b, st)
		}
	})
}
