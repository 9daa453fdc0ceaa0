package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authguard/authguard/core/store"
)

// WatchLoop runs listen again quickly after a run that listened, backs off
// while runs fail, returns a permanent error at once, and returns the
// context's error when the context ends during a backoff.
func TestWatchLoop(t *testing.T) {
	runs := func(listened bool, d time.Duration) int {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		n := 0
		err := store.WatchLoop(ctx, func(ctx context.Context) (bool, error) {
			n++
			return listened, nil
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("WatchLoop returned %v, want the context's error", err)
		}
		return n
	}
	if n := runs(true, 500*time.Millisecond); n < 4 {
		t.Errorf("%d runs in 500ms after runs that listened, want at least 4 (backoff 50ms)", n)
	}
	if n := runs(false, 300*time.Millisecond); n > 4 {
		t.Errorf("%d runs in 300ms of failing runs, want at most 4 (backoff doubling from 50ms)", n)
	}

	closed := errors.New("closed")
	start := time.Now()
	if err := store.WatchLoop(context.Background(), func(context.Context) (bool, error) { return false, closed }); err != closed {
		t.Fatalf("WatchLoop returned %v, want listen's error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	err := store.WatchLoop(ctx, func(context.Context) (bool, error) { return false, nil })
	if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Fatalf("WatchLoop returned %v after %v, want context.Canceled promptly", err, time.Since(start))
	}
}
