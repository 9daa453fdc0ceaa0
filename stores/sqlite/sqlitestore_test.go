package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/core/storetest"
)

func openTemp(t testing.TB, opts ...Option) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "authguard.db")
	st, err := Open(context.Background(), path, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st, path
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		st, _ := openTemp(t)
		return st
	})
}

func BenchmarkStore(b *testing.B) {
	storetest.RunBench(b, func(b *testing.B) store.Store {
		st, _ := openTemp(b)
		return st
	})
}

// BenchmarkService: refreshes through the core over this store, for
// reference next to the shared stores (see storetest.RunServiceBench).
func BenchmarkService(b *testing.B) {
	st, _ := openTemp(b)
	storetest.RunServiceBench(b, st, nil)
}

func TestMigrations(t *testing.T) {
	ctx := t.Context()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != SchemaVersion || ms[len(ms)-1].Version != SchemaVersion {
		t.Fatalf("SchemaVersion = %d, but the last embedded migration is %d", SchemaVersion, ms[len(ms)-1].Version)
	}

	st, path := openTemp(t)
	if v, err := st.schemaVersion(ctx); err != nil || v != SchemaVersion {
		t.Fatalf("version after first open = %d, %v; want %d", v, err, SchemaVersion)
	}
	// Data written before a re-open survives it, and re-opening applies nothing.
	if err := st.CreateUser(ctx, store.User{ID: "u", Email: "u@example.com"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	for range 2 {
		st2, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("re-open: %v", err)
		}
		if v, err := st2.schemaVersion(ctx); err != nil || v != SchemaVersion {
			t.Errorf("version after re-open = %d, %v; want %d", v, err, SchemaVersion)
		}
		var rows int
		if err := st2.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_version`).Scan(&rows); err != nil || rows != SchemaVersion {
			t.Errorf("schema_version has %d rows, %v; want %d", rows, err, SchemaVersion)
		}
		if n, err := st2.CountUsers(ctx); err != nil || n != 1 {
			t.Errorf("CountUsers after re-open = %d, %v", n, err)
		}
		var mode string
		if err := st2.w.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || !strings.EqualFold(mode, "wal") {
			t.Errorf("journal_mode = %q, %v; want wal", mode, err)
		}
		var fk int
		if err := st2.w.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
			t.Errorf("foreign_keys = %d, %v; want 1", fk, err)
		}
		var busy int
		if err := st2.r.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy); err != nil || busy != 5000 {
			t.Errorf("reader busy_timeout = %d, %v; want 5000", busy, err)
		}
		var syncMode int
		if err := st2.w.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&syncMode); err != nil || syncMode != 1 {
			t.Errorf("synchronous = %d, %v; want 1 (NORMAL)", syncMode, err)
		}
		st2.Close()
	}

	// A database from the future is refused.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_version (version, applied_at) VALUES (?, 0)`, SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if st3, err := Open(ctx, path); !errors.Is(err, ErrSchemaTooNew) {
		if st3 != nil {
			st3.Close()
		}
		t.Fatalf("Open(newer schema): err = %v, want ErrSchemaTooNew", err)
	}
}

func TestReadersAreReadOnly(t *testing.T) {
	st, _ := openTemp(t)
	if _, err := st.r.ExecContext(t.Context(), `DELETE FROM users`); err == nil {
		t.Errorf("a reader connection accepted a write")
	}
}

func TestOpenRefuses(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	for _, p := range []string{"", ":memory:", "file:x.db", filepath.Join(dir, "a?b.db"), filepath.Join(dir, "a#b.db")} {
		if st, err := Open(ctx, p); err == nil {
			st.Close()
			t.Errorf("Open(%q) succeeded, want an error", p)
		}
	}
	good := filepath.Join(dir, "ok.db")
	for name, opt := range map[string]Option{
		"negative busy timeout": WithBusyTimeout(-time.Second),
		"negative retries":      WithBusyRetries(-1),
		"zero readers":          WithMaxReaders(0),
	} {
		if st, err := Open(ctx, good, opt); err == nil {
			st.Close()
			t.Errorf("Open with %s succeeded, want an error", name)
		}
	}
	st, err := Open(ctx, good, WithBusyTimeout(250*time.Millisecond), WithBusyRetries(0), WithMaxReaders(1), WithFullSync())
	if err != nil {
		t.Fatalf("Open with valid options: %v", err)
	}
	defer st.Close()
	var syncMode, busy int
	if err := st.w.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&syncMode); err != nil || syncMode != 2 {
		t.Errorf("synchronous = %d, %v; want 2 (FULL)", syncMode, err)
	}
	if err := st.w.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy); err != nil || busy != 250 {
		t.Errorf("busy_timeout = %d, %v; want 250", busy, err)
	}
	if _, err := Open(ctx, filepath.Join(dir, "missing-dir", "x.db")); err == nil {
		t.Errorf("Open in a missing directory succeeded")
	}
}

func TestClosedStoreErrors(t *testing.T) {
	st, _ := openTemp(t)
	ctx := t.Context()
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := st.Ping(ctx); err == nil {
		t.Errorf("Ping after Close: nil error")
	}
	next := store.Session{ID: "x", Version: 2}
	if err := st.UpdateSession(ctx, store.Update{Session: next, Version: 1}); err == nil ||
		errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrStale) {
		t.Errorf("UpdateSession after Close: err = %v, want an availability error (not ErrNotFound or ErrStale)", err)
	}
	if _, err := st.Session(ctx, "x"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("Session after Close: err = %v, want an availability error (not ErrNotFound)", err)
	}
	if _, _, err := st.Peek(ctx, "k", time.Now(), time.Minute); err == nil {
		t.Errorf("Peek after Close: nil error")
	}
}

func TestErrorMapping(t *testing.T) {
	st, _ := openTemp(t)
	ctx := t.Context()
	s := store.Session{ID: "s", Subject: "a", CreatedAt: time.Now(), IdleExpiresAt: time.Now().Add(time.Hour),
		AbsoluteExpiresAt: time.Now().Add(time.Hour), Version: 1}
	if err := st.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	err := st.CreateSession(ctx, s)
	if !errors.Is(err, store.ErrConflict) || !strings.HasPrefix(err.Error(), "sqlitestore: ") {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := st.Session(ctx, "none"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	next := s
	next.Generation, next.Version = 1, 2
	stale := next
	stale.Version = 6
	err = st.UpdateSession(ctx, store.Update{Session: stale, Version: 5})
	if !errors.Is(err, store.ErrStale) || errors.Is(err, store.ErrNotFound) || !strings.HasPrefix(err.Error(), "sqlitestore: ") {
		t.Errorf("stale: %v", err)
	}
	ghost := next
	ghost.ID = "none"
	if err := st.UpdateSession(ctx, store.Update{Session: ghost, Version: 1}); !errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrStale) {
		t.Errorf("update of a missing session: %v", err)
	}
	// A new state whose version is not the one read plus one would let the
	// next writer's version check pass twice: refused, nothing written.
	if err := st.UpdateSession(ctx, store.Update{Session: next, Version: 0}); err == nil ||
		errors.Is(err, store.ErrStale) || errors.Is(err, store.ErrNotFound) {
		t.Errorf("malformed version accepted or mapped to a sentinel: %v", err)
	}
	if got, _ := st.Session(ctx, "s"); got.Generation != 0 || got.Version != 1 {
		t.Errorf("refused updates were written: Generation %d, Version %d", got.Generation, got.Version)
	}
}

// TestMigrateFrom1: a database written under schema 1 upgrades to the
// current version: the per-token table is gone, its sessions (which the new
// token format cannot refresh) are deleted, each one not yet revoked gets a
// feed entry, and users, throttle and older feed entries are kept.
func TestMigrateFrom1(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "v1.db")
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT`,
		ms[0].SQL,
		`INSERT INTO schema_version VALUES (1, 0)`,
		`INSERT INTO users (id, email, created_at) VALUES ('u', 'u@example.com', 0)`,
		`INSERT INTO sessions (id, subject, created_at, idle_expires_at, absolute_expires_at) VALUES ('live', 'u', 1, 2, 3)`,
		`INSERT INTO sessions (id, subject, created_at, idle_expires_at, absolute_expires_at, revoked_at) VALUES ('dead', 'u', 1, 2, 3, 2)`,
		`INSERT INTO refresh_tokens VALUES (x'01', 'live', 0), (x'02', 'live', 1), (x'03', 'dead', 0)`,
		`INSERT INTO revocations (session_id, revoked_at) VALUES ('dead', 2)`,
		`INSERT INTO throttle VALUES ('k', 1, 0, 60000)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	before := time.Now().Add(-time.Second)
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open(schema 1): %v", err)
	}
	defer st.Close()
	if v, err := st.schemaVersion(ctx); err != nil || v != SchemaVersion {
		t.Fatalf("version after upgrade = %d, %v; want %d", v, err, SchemaVersion)
	}
	var n int
	if err := st.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema WHERE name = 'refresh_tokens'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("refresh_tokens still exists (%d, %v)", n, err)
	}
	for _, id := range []string{"live", "dead"} {
		if _, err := st.Session(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("schema-1 session %s after upgrade: %v, want ErrNotFound", id, err)
		}
	}
	f, err := st.Revocations(ctx, 0, 0)
	if err != nil || len(f) != 2 || f[0].SessionID != "dead" || f[1].SessionID != "live" ||
		f[1].RevokedAt.Before(before) || f[1].Seq <= f[0].Seq {
		t.Errorf("feed after upgrade = %+v, %v; want the old entry for dead, then one for live at upgrade time", f, err)
	}
	if n, err := st.CountUsers(ctx); err != nil || n != 1 {
		t.Errorf("users after upgrade = %d, %v; want 1", n, err)
	}
	if c, _, err := st.Peek(ctx, "k", time.UnixMilli(1), time.Minute); err != nil || c != 1 {
		t.Errorf("throttle after upgrade = %d, %v; want 1", c, err)
	}
	// The upgraded schema takes new sessions with every field.
	s := store.Session{ID: "new", Subject: "u", TokenDigest: []byte{1}, SecretDigest: []byte{2}, RetryOpen: true, Version: 1}
	if err := st.CreateSession(ctx, s); err != nil {
		t.Fatalf("CreateSession after upgrade: %v", err)
	}
	if got, err := st.Session(ctx, "new"); err != nil || !got.RetryOpen || got.Version != 1 || len(got.SecretDigest) != 1 {
		t.Errorf("session after upgrade = %+v, %v", got, err)
	}
}

func TestPruneThrottle(t *testing.T) {
	st, _ := openTemp(t)
	ctx := t.Context()
	t0 := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	st.Hit(ctx, "old", t0, time.Minute)
	st.Hit(ctx, "new", t0.Add(time.Hour), time.Minute)
	if _, err := st.Prune(ctx, t0.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	var n int
	st.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM throttle`).Scan(&n)
	if n != 1 {
		t.Errorf("throttle rows after Prune = %d, want 1", n)
	}
	if c, _, _ := st.Peek(ctx, "new", t0.Add(time.Hour), time.Minute); c != 1 {
		t.Errorf("live counter pruned")
	}
}

func TestOpenCreatesOwnerOnlyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.db")
	st, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Fatalf("database file mode %o, want 600: it holds password hashes", mode)
	}
}
