package store

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff bounds of [WatchLoop].
const (
	watchBackoffMin = 50 * time.Millisecond
	watchBackoffMax = 5 * time.Second
)

// WatchLoop is the reconnecting loop of a [Notifier]'s Watch: it runs
// listen, which holds one connection of the backend's notification channel
// until the connection fails or ctx ends, again and again until ctx ends,
// and then returns ctx's error. listen reports whether it got as far as
// listening (and so called wake once, see Notifier), or an error when
// listening can never work (a closed store), which WatchLoop returns at
// once. Between runs the loop waits a jittered backoff that starts at 50ms
// after a run that listened and doubles, up to 5s, while runs keep failing
// to.
func WatchLoop(ctx context.Context, listen func(ctx context.Context) (listened bool, err error)) error {
	backoff := watchBackoffMin
	for ctx.Err() == nil {
		listened, err := listen(ctx)
		if err != nil {
			return err
		}
		if listened {
			backoff = watchBackoffMin
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		backoff = min(2*backoff, watchBackoffMax)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	return ctx.Err()
}
