// Package sqlitestore is the embedded SQLite implementation of store.Store,
// built on the pure-Go driver modernc.org/sqlite (no cgo).
//
// SINGLE HOST. SQLite is a file: every process that shares a Store must run on
// the same machine and open the same local file (not a network file system,
// whose locking SQLite cannot rely on). Several processes on one host may open
// the same file; they serialise their writes through SQLite's file lock. For
// several hosts use a network store (postgres, redis).
//
// How the contract is met:
//
//   - the database runs in WAL mode with foreign keys on, synchronous=NORMAL
//     (see [WithFullSync]) and a busy timeout (see [WithBusyTimeout]);
//   - writes go through one dedicated connection and every write transaction
//     starts with BEGIN IMMEDIATE, so it holds SQLite's single write lock from
//     its first statement, in one process or across processes;
//   - [Store.UpdateSession] is one conditional UPDATE (WHERE id = ? AND
//     version = ?) and, for a revocation, the feed INSERT, in one such
//     transaction: of concurrent writers of one version exactly one wins;
//   - reads use a separate pool of read-only connections, which WAL lets run
//     alongside the writer;
//   - SQLITE_BUSY that outlasts the busy timeout is retried a bounded number of
//     times with jittered backoff (see [WithBusyRetries]); the transaction is
//     rolled back and run again from the start;
//   - the schema is embedded and migrated in order, one transaction per
//     version, when the store is opened; a database written by a newer
//     version of this package is refused ([ErrSchemaTooNew]);
//   - times are stored as INTEGER Unix milliseconds UTC (NULL for the zero
//     time) and come back in UTC truncated to the millisecond;
//   - sql.ErrNoRows becomes store.ErrNotFound and unique-key violations
//     store.ErrConflict, a lost version check is store.ErrStale; every other
//     error is returned wrapped, and the core answers it with 503.
//
// The store only ever sees digests and sealed successors, never tokens, and
// logs nothing. Besides store.Store it implements store.UserCounter,
// store.Pinger and store.Footprinter.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/authguard/authguard/core/store"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Defaults of the options.
const (
	// DefaultBusyTimeout is how long SQLite waits for a lock held by another
	// connection before it reports SQLITE_BUSY.
	DefaultBusyTimeout = 5 * time.Second
	// DefaultBusyRetries is how many times a write transaction that still
	// failed with SQLITE_BUSY is run again.
	DefaultBusyRetries = 5
	// DefaultMaxReaders is the size of the read-only connection pool.
	DefaultMaxReaders = 4
)

// ErrSchemaTooNew reports a database whose schema version is newer than this
// package knows: it was written by a newer release and is not opened.
var ErrSchemaTooNew = errors.New("sqlitestore: database schema is newer than this version of sqlitestore")

type options struct {
	busyTimeout time.Duration
	busyRetries int
	maxReaders  int
	fullSync    bool
}

// Option configures Open. Invalid values make Open return an error.
type Option func(*options) error

// WithBusyTimeout sets how long a connection waits for a lock held by
// another connection or process before SQLITE_BUSY (default
// DefaultBusyTimeout, 5s). It must not be negative; it is rounded down to
// milliseconds.
func WithBusyTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("sqlitestore: negative busy timeout %v", d)
		}
		o.busyTimeout = d
		return nil
	}
}

// WithBusyRetries sets how many times a write transaction that still fails
// with SQLITE_BUSY after the busy timeout is rolled back and run again, after
// a jittered backoff of 10ms doubling up to 500ms (default DefaultBusyRetries,
// 5). 0 disables retries. It must not be negative.
func WithBusyRetries(n int) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("sqlitestore: negative busy retries %d", n)
		}
		o.busyRetries = n
		return nil
	}
}

// WithMaxReaders sets the number of read-only connections (default
// DefaultMaxReaders, 4). It must be at least 1. Writes always use one
// connection: SQLite has a single writer.
func WithMaxReaders(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("sqlitestore: max readers %d, want at least 1", n)
		}
		o.maxReaders = n
		return nil
	}
}

// WithFullSync sets synchronous=FULL instead of the default NORMAL. In WAL
// mode NORMAL never corrupts the database and survives a crash of the
// process, but a power loss or operating-system crash can undo the last
// committed transactions (a rotation or a revocation). FULL makes every commit
// durable at the cost of an fsync per write.
func WithFullSync() Option {
	return func(o *options) error {
		o.fullSync = true
		return nil
	}
}

// Store is a store.Store kept in one SQLite database file. It is safe for
// concurrent use. Create it with Open and release it with Close.
type Store struct {
	w       *sql.DB              // one connection; every transaction is BEGIN IMMEDIATE
	r       *sql.DB              // read-only pool
	ws, rs  map[string]*sql.Stmt // prepared statements of w and r, by SQL text
	opts    options
	retries atomic.Int64 // write transactions run again after SQLITE_BUSY
}

var (
	_ store.Store       = (*Store)(nil)
	_ store.UserCounter = (*Store)(nil)
	_ store.Pinger      = (*Store)(nil)
	_ store.Footprinter = (*Store)(nil)
)

// Open opens (creating it if needed) the SQLite database at path, a plain
// file path, and migrates its schema to the current version. The options
// default as documented on each. Open refuses an empty path, ":memory:" and
// paths containing '?' or '#' or starting with "file:" (use a plain path; for
// an in-memory store use package memstore). It returns ErrSchemaTooNew for a
// database written by a newer release.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{busyTimeout: DefaultBusyTimeout, busyRetries: DefaultBusyRetries, maxReaders: DefaultMaxReaders}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	switch {
	case path == "":
		return nil, errors.New("sqlitestore: empty database path")
	case path == ":memory:" || strings.HasPrefix(path, "file:"):
		return nil, fmt.Errorf("sqlitestore: %q is not a plain file path (use memstore for an in-memory store)", path)
	case strings.ContainsAny(path, "?#"):
		return nil, fmt.Errorf("sqlitestore: database path %q contains '?' or '#'", path)
	}

	// The database holds password hashes: create it readable by its owner
	// only (SQLite gives the -wal and -shm files the same mode).
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("sqlitestore: create %s: %w", path, err)
	}

	syncMode := "NORMAL"
	if o.fullSync {
		syncMode = "FULL"
	}
	common := url.Values{}
	common.Set("_busy_timeout", strconv.FormatInt(o.busyTimeout.Milliseconds(), 10))
	common.Set("_foreign_keys", "1")
	common.Set("_synchronous", syncMode)

	wq := url.Values{}
	for k, v := range common {
		wq[k] = v
	}
	wq.Set("_journal_mode", "WAL")
	wq.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	s := &Store{w: w, opts: o}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}

	rq := common
	rq.Set("_query_only", "1")
	r, err := sql.Open("sqlite", path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlitestore: open: %w", err)
	}
	r.SetMaxOpenConns(o.maxReaders)
	r.SetMaxIdleConns(o.maxReaders)
	s.r = r
	if s.ws, err = prepareAll(ctx, w, writeQueries); err != nil {
		s.Close()
		return nil, err
	}
	if s.rs, err = prepareAll(ctx, r, readQueries); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Ping reports whether both the writer and a reader connection work.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlitestore: ping: %w", err)
	}
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlitestore: ping: %w", err)
	}
	var one int
	if err := s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("sqlitestore: ping: %w", err)
	}
	return nil
}

// Close closes the database. Calls after Close return errors. Close may be
// called more than once.
func (s *Store) Close() error {
	closeAll(s.rs)
	closeAll(s.ws)
	var errR error
	if s.r != nil {
		errR = s.r.Close()
	}
	errW := s.w.Close()
	if err := errors.Join(errW, errR); err != nil {
		return fmt.Errorf("sqlitestore: close: %w", err)
	}
	return nil
}

// write runs fn in a write transaction (BEGIN IMMEDIATE on the writer
// connection) and commits it. A transaction that fails with SQLITE_BUSY or
// SQLITE_LOCKED is rolled back and run again, at most busyRetries times,
// after a jittered backoff.
func (s *Store) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	backoff := 10 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := s.writeOnce(ctx, fn)
		if err == nil {
			return nil
		}
		if !isBusy(err) || attempt >= s.opts.busyRetries || ctx.Err() != nil {
			return wrap(op, err)
		}
		s.retries.Add(1)
		// Jitter in [backoff/2, backoff).
		d := backoff/2 + rand.N(backoff/2)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return wrap(op, ctx.Err())
		case <-t.C:
		}
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

func (s *Store) writeOnce(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	// A panic in fn rolls back as well.
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// wrap maps driver errors to the store's sentinels and adds the operation.
func wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlitestore: %s: %w", op, store.ErrNotFound)
	case errors.Is(err, store.ErrConflict), isUnique(err):
		return fmt.Errorf("sqlitestore: %s: %w", op, store.ErrConflict)
	}
	return fmt.Errorf("sqlitestore: %s: %w", op, err)
}

func sqliteCode(err error) (int, bool) {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code(), true
	}
	return 0, false
}

func isBusy(err error) bool {
	c, ok := sqliteCode(err)
	return ok && (c&0xff == sqlite3.SQLITE_BUSY || c&0xff == sqlite3.SQLITE_LOCKED)
}

func isUnique(err error) bool {
	c, ok := sqliteCode(err)
	return ok && (c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

// ms converts a time to Unix milliseconds, NULL for the zero time.
func ms(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// fromMs converts Unix milliseconds (NULL: the zero time) to a UTC time.
func fromMs(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}
