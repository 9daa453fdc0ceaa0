package rbac_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/authguard/authguard/rbac"
	"github.com/redis/go-redis/v9"
)

// redisOptions returns the options of the test server
// (AUTHGUARD_REDIS_URL). Without one the test is skipped, unless
// AUTHGUARD_REQUIRE_SERVICES=1 makes it fail.
func redisOptions(t testing.TB) *redis.Options {
	t.Helper()
	url := os.Getenv("AUTHGUARD_REDIS_URL")
	if url == "" {
		if os.Getenv("AUTHGUARD_REQUIRE_SERVICES") == "1" {
			t.Fatal("AUTHGUARD_REDIS_URL is not set but AUTHGUARD_REQUIRE_SERVICES=1")
		}
		t.Skip("AUTHGUARD_REDIS_URL is not set")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("AUTHGUARD_REDIS_URL: %v", err)
	}
	opt.ContextTimeoutEnabled = true // a hung call ends at its deadline
	return opt
}

// redisClient returns a client with opt, closed when t ends.
func redisClient(t testing.TB, opt *redis.Options) *redis.Client {
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// testRedis returns a client of the test server, which answers.
func testRedis(t testing.TB) *redis.Client {
	t.Helper()
	c := redisClient(t, redisOptions(t))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		if os.Getenv("AUTHGUARD_REQUIRE_SERVICES") == "1" {
			t.Fatalf("Redis is required (AUTHGUARD_REQUIRE_SERVICES=1) but does not answer: %v", err)
		}
		t.Skipf("Redis does not answer: %v", err)
	}
	return c
}

// redisPrefix returns a fresh random key prefix whose keys are deleted when
// t ends.
func redisPrefix(t testing.TB, c *redis.Client) string {
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

// redisAdapter returns an adapter over c under a fresh prefix.
func redisAdapter(t testing.TB, c *redis.Client) *rbac.RedisAdapter {
	t.Helper()
	ad, err := rbac.NewRedisAdapter(c, redisPrefix(t, c))
	if err != nil {
		t.Fatal(err)
	}
	return ad
}

// The keys share one hash tag, the prefix cannot change it, and a version
// starts at 0.
func TestRedisAdapterKeys(t *testing.T) {
	c := testRedis(t)
	for _, p := range []string{"a{b", "a}b", "{x}:"} {
		if _, err := rbac.NewRedisAdapter(c, p); err == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
	if _, err := rbac.NewRedisAdapter(nil, ""); err == nil {
		t.Error("nil client accepted")
	}
	ad, err := rbac.NewRedisAdapter(c, "")
	if err != nil || ad.Channel() != "authguard:{casbin}:changed" {
		t.Fatalf("default adapter: channel %q, %v", ad.Channel(), err)
	}
	ad = redisAdapter(t, c)
	if v, err := ad.PolicyVersion(t.Context()); v != 0 || err != nil {
		t.Errorf("version of an empty prefix: %d, %v", v, err)
	}
}

// Values with quotes, braces, markup and non-ASCII are stored and removed
// as they are, by a filter too.
func TestRedisAdapterValues(t *testing.T) {
	ad := redisAdapter(t, testRedis(t))
	odd := []string{`a"b\c`, "{x}", "<é>", "ü 日本"}
	if err := ad.AddPolicies("p", "p", [][]string{odd[:3], {odd[3], "obj", "act"}}); err != nil {
		t.Fatal(err)
	}
	e, err := rbac.NewEnforcer(rbac.ModelRBAC, ad)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := e.HasPolicy(odd[0], odd[1], odd[2]); !ok || err != nil {
		t.Fatalf("stored rule not loaded as it was: %v, %v", ok, err)
	}
	if err := ad.RemoveFilteredPolicy("p", "p", 1, "{x}"); err != nil {
		t.Fatal(err)
	}
	if err := e.LoadPolicy(); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.GetPolicy(); len(got) != 1 || got[0][0] != odd[3] {
		t.Errorf("after removing by the value {x}: %v", got)
	}
}

// A server that does not answer is an error everywhere, never a panic.
func TestRedisAdapterDown(t *testing.T) {
	opt := redisOptions(t)
	opt.Addr = "127.0.0.1:1" // nothing listens
	opt.MaxRetries, opt.DialerRetries = -1, 1
	ad, err := rbac.NewRedisAdapter(redisClient(t, opt), "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := ad.PolicyVersion(ctx); err == nil {
		t.Error("PolicyVersion: no error")
	}
	if _, err := rbac.NewEnforcer(rbac.ModelRBAC, ad); err == nil {
		t.Error("loading: no error")
	}
	if err := ad.AddPolicy("g", "g", []string{"a", "b"}); err == nil {
		t.Error("AddPolicy: no error")
	}
	if err := ad.RemoveFilteredPolicy("g", "g", 0, "a"); err == nil {
		t.Error("RemoveFilteredPolicy: no error")
	}
}
