package storetest

import (
	"context"
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
// Refresh is one refresh as the core does it (Session, then UpdateSession
// over the version read), RefreshParallel is refreshes of different sessions
// from GOMAXPROCS goroutines, Session a lookup, CreateSession a login.
func RunBench(b *testing.B, newStore func(b *testing.B) store.Store) {
	open := func(b *testing.B) store.Store {
		st := newStore(b)
		b.Cleanup(func() { _ = st.Close() })
		return st
	}
	var ids atomic.Int64
	newSess := func(b *testing.B, st store.Store) string {
		s := newSession(fmt.Sprint("bench-", ids.Add(1)), "bench", t0)
		s.AbsoluteExpiresAt = t0.Add(1000 * time.Hour)
		mustCreate(b, st, s)
		return s.ID
	}
	when := t0.Add(time.Minute)
	refresh := func(b *testing.B, st store.Store, id string) {
		s, err := st.Session(context.Background(), id)
		if err != nil {
			b.Fatal(err)
		}
		next := rotated(s, when)
		next.Successor = make([]byte, 80)
		if err := update(context.Background(), st, next, false); err != nil {
			b.Fatal(err)
		}
	}

	b.Run("Refresh", func(b *testing.B) {
		st := open(b)
		id := newSess(b, st)
		b.ReportAllocs()
		for b.Loop() {
			refresh(b, st, id)
		}
	})
	b.Run("RefreshParallel", func(b *testing.B) {
		st := open(b)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			id := newSess(b, st)
			for pb.Next() {
				refresh(b, st, id)
			}
		})
	})
	b.Run("Session", func(b *testing.B) {
		st := open(b)
		id := newSess(b, st)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := st.Session(context.Background(), id); err != nil {
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
