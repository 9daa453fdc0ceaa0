package redisstore_test

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	redisstore "github.com/authguard/authguard/stores/redis"
)

// blackHole is a loopback TCP proxy to target that, once swallow is set,
// drops the connections it carries and accepts new ones without ever
// answering (a server that stopped answering, or a cut network path).
type blackHole struct {
	ln      net.Listener
	target  string
	swallow atomic.Bool
	mu      sync.Mutex
	conns   []net.Conn
}

func newBlackHole(t *testing.T, target string) *blackHole {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackHole{ln: ln, target: target}
	t.Cleanup(func() {
		_ = ln.Close()
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, c := range b.conns {
			_ = c.Close()
		}
	})
	go b.serve()
	return b
}

func (b *blackHole) serve() {
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		b.mu.Lock()
		b.conns = append(b.conns, c)
		b.mu.Unlock()
		if b.swallow.Load() {
			continue
		}
		u, err := net.Dial("tcp", b.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		b.mu.Lock()
		b.conns = append(b.conns, u)
		b.mu.Unlock()
		go func() { _, _ = io.Copy(u, c); _ = u.Close() }()
		go func() { _, _ = io.Copy(c, u); _ = c.Close() }()
	}
}

// start swallowing: cut every carried connection, answer no new one.
func (b *blackHole) start() {
	b.swallow.Store(true)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.conns {
		_ = c.Close()
	}
	b.conns = nil
}

// Watch returns promptly when its context ends although go-redis is stuck
// resubscribing to a server that stopped answering (go-redis gives up a
// read only at its read timeout, and its reconnect holds the lock Close
// needs: Watch used to return 4 to 5 seconds late, and Service.Close with
// it, 5 to 35 seconds in a measured shutdown), and never wakes after it
// returned.
func TestWatchReturnsPromptlyOnSilentServer(t *testing.T) {
	hole := newBlackHole(t, testClient(t).Options().Addr)
	c := redis.NewClient(&redis.Options{Addr: hole.ln.Addr().String()})
	t.Cleanup(func() { _ = c.Close() })
	st, err := redisstore.New(t.Context(), c, redisstore.WithPrefix(testPrefix(t, testClient(t))))
	if err != nil {
		t.Fatal(err)
	}
	var returned atomic.Bool
	late := make(chan struct{}, 1)
	woken := make(chan struct{}, 100)
	wake := func() {
		if returned.Load() {
			select {
			case late <- struct{}{}:
			default:
			}
		}
		select {
		case woken <- struct{}{}:
		default:
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { err := st.Watch(ctx, wake); returned.Store(true); done <- err }()
	select {
	case <-woken: // subscribed
	case <-time.After(5 * time.Second):
		t.Fatal("Watch never subscribed through the proxy")
	}
	hole.start()
	time.Sleep(300 * time.Millisecond) // go-redis now resubscribes into the hole
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if took := time.Since(start); took > 500*time.Millisecond {
			t.Errorf("Watch returned %v after its context ended, want promptly", took)
		}
		if err == nil {
			t.Error("Watch returned nil, want the context's error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Watch still running 10s after its context ended")
	}
	select {
	case <-late:
		t.Error("wake called after Watch returned")
	case <-time.After(100 * time.Millisecond):
	}
}
