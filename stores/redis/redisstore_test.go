package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/core/storetest"
	redisstore "github.com/authguard/authguard/stores/redis"
)

// testClient returns a client of the test server: AUTHGUARD_REDIS_URL, or
// 127.0.0.1:6379 when it answers. Without a server the test is skipped,
// unless AUTHGUARD_REQUIRE_SERVICES=1 makes it fail.
func testClient(t testing.TB) *redis.Client {
	t.Helper()
	url := os.Getenv("AUTHGUARD_REDIS_URL")
	if url == "" {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:6379", 300*time.Millisecond)
		if err != nil {
			unavailable(t, "AUTHGUARD_REDIS_URL is unset and nothing answers on 127.0.0.1:6379: "+err.Error())
		}
		_ = conn.Close()
		url = "redis://127.0.0.1:6379/0"
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("AUTHGUARD_REDIS_URL: %v", err)
	}
	opt.ContextTimeoutEnabled = true // as redisstore asks: a hung call ends at its deadline
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		unavailable(t, "Redis at "+url+" does not answer: "+err.Error())
	}
	return c
}

func unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("AUTHGUARD_REQUIRE_SERVICES") == "1" {
		t.Fatal(why + " (AUTHGUARD_REQUIRE_SERVICES=1)")
	}
	t.Skip(why)
}

// testPrefix returns a fresh random key prefix and deletes its keys when the
// test ends.
func testPrefix(t testing.TB, c *redis.Client) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	p := "authguard-test:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		it := c.Scan(ctx, 0, p+"*", 1000).Iterator()
		for it.Next(ctx) {
			_ = c.Del(ctx, it.Val()).Err()
		}
	})
	return p
}

func newStore(t testing.TB, c *redis.Client, opts ...redisstore.Option) *redisstore.Store {
	t.Helper()
	opts = append([]redisstore.Option{redisstore.WithPrefix(testPrefix(t, c))}, opts...)
	st, err := redisstore.New(t.Context(), c, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestConformance(t *testing.T) {
	c := testClient(t)
	storetest.Run(t, func(t *testing.T) store.Store { return newStore(t, c) })
}

func BenchmarkStore(b *testing.B) {
	c := testClient(b)
	storetest.RunBench(b, func(b *testing.B) store.Store { return newStore(b, c) })
}

// rawScript is the yardstick of BenchmarkService: the most trivial script.
var rawScript = redis.NewScript("return 1")

// BenchmarkService: refreshes through the core over this store against
// EVALSHA of a trivial script on the same client (see storetest.RunServiceBench).
func BenchmarkService(b *testing.B) {
	c := testClient(b)
	if err := rawScript.Load(b.Context(), c).Err(); err != nil {
		b.Fatal(err)
	}
	storetest.RunServiceBench(b, newStore(b, c), func(ctx context.Context, _ int) error {
		return rawScript.EvalSha(ctx, c, nil).Err()
	})
}
