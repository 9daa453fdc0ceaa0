package redisstore

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authguard/authguard/core/store"
)

// healthEvery is how long a subscription may stay silent before Watch
// pings it; a ping unanswered for as long again drops the connection.
const healthEvery = 15 * time.Second

// Channel returns the pub/sub channel on which the store announces every
// entry it appends to the revocation feed: the key prefix followed by
// "{feed}:wake". The message is only a hint (the new entry's Seq); the feed
// stays the truth.
func (s *Store) Channel() string { return s.o.prefix + "{feed}:wake" }

// Watch implements store.Notifier over Redis pub/sub: it subscribes to
// Channel on a connection of the caller's client (on a Cluster, plain
// PUBLISH and SUBSCRIBE reach every node), calls wake once subscribed and
// after every message, and subscribes again with a backoff when the
// connection fails, until ctx ends (or the store is closed: ErrClosed).
// The feed script publishes in the same script that appends the entry, so
// a wake never comes before the entry can be read. Messages published while
// no connection is subscribed are lost; the wake that follows the next
// subscription makes the caller read them from the feed.
//
// Watch returns as soon as ctx ends, even while go-redis is blocked on a
// server that stopped answering (it does not give up a read when a context
// is cancelled, only at its read timeout, and its reconnect holds the lock
// that PubSub.Close needs): the subscription is then dropped in the
// background when go-redis gives up, and wake is never called after Watch
// has returned.
func (s *Store) Watch(ctx context.Context, wake func()) error {
	return watch(ctx, s.c, s.Channel(), s.closed.Load, wake)
}

// WatchChannel is Watch for any channel (such as the rbac module's policy
// channel): it subscribes to channel on a connection of c, calls wake once
// subscribed and after every message, and subscribes again with a backoff
// when the connection fails, until ctx ends; then it returns ctx's error,
// promptly, and never calls wake again.
func WatchChannel(ctx context.Context, c redis.UniversalClient, channel string, wake func()) error {
	if c == nil || channel == "" {
		return errors.New("redisstore: WatchChannel needs a client and a channel")
	}
	return watch(ctx, c, channel, func() bool { return false }, wake)
}

// watch is Watch on channel, until ctx ends or closed reports true
// (ErrClosed).
func watch(ctx context.Context, c redis.UniversalClient, channel string, closed func() bool, wake func()) error {
	var (
		mu      sync.Mutex
		stopped bool
	)
	guarded := func() {
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			wake()
		}
	}
	defer func() {
		mu.Lock()
		stopped = true
		mu.Unlock()
	}()
	done := make(chan error, 1)
	go func() {
		done <- store.WatchLoop(ctx, func(ctx context.Context) (bool, error) {
			if closed() {
				return false, ErrClosed
			}
			return listen(ctx, c, channel, closed, guarded), nil
		})
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// listen holds one subscription until it fails, ctx ends or closed reports
// true, and reports whether it was ever subscribed.
func listen(ctx context.Context, c redis.UniversalClient, channel string, closed func() bool, wake func()) (subscribed bool) {
	ps := c.Subscribe(ctx, channel)
	defer ps.Close()
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() }) // unblocks a read
	defer stop()
	pinged := false
	for ctx.Err() == nil && !closed() {
		msg, err := ps.ReceiveTimeout(ctx, healthEvery)
		var ne net.Error
		switch {
		case err != nil && errors.As(err, &ne) && ne.Timeout() && !pinged:
			if ps.Ping(ctx) != nil {
				return subscribed
			}
			pinged = true
			continue
		case err != nil:
			return subscribed // go-redis would reconnect silently: start afresh
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				subscribed = true
				wake()
			}
		case *redis.Message:
			wake()
		}
	}
	return subscribed
}
