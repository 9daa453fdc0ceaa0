// Package pgstore is the PostgreSQL implementation of store.Store, built on
// github.com/jackc/pgx/v5 over a connection pool the caller owns.
//
// Several instances of an application, on any number of hosts, may share one
// Store's schema: every guarantee below holds across connections, and
// therefore across processes.
//
// How the contract is met:
//
//   - every table lives in one schema (default "authguard", see
//     [WithSchema]), so several applications, or every test, can share a
//     database; New creates the schema if needed;
//   - the schema is embedded and migrated when the store is created, in one
//     transaction that holds a transaction-scoped advisory lock
//     (pg_advisory_xact_lock), so instances starting at once migrate it
//     exactly once; a schema written by a newer release is refused
//     ([ErrSchemaTooNew]);
//   - [Store.UpdateSession] is one statement: a conditional UPDATE (WHERE
//     id = $1 AND version = $2) and, for a revocation, the feed INSERT in a
//     data-modifying CTE, so the write and its feed entry commit together or
//     not at all; when no row matched, a second statement tells
//     store.ErrStale from store.ErrNotFound;
//   - the same statement notifies the schema's channel ([Store.Channel])
//     with pg_notify, delivered at commit, and [Store.Watch] listens to it
//     (store.Notifier), so other instances read the feed at once;
//   - the revocation feed's sequence is an identity column: numbers are never
//     reused, even after a prune; a revocation takes the schema's feed lock
//     (a transaction-scoped advisory lock, in the same statement) before its
//     entry draws a number, so entries become visible in number order and a
//     reader following the feed never moves past one still uncommitted;
//   - a throttle hit is one INSERT ... ON CONFLICT DO UPDATE ... RETURNING;
//   - a write that fails with a serialization failure (40001) or a deadlock
//     (40P01) is run again a bounded number of times with jittered backoff
//     (see [WithMaxRetries]);
//   - times are stored as timestamptz (microseconds; NULL for the zero time)
//     and come back in UTC;
//   - pgx.ErrNoRows becomes store.ErrNotFound and unique violations (23505)
//     store.ErrConflict, a lost version check store.ErrStale; every other
//     error is returned wrapped, and the core answers it with 503.
//
// The store only ever sees digests and sealed successors, never tokens, and
// logs nothing. Besides store.Store it implements store.UserCounter,
// store.Pinger, store.Footprinter and store.Notifier.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/authguard/authguard/core/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Defaults of the options.
const (
	// DefaultSchema is the schema that holds the store's tables.
	DefaultSchema = "authguard"
	// DefaultMaxRetries is how many times a write that failed with a
	// serialization failure or a deadlock is run again.
	DefaultMaxRetries = 5
)

// ErrSchemaTooNew reports a schema whose version is newer than this package
// knows: it was written by a newer release and is not used.
var ErrSchemaTooNew = errors.New("pgstore: database schema is newer than this version of pgstore")

// ErrClosed is returned by every method of a closed Store.
var ErrClosed = errors.New("pgstore: store is closed")

type options struct {
	schema     string
	maxRetries int
}

// Option configures New. Invalid values make New return an error.
type Option func(*options) error

// schemaName is what WithSchema accepts: a lower-case PostgreSQL identifier
// that needs no quoting.
var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// WithSchema sets the schema that holds the store's tables (default
// DefaultSchema, "authguard"). New creates it if it does not exist. The name
// must be a lower-case identifier: a letter or '_', then letters, digits or
// '_', at most 63 characters; it must not start with "pg_".
func WithSchema(name string) Option {
	return func(o *options) error {
		if !schemaName.MatchString(name) || len(name) >= 3 && name[:3] == "pg_" {
			return fmt.Errorf("pgstore: invalid schema name %q", name)
		}
		o.schema = name
		return nil
	}
}

// WithMaxRetries sets how many times a write that failed with a
// serialization failure (40001) or a deadlock (40P01) is run again, after a
// jittered backoff of 5ms doubling up to 250ms (default DefaultMaxRetries,
// 5). 0 disables retries. It must not be negative.
func WithMaxRetries(n int) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("pgstore: negative max retries %d", n)
		}
		o.maxRetries = n
		return nil
	}
}

// Store is a store.Store kept in one schema of a PostgreSQL database. It is
// safe for concurrent use. Create it with New and release it with Close.
type Store struct {
	pool     *pgxpool.Pool
	opts     options
	q        queries
	channel  string // LISTEN/NOTIFY channel of the revocation feed
	closed   atomic.Bool
	retries  atomic.Int64 // writes run again after 40001 or 40P01
	migrated int          // migrations this Store applied in New
}

var (
	_ store.Store       = (*Store)(nil)
	_ store.UserCounter = (*Store)(nil)
	_ store.Pinger      = (*Store)(nil)
	_ store.Footprinter = (*Store)(nil)
	_ store.Notifier    = (*Store)(nil)
)

// New returns a Store over pool, which the caller owns: the Store never
// closes it, and the caller closes it after the Store. New creates the
// schema if needed and migrates it to SchemaVersion; several processes may
// call New on the same database at once. It returns ErrSchemaTooNew for a
// schema written by a newer release. The options default as documented on
// each.
func New(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	if pool == nil {
		return nil, errors.New("pgstore: nil pool")
	}
	o := options{schema: DefaultSchema, maxRetries: DefaultMaxRetries}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	ch := channelName(o.schema) // letters, digits and '_' only: safe as a literal
	s := &Store{pool: pool, opts: o, channel: ch, q: newQueries(pgx.Identifier{o.schema}.Sanitize(), ch)}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Schema returns the name of the schema that holds the store's tables.
func (s *Store) Schema() string { return s.opts.schema }

// Ping reports whether the database answers through the pool.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(); err != nil {
		return wrap("ping", err)
	}
	var one int
	if err := s.pool.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
		return wrap("ping", err)
	}
	return nil
}

// Close marks the store closed: every later call returns ErrClosed. It does
// NOT close the pool, which belongs to the caller. Close may be called more
// than once; it always returns nil.
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}

func (s *Store) check() error {
	if s.closed.Load() {
		return ErrClosed
	}
	return nil
}

// write runs fn, and runs it again after a serialization failure or a
// deadlock, at most maxRetries times, after a jittered backoff. fn must be
// one statement or one transaction, so that a failed attempt wrote nothing.
func (s *Store) write(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	if err := s.check(); err != nil {
		return wrap(op, err)
	}
	backoff := 5 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if !retryable(err) || attempt >= s.opts.maxRetries || ctx.Err() != nil {
			return wrap(op, err)
		}
		s.retries.Add(1)
		// Jitter in [backoff/2, backoff).
		t := time.NewTimer(backoff/2 + rand.N(backoff/2))
		select {
		case <-ctx.Done():
			t.Stop()
			return wrap(op, ctx.Err())
		case <-t.C:
		}
		backoff = min(2*backoff, 250*time.Millisecond)
	}
}

// inTx runs fn in one transaction and commits it; any error rolls it back.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// SQLSTATE codes the store acts on.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

func sqlState(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func retryable(err error) bool {
	c := sqlState(err)
	return c == codeSerializationFailure || c == codeDeadlockDetected
}

// wrap maps driver errors to the store's sentinels and adds the operation.
func wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("pgstore: %s: %w", op, store.ErrNotFound)
	case errors.Is(err, store.ErrConflict), sqlState(err) == codeUniqueViolation:
		return fmt.Errorf("pgstore: %s: %w", op, store.ErrConflict)
	}
	return fmt.Errorf("pgstore: %s: %w", op, err)
}

// ts converts a time to a timestamptz argument: NULL for the zero time,
// otherwise truncated to the microsecond PostgreSQL keeps.
func ts(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.Truncate(time.Microsecond).UTC()
	return &u
}

// fromTs converts a scanned timestamptz (nil: NULL) to a UTC time, the zero
// time for NULL.
func fromTs(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
