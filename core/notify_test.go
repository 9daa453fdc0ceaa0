package core_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/memstore"
	"github.com/authguard/authguard/core/store"
)

// notifyingStore is a memstore whose Watch hands its wake function to the
// test, and whose feed reads can be counted and held back.
type notifyingStore struct {
	*memstore.Store
	wake     chan func()
	watching atomic.Int32
	reads    atomic.Int64
	gate     chan struct{} // while non-nil and open, feed reads block
	hold     atomic.Bool
}

func (s *notifyingStore) Watch(ctx context.Context, wake func()) error {
	s.watching.Add(1)
	defer s.watching.Add(-1)
	s.wake <- wake
	<-ctx.Done()
	return ctx.Err()
}

func (s *notifyingStore) Revocations(ctx context.Context, after int64, limit int) ([]store.Revocation, error) {
	s.reads.Add(1)
	if s.hold.Load() {
		<-s.gate
	}
	return s.Store.Revocations(ctx, after, limit)
}

var _ store.Notifier = (*notifyingStore)(nil)

// With a notifying store, a wake reads the feed at once (the poll interval
// here is an hour), wakes arriving while a read is in flight coalesce into
// at most one more read, the default poll interval is 500ms, and Close ends
// Watch.
func TestNotifierWakesCoalesce(t *testing.T) {
	st := &notifyingStore{Store: memstore.New(), wake: make(chan func(), 1), gate: make(chan struct{})}
	f := authtest.New(t, authtest.Options{Store: st, Config: func(c *core.Config) {
		c.RevocationMaxStaleness = 2 * time.Hour
		c.RevocationPollInterval = time.Hour
	}})
	wake := <-st.wake
	waitReads := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for st.reads.Load() < want {
			if time.Now().After(deadline) {
				t.Fatalf("%d feed reads, want %d", st.reads.Load(), want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	base := st.reads.Load()
	wake()
	waitReads(base + 1)

	st.hold.Store(true)
	wake()
	waitReads(base + 2) // a read is now blocked in the store
	for range 1000 {
		wake()
	}
	st.hold.Store(false)
	close(st.gate)
	waitReads(base + 3) // the thousand wakes during it: one more read
	time.Sleep(100 * time.Millisecond)
	if n := st.reads.Load() - base; n != 3 {
		t.Fatalf("%d feed reads for 1002 wakes (1000 of them during a read), want 3", n)
	}

	if err := f.Service.Close(); err != nil {
		t.Fatal(err)
	}
	if n := st.watching.Load(); n != 0 {
		t.Fatalf("Watch still running after Close (%d)", n)
	}

	def := authtest.New(t, authtest.Options{Store: &notifyingStore{Store: memstore.New(), wake: make(chan func(), 1)}})
	if got := def.Service.Config().RevocationPollInterval; got != 500*time.Millisecond {
		t.Fatalf("default poll interval with a notifying store = %v, want 500ms", got)
	}
	plain := authtest.New(t, authtest.Options{})
	if got := plain.Service.Config().RevocationPollInterval; got != 250*time.Millisecond {
		t.Fatalf("default poll interval without one = %v, want 250ms", got)
	}
}
