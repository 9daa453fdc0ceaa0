package memstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authguard/authguard/core/memstore"
	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/core/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() })
}

func BenchmarkStore(b *testing.B) {
	storetest.RunBench(b, func(b *testing.B) store.Store { return memstore.New() })
}

func TestClosed(t *testing.T) {
	m := memstore.New()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := m.Ping(context.Background()); !errors.Is(err, memstore.ErrClosed) {
		t.Errorf("Ping after Close: %v, want ErrClosed", err)
	}
	if _, err := m.Session(context.Background(), "x"); !errors.Is(err, memstore.ErrClosed) {
		t.Errorf("Session after Close: %v, want ErrClosed", err)
	}
}

func TestPruneDropsEndedThrottleWindows(t *testing.T) {
	ctx := context.Background()
	m := memstore.New()
	t0 := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	m.Hit(ctx, "old", t0, time.Minute)
	m.Hit(ctx, "live", t0.Add(time.Hour), time.Minute)
	if _, err := m.Prune(ctx, t0.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// A longer window would still see "old" if it had been kept.
	if n, _, _ := m.Peek(ctx, "old", t0.Add(31*time.Minute), 24*time.Hour); n != 0 {
		t.Errorf("ended window survived Prune: count %d", n)
	}
	if n, _, _ := m.Peek(ctx, "live", t0.Add(time.Hour), time.Minute); n != 1 {
		t.Errorf("live window pruned: count %d", n)
	}
}

func TestTimesKeepFullPrecision(t *testing.T) {
	ctx := context.Background()
	m := memstore.New()
	t0 := time.Date(2031, 1, 1, 0, 0, 0, 123456789, time.FixedZone("x", 3600))
	s := store.Session{ID: "s", Subject: "a", CreatedAt: t0, IdleExpiresAt: t0.Add(time.Hour), AbsoluteExpiresAt: t0.Add(time.Hour)}
	if err := m.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, _ := m.Session(ctx, "s")
	if !got.CreatedAt.Equal(t0) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v in UTC", got.CreatedAt, t0.UTC())
	}
}

func TestSingleProcessMarker(t *testing.T) {
	var st store.Store = memstore.New()
	m, ok := st.(interface{ SingleProcessOnly() bool })
	if !ok || !m.SingleProcessOnly() {
		t.Errorf("memstore does not mark itself single-process")
	}
}

func BenchmarkService(b *testing.B) {
	storetest.RunServiceBench(b, memstore.New(), nil)
}
