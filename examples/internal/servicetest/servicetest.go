// Package servicetest gives the example tests isolated stores on the test
// Redis and PostgreSQL servers: a fresh key prefix or schema per test,
// deleted when the test ends. A test without its server is skipped with the
// reason, or fails when AUTHGUARD_REQUIRE_SERVICES=1 (as in CI).
package servicetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// Defaults tried when the URL variables are unset.
const (
	DefaultRedisURL    = "redis://127.0.0.1:6379/0"
	DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
)

// ServiceURL returns the URL of a test server: the variable env when set,
// else def when something answers at addr. Without a server t is skipped,
// or fails when AUTHGUARD_REQUIRE_SERVICES=1.
func ServiceURL(t testing.TB, env, def, addr string) string {
	t.Helper()
	if u := os.Getenv(env); u != "" {
		return u
	}
	c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err == nil {
		_ = c.Close()
		return def
	}
	msg := env + " is unset and nothing answers at " + addr + ": " + err.Error()
	if os.Getenv("AUTHGUARD_REQUIRE_SERVICES") == "1" {
		t.Fatal(msg + " (AUTHGUARD_REQUIRE_SERVICES=1)")
	}
	t.Skip(msg)
	return ""
}

// RedisURL is a redis:// URL of the test server whose query parameter
// prefixParam names a fresh key prefix; the prefix's keys are deleted when
// t ends.
func RedisURL(t testing.TB, prefixParam string) string {
	t.Helper()
	base := ServiceURL(t, "AUTHGUARD_REDIS_URL", DefaultRedisURL, "127.0.0.1:6379")
	prefix := "agdemo-" + randomName(t) + ":"
	opts, err := redis.ParseURL(base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		client := redis.NewClient(opts)
		defer client.Close()
		ctx := context.Background()
		iter := client.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("deleting the test keys: %v", err)
		}
	})
	return withParam(t, base, prefixParam, prefix)
}

// PostgresURL is a postgres:// URL of the test server whose query
// parameter schemaParam names a fresh schema, dropped when t ends.
func PostgresURL(t testing.TB, schemaParam string) string {
	t.Helper()
	base := ServiceURL(t, "AUTHGUARD_POSTGRES_URL", DefaultPostgresURL, "127.0.0.1:5432")
	schema := "agdemo_" + randomName(t)
	t.Cleanup(func() {
		ctx := context.Background()
		pool, err := pgxpool.New(ctx, base)
		if err != nil {
			t.Errorf("dropping the test schema: %v", err)
			return
		}
		defer pool.Close()
		if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping the test schema: %v", err)
		}
	})
	return withParam(t, base, schemaParam, schema)
}

// withParam returns raw with the query parameter name set to value.
func withParam(t testing.TB, raw, name, value string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("%s: not a URL", name)
	}
	q := u.Query()
	q.Set(name, value)
	u.RawQuery = q.Encode()
	return u.String()
}

func randomName(t testing.TB) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
