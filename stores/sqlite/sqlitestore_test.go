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

func TestMigrations(t *testing.T) {
	ctx := t.Context()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != SchemaVersion || ms[len(ms)-1].version != SchemaVersion {
		t.Fatalf("SchemaVersion = %d, but the last embedded migration is %d", SchemaVersion, ms[len(ms)-1].version)
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
	_, _, err := st.Rotate(ctx, []byte("x"), func(store.Session, int64) store.Change {
		t.Errorf("decide called after Close")
		return store.Change{}
	})
	if err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("Rotate after Close: err = %v, want an availability error (not ErrNotFound)", err)
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
	s := store.Session{ID: "s", Subject: "a", CreatedAt: time.Now(), IdleExpiresAt: time.Now().Add(time.Hour), AbsoluteExpiresAt: time.Now().Add(time.Hour)}
	if err := st.CreateSession(ctx, s, []byte("d")); err != nil {
		t.Fatal(err)
	}
	err := st.CreateSession(ctx, s, []byte("e"))
	if !errors.Is(err, store.ErrConflict) || !strings.HasPrefix(err.Error(), "sqlitestore: ") {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := st.Session(ctx, "none"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	if err := st.CreateSession(ctx, store.Session{ID: "t"}, nil); err == nil {
		t.Errorf("empty digest accepted")
	}
	_, _, err = st.Rotate(ctx, []byte("d"), func(store.Session, int64) store.Change { return store.Change{Kind: 42} })
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
		t.Errorf("unknown change kind: %v", err)
	}
	_, _, err = st.Rotate(ctx, []byte("d"), func(store.Session, int64) store.Change { return store.Change{Kind: store.ChangeRotate} })
	if err == nil {
		t.Errorf("rotation without a digest accepted")
	}
	if got, _ := st.Session(ctx, "s"); got.Generation != 0 {
		t.Errorf("refused change was written: Generation %d", got.Generation)
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
