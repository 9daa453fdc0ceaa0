package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authguard/authguard/core/store"
	redisstore "github.com/authguard/authguard/stores/redis"
)

var t0 = time.Date(2031, time.March, 4, 5, 6, 7, 0, time.UTC)

func session(id string) store.Session {
	return store.Session{ID: id, Subject: "alice", CreatedAt: t0, LastUsedAt: t0,
		IdleExpiresAt: t0.Add(time.Hour), AbsoluteExpiresAt: t0.Add(24 * time.Hour), Version: 1}
}

func revokedUpdate(s store.Session) store.Update {
	n := s
	n.RevokedAt, n.RevokeReason, n.Version = t0.Add(time.Minute), "logout", s.Version+1
	return store.Update{Session: n, Version: s.Version, Revoked: true}
}

// TestWriterDiesAfterWrite: a revocation whose session write landed but
// whose writer died before appending it to the feed reaches the feed at the
// next read, exactly once.
func TestWriterDiesAfterWrite(t *testing.T) {
	st := newStore(t, testClient(t), redisstore.WithSweepAfter(0))
	ctx := t.Context()
	s := session("crash")
	if err := st.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	nonce, err := st.Announce(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	u := revokedUpdate(s)
	if err := st.WriteAnnounced(ctx, u, nonce); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		f, err := st.Revocations(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(f) != 1 || f[0].SessionID != "crash" || !f[0].RevokedAt.Equal(u.Session.RevokedAt) {
			t.Fatalf("feed = %+v, want the landed revocation once", f)
		}
	}
}

// TestAnnouncementGivenUp: an announced revocation whose write had not
// landed when a reader settled it is fenced: the late write is refused and
// writes nothing, and the feed stays empty.
func TestAnnouncementGivenUp(t *testing.T) {
	st := newStore(t, testClient(t), redisstore.WithSweepAfter(0))
	ctx := t.Context()
	s := session("late")
	if err := st.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	nonce, err := st.Announce(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := st.Revocations(ctx, 0, 0); err != nil || len(f) != 0 {
		t.Fatalf("feed = %+v, %v; want empty", f, err)
	}
	err = st.WriteAnnounced(ctx, revokedUpdate(s), nonce)
	if err == nil || errorsIsContract(err) {
		t.Fatalf("late write after its announcement was given up: err = %v, want an availability error", err)
	}
	got, err := st.Session(ctx, s.ID)
	if err != nil || got.Version != 1 || !got.RevokedAt.IsZero() {
		t.Fatalf("session after the refused write = %+v, %v; want version 1, not revoked", got, err)
	}
	if f, err := st.Revocations(ctx, 0, 0); err != nil || len(f) != 0 {
		t.Fatalf("feed = %+v, %v; want empty", f, err)
	}
	// The next revocation, with its own announcement, goes through.
	if err := st.UpdateSession(ctx, revokedUpdate(s)); err != nil {
		t.Fatal(err)
	}
	if f, err := st.Revocations(ctx, 0, 0); err != nil || len(f) != 1 {
		t.Fatalf("feed = %+v, %v; want one entry", f, err)
	}
}

func errorsIsContract(err error) bool {
	for _, e := range []error{store.ErrNotFound, store.ErrStale, store.ErrConflict} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// TestEvictionWarning: New warns when the server's maxmemory-policy can
// evict keys, and only then.
func TestEvictionWarning(t *testing.T) {
	c := testClient(t)
	for _, tc := range []struct {
		policy string
		warn   bool
	}{{"noeviction", false}, {"allkeys-lru", true}, {"volatile-ttl", true}} {
		t.Run(tc.policy, func(t *testing.T) {
			fake := redis.NewClient(c.Options())
			t.Cleanup(func() { _ = fake.Close() })
			fake.AddHook(configHook{policy: tc.policy})
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, nil))
			if _, err := redisstore.New(t.Context(), fake, redisstore.WithLogger(log), redisstore.WithPrefix(testPrefix(t, c))); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(buf.String(), "noeviction"); got != tc.warn {
				t.Errorf("policy %s: log %q; want a warning: %v", tc.policy, buf.String(), tc.warn)
			}
		})
	}
	// The real server's answer is read (CONFIG GET) without error.
	var buf bytes.Buffer
	if _, err := redisstore.New(t.Context(), c, redisstore.WithLogger(slog.New(slog.NewTextHandler(&buf, nil)))); err != nil {
		t.Fatal(err)
	}
	p := c.ConfigGet(t.Context(), "maxmemory-policy").Val()["maxmemory-policy"]
	if warned := strings.Contains(buf.String(), "maxmemory-policy"); warned != (p != "noeviction") {
		t.Errorf("server policy %q: log %q", p, buf.String())
	}
}

// configHook answers CONFIG GET maxmemory-policy with policy.
type configHook struct{ policy string }

func (configHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (configHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h configHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if c, ok := cmd.(*redis.MapStringStringCmd); ok && strings.EqualFold(cmd.Name(), "config") {
			c.SetVal(map[string]string{"maxmemory-policy": h.policy})
			return nil
		}
		return next(ctx, cmd)
	}
}

// TestCloseKeepsClient: Close leaves the caller's client open.
func TestCloseKeepsClient(t *testing.T) {
	c := testClient(t)
	st := newStore(t, c)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Ping(t.Context()); err == nil {
		t.Error("Ping after Close: nil error")
	}
	if err := c.Ping(t.Context()).Err(); err != nil {
		t.Errorf("the caller's client after Close: %v", err)
	}
}

func TestBadOptions(t *testing.T) {
	c := testClient(t)
	for _, o := range []redisstore.Option{redisstore.WithPrefix("a{b}:"), redisstore.WithRetention(time.Minute),
		redisstore.WithCallTimeout(-1), redisstore.WithLogger(nil)} {
		if _, err := redisstore.New(t.Context(), c, o); err == nil {
			t.Error("New with a bad option: nil error")
		}
	}
	if _, err := redisstore.New(t.Context(), nil); err == nil {
		t.Error("New(nil client): nil error")
	}
}

// TestClockSkewAnnouncement: instances whose clocks differ (the core
// tolerates an hour) do not fence each other's revocations. A reader whose
// clock is 15 seconds ahead of the writer's, reading the feed between the
// writer's announcement and its write, took the fresh announcement for one
// 5 seconds past the grace period and fenced it: the logout failed. The
// announcements are dated by the Redis server's clock, and so is their age.
func TestClockSkewAnnouncement(t *testing.T) {
	c := testClient(t)
	prefix := testPrefix(t, c)
	open := func(skew time.Duration) *redisstore.Store {
		st, err := redisstore.New(t.Context(), c, redisstore.WithPrefix(prefix), redisstore.WithClockSkew(skew))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	writer, ahead := open(0), open(15*time.Second)
	ctx := t.Context()
	s := session("skewed")
	if err := writer.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	nonce, err := writer.Announce(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ahead.Revocations(ctx, 0, 0); err != nil {
		t.Fatal(err)
	}
	u := revokedUpdate(s)
	if err := writer.WriteAnnounced(ctx, u, nonce); err != nil {
		t.Fatalf("a revocation fenced by a reader whose clock is ahead: %v", err)
	}
}

// TestClockSkewIndex: a session created by an instance whose clock is two
// minutes behind (the core tolerates an hour) stays in its subject's index
// although another instance lists the subject's sessions while the create
// is in flight (its index entry written, the session not yet): the lister
// takes a missing session's entry for a leftover only after a grace period,
// and judged by its own clock the writer's entry was already past it. A
// session missing from the index is never listed, and never revoked by
// RevokeSubject or ChangePassword.
func TestClockSkewIndex(t *testing.T) {
	c := testClient(t)
	prefix := testPrefix(t, c)
	open := func(skew time.Duration) *redisstore.Store {
		st, err := redisstore.New(t.Context(), c, redisstore.WithPrefix(prefix), redisstore.WithClockSkew(skew))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	behind, lister := open(-2*time.Minute), open(0)
	ctx := t.Context()
	const n = 200
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			s := session(fmt.Sprint("idx", i))
			s.Subject = "bob"
			if err := behind.CreateSession(ctx, s); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for listing := true; listing; {
		select {
		case <-done:
			listing = false
		default:
		}
		if _, err := lister.ListSessions(ctx, "bob", t0); err != nil {
			t.Fatal(err)
		}
	}
	got, err := lister.ListSessions(ctx, "bob", t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("ListSessions lists %d of the %d sessions created while it ran", len(got), n)
	}
}
