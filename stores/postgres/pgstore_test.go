package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/core/storetest"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// defaultURL is the server tried when AUTHGUARD_POSTGRES_URL is not set.
const defaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// testPool returns a small pool on the test server, closed when t ends. It
// skips t when no server answers, unless AUTHGUARD_REQUIRE_SERVICES=1.
func testPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	url, explicit := os.LookupEnv("AUTHGUARD_POSTGRES_URL")
	if !explicit || url == "" {
		url = defaultURL
	}
	required := os.Getenv("AUTHGUARD_REQUIRE_SERVICES") == "1"
	unavailable := func(err error) {
		t.Helper()
		if required {
			t.Fatalf("PostgreSQL at %s is required (AUTHGUARD_REQUIRE_SERVICES=1) but unavailable: %v", redact(url), err)
		}
		t.Skipf("PostgreSQL at %s does not answer (%v); set AUTHGUARD_POSTGRES_URL to a reachable server to run these tests", redact(url), err)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		unavailable(err)
	}
	cfg.MaxConns = 8
	if !explicit {
		cfg.ConnConfig.ConnectTimeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		unavailable(err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		unavailable(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// redact drops the password of a connection URL.
func redact(url string) string {
	cfg, err := pgconn.ParseConfig(url)
	if err != nil {
		return "(unparsable URL)"
	}
	return cfg.User + "@" + cfg.Host + "/" + cfg.Database
}

// freshSchema returns a random schema name, dropped with CASCADE when t ends.
func freshSchema(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	name := "agtest_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, `DROP SCHEMA IF EXISTS `+name+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// newTestStore returns a Store in a fresh schema on its own pool.
func newTestStore(t testing.TB, opts ...Option) (*Store, *pgxpool.Pool) {
	t.Helper()
	pool := testPool(t)
	schema := freshSchema(t, pool)
	st, err := New(context.Background(), pool, append([]Option{WithSchema(schema)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st, pool
}

func TestConformance(t *testing.T) {
	testPool(t) // skip (or fail) once, not in every subtest
	storetest.Run(t, func(t *testing.T) store.Store {
		st, _ := newTestStore(t)
		return st
	})
}

func BenchmarkStore(b *testing.B) {
	storetest.RunBench(b, func(b *testing.B) store.Store {
		st, _ := newTestStore(b)
		return st
	})
}

// BenchmarkService: refreshes through the core over this store against a
// one-row UPDATE (one row per client) on the same pool (see
// storetest.RunServiceBench).
func BenchmarkService(b *testing.B) {
	st, pool := newTestStore(b)
	table := st.Schema() + ".bench_raw"
	ctx := b.Context()
	if _, err := pool.Exec(ctx, `CREATE TABLE `+table+` (id int PRIMARY KEY, n bigint NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO `+table+` SELECT g, 0 FROM generate_series(0, $1) g`, slices.Max(storetest.BenchClients)); err != nil {
		b.Fatal(err)
	}
	update := `UPDATE ` + table + ` SET n = n + 1 WHERE id = $1`
	storetest.RunServiceBench(b, st, func(ctx context.Context, client int) error {
		_, err := pool.Exec(ctx, update, client)
		return err
	})
}

// TestConcurrentNew: five instances starting at once on a fresh schema all
// succeed, and exactly one of them applies the migrations.
func TestConcurrentNew(t *testing.T) {
	pool := testPool(t)
	schema := freshSchema(t, pool)
	const n = 5
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		stores  [n]*Store
		errs    [n]error
		applied int
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			stores[i], errs[i] = New(t.Context(), pool, WithSchema(schema))
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("New #%d: %v", i, err)
		}
		applied += stores[i].migrated
	}
	if applied != SchemaVersion {
		t.Errorf("%d migrations applied by %d concurrent New calls, want %d (each exactly once)", applied, n, SchemaVersion)
	}
	var rows int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM `+schema+`.schema_version`).Scan(&rows); err != nil || rows != SchemaVersion {
		t.Errorf("schema_version has %d rows, %v; want %d", rows, err, SchemaVersion)
	}
	for i, st := range stores {
		if err := st.CreateUser(t.Context(), store.User{ID: string(rune('a' + i)), Email: string(rune('a'+i)) + "@example.com"}); err != nil {
			t.Errorf("store #%d: CreateUser: %v", i, err)
		}
	}
	if c, err := stores[0].CountUsers(t.Context()); err != nil || c != n {
		t.Errorf("CountUsers = %d, %v; want %d (one schema shared)", c, err, n)
	}
}

func TestMigrations(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != SchemaVersion || ms[len(ms)-1].Version != SchemaVersion {
		t.Fatalf("SchemaVersion = %d, but the last embedded migration is %d", SchemaVersion, ms[len(ms)-1].Version)
	}
	st, pool := newTestStore(t)
	ctx := t.Context()
	if v, err := st.schemaVersion(ctx); err != nil || v != SchemaVersion || st.migrated != SchemaVersion {
		t.Fatalf("version after New = %d, %v (applied %d); want %d", v, err, st.migrated, SchemaVersion)
	}
	if err := st.CreateUser(ctx, store.User{ID: "u", Email: "u@example.com"}); err != nil {
		t.Fatal(err)
	}
	// A second New on the same schema applies nothing and sees the data.
	st2, err := New(ctx, pool, WithSchema(st.Schema()))
	if err != nil {
		t.Fatalf("second New: %v", err)
	}
	if st2.migrated != 0 {
		t.Errorf("second New applied %d migrations, want 0", st2.migrated)
	}
	if n, err := st2.CountUsers(ctx); err != nil || n != 1 {
		t.Errorf("CountUsers through the second store = %d, %v; want 1", n, err)
	}
	// A schema written by a newer release is refused.
	if _, err := pool.Exec(ctx, `INSERT INTO `+st.Schema()+`.schema_version (version) VALUES ($1)`, SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	if _, err := New(ctx, pool, WithSchema(st.Schema())); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("New on a newer schema: err = %v, want ErrSchemaTooNew", err)
	}
}

// TestDefaultSchema: without WithSchema the tables live in "authguard".
func TestDefaultSchema(t *testing.T) {
	pool := testPool(t)
	ctx := t.Context()
	var existed bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, DefaultSchema).Scan(&existed); err != nil {
		t.Fatal(err)
	}
	if existed {
		t.Skipf("schema %q already exists on the test server; not touching it", DefaultSchema)
	}
	t.Cleanup(func() { pool.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+DefaultSchema+` CASCADE`) })
	st, err := New(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if st.Schema() != DefaultSchema {
		t.Errorf("Schema() = %q, want %q", st.Schema(), DefaultSchema)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM authguard.schema_version`).Scan(&n); err != nil || n != SchemaVersion {
		t.Errorf("authguard.schema_version: %d rows, %v", n, err)
	}
}

func TestOptions(t *testing.T) {
	for _, name := range []string{"", "Upper", "has-dash", "1digit", "pg_catalog", `a"b`, string(make([]byte, 64))} {
		if _, err := New(context.Background(), &pgxpool.Pool{}, WithSchema(name)); err == nil {
			t.Errorf("WithSchema(%q): no error", name)
		}
	}
	if _, err := New(context.Background(), &pgxpool.Pool{}, WithMaxRetries(-1)); err == nil {
		t.Error("WithMaxRetries(-1): no error")
	}
	if _, err := New(context.Background(), nil); err == nil {
		t.Error("New(nil pool): no error")
	}
}

// TestCloseKeepsPool: Close does not close the caller's pool, and the
// closed store refuses calls with ErrClosed.
func TestCloseKeepsPool(t *testing.T) {
	st, pool := newTestStore(t)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pool.Ping(t.Context()); err != nil {
		t.Errorf("pool after Store.Close: %v", err)
	}
	if _, err := st.Session(t.Context(), "x"); !errors.Is(err, ErrClosed) {
		t.Errorf("Session after Close: %v, want ErrClosed", err)
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestRetry: serialization failures and deadlocks are retried a bounded
// number of times; other errors are not.
func TestRetry(t *testing.T) {
	st := &Store{opts: options{maxRetries: 3}}
	ctx := t.Context()
	for _, code := range []string{codeSerializationFailure, codeDeadlockDetected} {
		calls := 0
		err := st.write(ctx, "op", func(context.Context) error {
			calls++
			if calls < 3 {
				return &pgconn.PgError{Code: code}
			}
			return nil
		})
		if err != nil || calls != 3 {
			t.Errorf("%s twice then success: err = %v after %d calls, want nil after 3", code, err, calls)
		}
		calls = 0
		err = st.write(ctx, "op", func(context.Context) error { calls++; return &pgconn.PgError{Code: code} })
		if sqlState(err) != code || calls != 4 {
			t.Errorf("%s always: err = %v after %d calls, want it after 4", code, err, calls)
		}
	}
	calls := 0
	err := st.write(ctx, "op", func(context.Context) error { calls++; return &pgconn.PgError{Code: codeUniqueViolation} })
	if !errors.Is(err, store.ErrConflict) || calls != 1 {
		t.Errorf("unique violation: err = %v after %d calls, want ErrConflict after 1", err, calls)
	}
	calls = 0
	err = st.write(ctx, "op", func(context.Context) error { calls++; return errors.New("boom") })
	if err == nil || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) || calls != 1 {
		t.Errorf("other error: err = %v after %d calls, want a plain error after 1", err, calls)
	}
	if st.retries.Load() != 2*(2+3) {
		t.Errorf("retries counted = %d, want %d", st.retries.Load(), 2*(2+3))
	}
}
