package demotest

import (
	"path/filepath"
	"testing"

	"github.com/authguard/authguard/examples/internal/demo"
	"github.com/authguard/authguard/examples/internal/servicetest"
)

// StoreKinds are the stores every example server's own tests run on.
var StoreKinds = []string{demo.StoreSQLite, demo.StoreRedis, demo.StorePostgres}

// StoreURL returns an AUTHGUARD_STORE value naming a fresh store of kind,
// isolated from every other test: a SQLite file in a test directory, or a
// key prefix (redis://...?prefix=) or schema (postgres://...?schema=) of
// the test servers, removed when t ends. Without the server t is skipped,
// or fails when AUTHGUARD_REQUIRE_SERVICES=1.
func StoreURL(t testing.TB, kind string) string {
	t.Helper()
	switch kind {
	case demo.StoreSQLite:
		return "sqlite:" + filepath.Join(t.TempDir(), "authguard-demo.db")
	case demo.StoreRedis:
		return servicetest.RedisURL(t, demo.RedisPrefixParam)
	case demo.StorePostgres:
		return servicetest.PostgresURL(t, demo.PostgresSchemaParam)
	}
	t.Fatalf("no test store of kind %q", kind)
	return ""
}

// EndToEnd runs Flow against an example server on each of StoreKinds, one
// parallel subtest per store. serve starts the example's router over the
// App it is given and returns its base URL; it stops the server when its t
// ends.
func EndToEnd(t *testing.T, serve func(t *testing.T, app *demo.App) string) {
	t.Helper()
	for _, kind := range StoreKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			app := openApp(t, Env(t, map[string]string{demo.EnvStore: StoreURL(t, kind)}))
			Flow(t, serve(t, app), kind)
		})
	}
}
