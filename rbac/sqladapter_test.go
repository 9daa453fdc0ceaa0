package rbac_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authguard/authguard/rbac"
	pgstore "github.com/authguard/authguard/stores/postgres"
	sqlitestore "github.com/authguard/authguard/stores/sqlite"
	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/persist"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// sqliteDB returns a database migrated by the SQLite store (so the policy
// table is the store's) and a second handle on it for the adapter.
func sqliteDB(t testing.TB) (*sql.DB, rbac.Dialect, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "authguard.db")
	st, err := sqlitestore.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	db, err := sql.Open("sqlite", path+"?_txlock=immediate&_busy_timeout=5000&_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, rbac.SQLite, ""
}

// postgresDB returns a database/sql handle on the test server whose fresh
// schema the PostgreSQL store migrated, and the policy table in it. It
// skips t when no server answers, unless AUTHGUARD_REQUIRE_SERVICES=1.
func postgresDB(t testing.TB) (*sql.DB, rbac.Dialect, string) {
	t.Helper()
	url, schema := postgresSchema(t)
	db := stdlib.OpenDBFromPool(postgresPool(t, url))
	t.Cleanup(func() { _ = db.Close() })
	return db, rbac.PostgreSQL, schema + ".casbin_rule"
}

// postgresSchema returns the test server's URL and a fresh schema there
// that the PostgreSQL store migrated, dropped when t ends. It skips t when
// no server answers, unless AUTHGUARD_REQUIRE_SERVICES=1.
func postgresSchema(t testing.TB) (url, schema string) {
	t.Helper()
	url = os.Getenv("AUTHGUARD_POSTGRES_URL")
	if url == "" {
		if os.Getenv("AUTHGUARD_REQUIRE_SERVICES") == "1" {
			t.Fatal("AUTHGUARD_POSTGRES_URL is not set but AUTHGUARD_REQUIRE_SERVICES=1")
		}
		t.Skip("AUTHGUARD_POSTGRES_URL is not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, url)
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		if os.Getenv("AUTHGUARD_REQUIRE_SERVICES") == "1" {
			t.Fatalf("PostgreSQL is required (AUTHGUARD_REQUIRE_SERVICES=1) but unavailable: %v", err)
		}
		t.Skipf("PostgreSQL does not answer: %v", err)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema = "agrbac_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		_, _ = pool.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+schema+` CASCADE`)
		pool.Close()
	})
	if _, err := pgstore.New(ctx, pool, pgstore.WithSchema(schema)); err != nil {
		t.Fatal(err)
	}
	return url, schema
}

// postgresPool returns a pool on url, closed when t ends.
func postgresPool(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// sqlAdapter returns an adapter on a database that open prepared.
func sqlAdapter(t testing.TB, open func(testing.TB) (*sql.DB, rbac.Dialect, string)) *rbac.SQLAdapter {
	t.Helper()
	db, d, table := open(t)
	ad, err := rbac.NewSQLAdapter(db, d, table)
	if err != nil {
		t.Fatal(err)
	}
	return ad
}

// policyStore is an adapter with a policy version: SQLAdapter, RedisAdapter.
type policyStore interface {
	persist.BatchAdapter
	rbac.PolicyVersioner
}

func TestSQLAdapterSQLite(t *testing.T)   { testAdapter(t, sqlAdapter(t, sqliteDB)) }
func TestSQLAdapterPostgres(t *testing.T) { testAdapter(t, sqlAdapter(t, postgresDB)) }
func TestRedisAdapter(t *testing.T)       { testAdapter(t, redisAdapter(t, testRedis(t))) }

// testAdapter runs the adapter through casbin's enforcer on a real
// backend: save, load, auto-save of single and batch changes, filtered
// removal, idempotence, a second instance that sees the changes on Reload,
// and a version that every change raises.
func testAdapter(t *testing.T, ad policyStore) {
	ctx := context.Background()
	version := func() int64 {
		t.Helper()
		v, err := ad.PolicyVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v0 := version()
	// Seed the backend with the default policy.
	seed, err := rbac.NewEnforcer(rbac.ModelRBAC, rbac.PolicyFromString(rbac.DefaultPolicy+"g, alice, admin\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ad.SavePolicy(seed.GetModel()); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != v0+1 {
		t.Fatalf("version %d after a save from %d, want one more", v, v0)
	}
	instance := func() (*rbac.Authorizer, *casbin.SyncedEnforcer) {
		e, err := rbac.NewEnforcer(rbac.ModelRBAC, ad)
		if err != nil {
			t.Fatal(err)
		}
		a, err := rbac.New(e)
		if err != nil {
			t.Fatal(err)
		}
		return a, e
	}
	a1, e1 := instance()
	a2, _ := instance()
	allowed := func(a *rbac.Authorizer, sub, obj, act string) bool {
		t.Helper()
		ok, err := a.Authorize(ctx, principal(sub), obj, act)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !allowed(a1, "alice", "roles", "write") || !allowed(a1, "alice", "reports", "read") || allowed(a1, "bob", "reports", "read") {
		t.Fatal("the loaded policy is not the saved one")
	}
	if got, _ := e1.GetPolicy(); len(got) != 5 || !slices.Equal(got[0], []string{"user", "reports", "read"}) {
		t.Fatalf("policy order after load: %v", got)
	}

	// Single and batch changes are saved as they are made.
	if _, err := e1.AddRoleForUser("bob", "user"); err != nil {
		t.Fatal(err)
	}
	if _, err := e1.AddPolicies([][]string{{"user", "stats", "read"}, {"admin", "audit", "read"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e1.DeleteRoleForUser("alice", "admin"); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != v0+4 {
		t.Fatalf("version %d after a save and three changes from %d, want %d", v, v0, v0+4)
	}
	a1.PolicyChanged()
	if allowed(a2, "bob", "reports", "read") || !allowed(a2, "alice", "stats", "read") {
		t.Fatal("the second instance changed before its reload")
	}
	if err := a2.Reload(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		sub, obj, act string
		want          bool
	}{
		{"bob", "reports", "read", true},
		{"bob", "stats", "read", true},
		{"alice", "stats", "read", false},
		{"alice", "reports", "delete", false},
		{"admin", "audit", "read", true},
	} {
		if got := allowed(a2, c.sub, c.obj, c.act); got != c.want {
			t.Errorf("after reload: %s %s %s = %v, want %v", c.sub, c.obj, c.act, got, c.want)
		}
	}

	// Writes are idempotent against the table, whatever the model holds.
	if err := ad.AddPolicy("g", "g", []string{"bob", "user"}); err != nil {
		t.Errorf("adding a stored rule again: %v", err)
	}
	if err := ad.RemovePolicy("g", "g", []string{"nobody", "user"}); err != nil {
		t.Errorf("removing a rule that is not stored: %v", err)
	}
	if _, err := e1.RemovePolicies([][]string{{"user", "stats", "read"}, {"admin", "audit", "read"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e1.AddRoleForUser("bob", "admin"); err != nil {
		t.Fatal(err)
	}
	// Filtered removal: every role of bob.
	if _, err := e1.RemoveFilteredGroupingPolicy(0, "bob"); err != nil {
		t.Fatal(err)
	}
	if err := a2.Reload(); err != nil {
		t.Fatal(err)
	}
	_, e3 := instance()
	for _, e := range []rbac.Enforcer{a2.Enforcer(), e3} {
		roles, err := e.GetImplicitRolesForUser("bob")
		if err != nil || len(roles) != 0 {
			t.Errorf("bob's roles after the filtered removal: %v, %v", roles, err)
		}
	}
	if got, _ := e3.GetPolicy(); len(got) != 5 {
		t.Errorf("stored p rules: %v, want the 5 of the default policy", got)
	}

	// Rules the table cannot hold are refused, and leave the model as it was.
	before := version()
	if err := ad.AddPolicy("p", "p", []string{"1", "2", "3", "4", "5", "6", "7"}); err == nil || !strings.Contains(err.Error(), "at most 6") {
		t.Errorf("a rule of 7 values: %v", err)
	}
	if err := ad.RemoveFilteredPolicy("p", "p", 5, "a", "b"); err == nil {
		t.Error("a filter past v5 was accepted")
	}
	if v := version(); v != before {
		t.Errorf("refused changes moved the version from %d to %d", before, v)
	}
}

// Table names are identifiers, never SQL; SQLite has no schema prefix.
func TestSQLAdapterRefusesBadTables(t *testing.T) {
	db, _, _ := sqliteDB(t)
	for _, c := range []struct {
		d     rbac.Dialect
		table string
	}{
		{rbac.SQLite, "casbin_rule; DROP TABLE users"},
		{rbac.SQLite, "main.casbin_rule"},
		{rbac.PostgreSQL, `a"b`},
		{rbac.PostgreSQL, "a.b.c"},
		{rbac.PostgreSQL, "1abc"},
		{rbac.Dialect(9), "casbin_rule"},
	} {
		if _, err := rbac.NewSQLAdapter(db, c.d, c.table); err == nil {
			t.Errorf("NewSQLAdapter(%d, %q) succeeded", c.d, c.table)
		}
	}
	if _, err := rbac.NewSQLAdapter(nil, rbac.SQLite, ""); err == nil {
		t.Error("NewSQLAdapter(nil) succeeded")
	}
}

// A database that fails is an error everywhere: loading, reloading (the
// enforcer keeps its policy), and a change, which then does not happen in
// memory either.
func TestSQLAdapterFailures(t *testing.T) {
	ctx := context.Background()
	db, d, table := sqliteDB(t)
	ad, err := rbac.NewSQLAdapter(db, d, table)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO casbin_rule (ptype, v0, v1) VALUES ('g', 'bob', 'user'), ('p', 'user', 'reports')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE casbin_rule SET v2 = 'read' WHERE ptype = 'p'`); err != nil {
		t.Fatal(err)
	}
	e, err := rbac.NewEnforcer(rbac.ModelRBAC, ad)
	if err != nil {
		t.Fatal(err)
	}
	a, err := rbac.New(e)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := a.Authorize(ctx, principal("bob"), "reports", "read"); !ok {
		t.Fatal("rows written by hand were not loaded")
	}
	if _, err := db.Exec(`INSERT INTO casbin_rule (ptype, v0) VALUES ('', 'x')`); err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(); err == nil || !strings.Contains(err.Error(), "no policy type") {
		t.Errorf("Reload over a row without type = %v, want an error", err)
	}
	if ok, err := a.Authorize(ctx, principal("bob"), "reports", "read"); !ok || err != nil {
		t.Errorf("after a failed reload: %v, %v; want the policy kept", ok, err)
	}
	if _, err := db.Exec(`DELETE FROM casbin_rule WHERE ptype = ''`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(); err == nil {
		t.Error("Reload over a closed database succeeded")
	}
	if ok, err := e.AddRoleForUser("carol", "admin"); ok || err == nil {
		t.Errorf("AddRoleForUser over a closed database = %v, %v; want an error", ok, err)
	}
	if has, _ := e.HasRoleForUser("carol", "admin"); has {
		t.Error("a change the database refused is in the model")
	}
}

// Two instances write the same table at once: every rule is stored once.
func TestSQLAdapterConcurrentWrites(t *testing.T) {
	for name, open := range map[string]func(testing.TB) (*sql.DB, rbac.Dialect, string){"sqlite": sqliteDB, "postgres": postgresDB} {
		t.Run(name, func(t *testing.T) {
			db, d, table := open(t)
			ad, err := rbac.NewSQLAdapter(db, d, table)
			if err != nil {
				t.Fatal(err)
			}
			var start, wg sync.WaitGroup
			start.Add(1)
			errs := make(chan error, 8*10)
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					start.Wait()
					for i := range 10 {
						rule := []string{"u" + string(rune('a'+i)), "user"}
						if g%2 == 0 {
							errs <- ad.AddPolicy("g", "g", rule)
						} else {
							errs <- ad.AddPolicies("g", "g", [][]string{rule, {"shared", "user"}})
						}
					}
				}()
			}
			start.Done()
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			e, err := rbac.NewEnforcer(rbac.ModelRBAC, ad)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := e.GetGroupingPolicy(); len(got) != 11 {
				t.Fatalf("%d grouping rules stored, want 11 (each once): %v", len(got), got)
			}
		})
	}
}
