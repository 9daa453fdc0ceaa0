package demotest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/authguard/authguard/core/token"
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

// TwoInstances opens two Apps at once on a fresh store of each of
// StoreKinds except memory, as two instances behind a load balancer (one
// store, one signing key), serves each with serve, and runs RoleRemoval
// across them, one parallel subtest per store.
func TwoInstances(t *testing.T, serve func(t *testing.T, app *demo.App) string) {
	t.Helper()
	for _, kind := range StoreKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			env := Env(t, map[string]string{demo.EnvStore: StoreURL(t, kind), demo.EnvSigningKey: SigningKeyFile(t)})
			// Both start at once on the fresh store: the policy is seeded once.
			apps := make([]*demo.App, 2)
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i := range apps {
				wg.Go(func() { apps[i], errs[i] = demo.Start(context.Background(), Getenv(env), nil) })
			}
			wg.Wait()
			for i, app := range apps {
				if app != nil {
					t.Cleanup(func() { _ = app.Close() })
				}
				if errs[i] != nil {
					t.Fatalf("instance %d: %v", i, errs[i])
				}
			}
			a, b := &Client{T: t, Base: serve(t, apps[0])}, &Client{T: t, Base: serve(t, apps[1])}
			RoleRemoval(t, a, b)
		})
	}
}

// SigningKeyFile writes a fresh Ed25519 key file for
// AUTHGUARD_SIGNING_KEY, which instances sharing a store must share.
func SigningKeyFile(t testing.TB) string {
	t.Helper()
	k, err := token.GenerateKey(token.AlgEdDSA)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := k.MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "signing-key.pem")
	if err := os.WriteFile(path, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// PolicyPropagation is how long a role change made through one instance
// may take to decide the requests of another: one second.
const PolicyPropagation = time.Second

// RoleRemoval checks, on two instances A and B of one store, that a role
// taken away through A's role administration decides the next request: the
// admin removes the role user from user@example.com on A, whose next read
// of the reports (a permission of user) is 403 on A at once and on B within
// PolicyPropagation; given back, the read is allowed again on A at once and
// on B within PolicyPropagation. It logs and returns B's delays.
func RoleRemoval(t testing.TB, a, b *Client) (removed, restored time.Duration) {
	t.Helper()
	admin, _ := a.login("admin@example.com", demo.DefaultDemoPassword)
	user, _ := a.login("user@example.com", demo.DefaultDemoPassword)
	r := a.Do("GET", demo.PathProfile, nil, bearer(user.Access)...)
	a.expect(r, 200, "user profile")
	sub, _ := r.JSON(t)["sub"].(string)
	for _, c := range []*Client{a, b} {
		r := c.Do("GET", "/auth/admin/roles/"+sub, nil, bearer(admin.Access)...)
		c.expect(r, 200, c.Base+": the user's roles")
		if !equalRoles(r.JSON(t)["roles"], "user") {
			t.Fatalf("%s: the user's roles %s, want [user]", c.Base, r.Body)
		}
		c.expect(c.Do("GET", demo.PathReports, nil, bearer(user.Access)...), 200, c.Base+": reports before the change")
	}
	role := "/auth/admin/roles/" + sub + "/" + demo.RoleUser

	start := time.Now()
	a.expect(a.Do("DELETE", role, nil, bearer(admin.Access)...), 204, "role user removed on A")
	a.expectError(a.Do("GET", demo.PathReports, nil, bearer(user.Access)...), 403, "insufficient_scope", "reports on A right after the removal")
	removed = untilStatus(b, user.Access, 403, start)

	start = time.Now()
	a.expect(a.Do("PUT", role, nil, bearer(admin.Access)...), 204, "role user given back on A")
	a.expect(a.Do("GET", demo.PathReports, nil, bearer(user.Access)...), 200, "reports on A right after the role came back")
	restored = untilStatus(b, user.Access, 200, start)
	t.Logf("%s: role user removed on A: denied by B after %s; given back: allowed by B after %s", t.Name(), removed.Round(time.Millisecond), restored.Round(time.Millisecond))
	return removed, restored
}

// untilStatus reads the reports on c with access until the answer is want
// (the other answer being the one before the change), and returns the time
// since start; it fails the test after PolicyPropagation.
func untilStatus(c *Client, access string, want int, start time.Time) time.Duration {
	c.T.Helper()
	for {
		r := c.Do("GET", demo.PathReports, nil, bearer(access)...)
		if r.Status == want {
			return time.Since(start)
		}
		if r.Status != 200 && r.Status != 403 {
			c.T.Fatalf("%s: reports during the change: %d %s", c.Base, r.Status, r.Body)
		}
		if d := time.Since(start); d > PolicyPropagation {
			c.T.Fatalf("%s: reports still answer %d %s after the change on the other instance", c.Base, r.Status, d.Round(time.Millisecond))
		}
		time.Sleep(2 * time.Millisecond)
	}
}
