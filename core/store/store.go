// Package store defines the persistence interfaces of authguard and the
// contract every implementation honours.
//
// Stores persist; the core decides. Every rule (rotation, grace replays,
// reuse detection, idle and absolute expiry, revocation, throttling limits)
// lives in package core, which hands a store complete states to write. A store
// guarantees only that:
//
//   - a session write is conditional on the version the core read
//     ([Sessions.UpdateSession]) and atomic, so of N concurrent writers of one
//     session exactly one wins each version and the others see [ErrStale];
//   - refresh tokens are never stored: only digests computed by the core, and
//     a successor sealed under a key derived from its predecessor, which the
//     store cannot open;
//   - every revocation is appended to a feed ([Sessions.Revocations]) with a
//     strictly increasing sequence number, so every instance sharing the store
//     learns of it;
//   - a password hash written alone is conditional on the hash the writer
//     read ([Users.UpdatePasswordHash]) and touches no other field of the user;
//   - errors are values: [ErrNotFound] for a missing record, [ErrConflict] for
//     a duplicate, [ErrStale] for a lost compare-and-set; anything else is an
//     availability problem that the core answers with 503, never with a logout.
//
// Extras a store may offer are optional interfaces the core and the examples
// detect with a type assertion, as net/http does with http.Flusher:
// [UserCounter], [Pinger], [Footprinter] and [Notifier].
//
// The conformance suite in package storetest pins this contract down; every
// store runs it unchanged.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNotFound reports that the requested record does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrConflict reports that a record with the same unique key already exists.
var ErrConflict = errors.New("store: conflict")

// ErrStale reports that a conditional write lost: the record's version (or,
// for [Users.UpdatePasswordHash], its password hash) moved on since it was
// read. The core reads it again and decides anew.
var ErrStale = errors.New("store: stale version")

// Session is one login of one subject on one device, with the whole state of
// its refresh-token lineage. Its size does not grow with the number of
// rotations: the core recognises every older token of the session from the
// token itself (it carries the session id, its generation and a proof bound
// to the session's secret), so no digest of a rotated token is kept.
//
// Every field is written by the core; a store persists the struct as it is
// given and returns it unchanged (times in UTC, at millisecond resolution or
// finer).
type Session struct {
	// ID is the session id chosen by the core (never by a client).
	ID string
	// Subject is the user id (JWT sub).
	Subject string
	// DeviceName is the optional name the client gave at login.
	DeviceName string
	// IP and UserAgent describe the client at login time, for the session list.
	IP        string
	UserAgent string
	// AuthTime is when the user authenticated (JWT auth_time).
	AuthTime time.Time
	// CreatedAt is when the session was created; LastUsedAt the last refresh.
	CreatedAt  time.Time
	LastUsedAt time.Time
	// IdleExpiresAt is the idle deadline; AbsoluteExpiresAt never changes.
	IdleExpiresAt     time.Time
	AbsoluteExpiresAt time.Time
	// RevokedAt is zero while the session is not revoked.
	RevokedAt time.Time
	// RevokeReason is a short machine word (logout, reuse, revoked, ...).
	RevokeReason string

	// Generation is the generation of the current refresh token (0 at login).
	Generation int64
	// TokenDigest is the digest of the current refresh token.
	TokenDigest []byte
	// SecretDigest is the digest of the session's lineage secret, which every
	// refresh token of the session carries and proves.
	SecretDigest []byte
	// RotatedAt is when the current token replaced the previous one (zero
	// before the first rotation).
	RotatedAt time.Time
	// GraceReplays counts the replays of the previous token served since RotatedAt.
	GraceReplays int
	// Successor is the current refresh token sealed under a key derived from
	// the previous token (nil before the first rotation); opaque to the store.
	Successor []byte
	// RetryOpen marks a rotation whose answer may never have reached the
	// client: the previous token keeps returning Successor until the current
	// token is used.
	RetryOpen bool

	// Version counts the writes of the session: 1 when created, and every
	// [Sessions.UpdateSession] writes the version after the one it read.
	Version int64
}

// Active reports whether the session is neither revoked nor past a deadline at now.
func (s *Session) Active(now time.Time) bool {
	return s.RevokedAt.IsZero() && now.Before(s.IdleExpiresAt) && now.Before(s.AbsoluteExpiresAt)
}

// Update is one conditional write of a session, decided by the core.
type Update struct {
	// Session is the complete new state; its Version is Version+1.
	Session Session
	// Version is the version the core read: the write applies only while the
	// stored session still has it.
	Version int64
	// Revoked asks the store to append Session's revocation (ID, RevokedAt)
	// to the revocation feed atomically with the write.
	Revoked bool
}

// Check reports whether u is well formed: its new state carries the version
// after the one read (Session.Version == Version+1), without which the next
// writer's version check would not see this write. A store refuses, writing
// nothing, an update that fails it.
func (u *Update) Check() error {
	if u.Session.Version != u.Version+1 {
		return fmt.Errorf("update of session %q: new version %d is not %d+1", u.Session.ID, u.Session.Version, u.Version)
	}
	return nil
}

// Revocation is one entry of the revocation feed.
type Revocation struct {
	// Seq is strictly increasing across the store (not necessarily dense),
	// and entries become readable in Seq order: once an entry can be read,
	// no entry with a smaller Seq appears later (readers follow the feed
	// with a cursor and never look below it again).
	Seq       int64
	SessionID string
	RevokedAt time.Time
}

// Sessions stores sessions. Every write of a session is atomic with respect to
// every other write of it, and none holds a lock across network round trips:
// the core reads a session with its Version, decides the next state, and
// writes it with [Sessions.UpdateSession], which applies only if nothing
// else wrote the session in between. An uncontended refresh therefore costs
// two round trips.
type Sessions interface {
	// CreateSession stores a new session (Version 1). It returns ErrConflict
	// if the id exists.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session with the given id (revoked or expired ones
	// included, until pruned) or ErrNotFound.
	Session(ctx context.Context, id string) (Session, error)
	// UpdateSession replaces the session u.Session.ID with u.Session if its
	// stored Version is still u.Version, and appends a revocation to the feed
	// when u.Revoked, all or nothing. It returns ErrStale when the version
	// moved on and ErrNotFound when the session is gone; either way nothing
	// is written.
	UpdateSession(ctx context.Context, u Update) error
	// ListSessions returns the subject's sessions that are not revoked and
	// whose deadlines are after now, oldest first.
	ListSessions(ctx context.Context, subject string, now time.Time) ([]Session, error)
	// Revocations returns feed entries with Seq > after, in Seq order, at most
	// limit of them (limit <= 0: no limit).
	Revocations(ctx context.Context, after int64, limit int) ([]Revocation, error)
	// Prune deletes sessions whose deadlines or revocation are before cutoff,
	// and feed entries revoked before cutoff. It returns how many sessions it
	// deleted. Sequence numbers are never reused.
	Prune(ctx context.Context, cutoff time.Time) (int, error)
}

// Throttle keeps fixed-window failure counters for login throttling.
type Throttle interface {
	// Hit adds one failure to key. If the key's window started at or before
	// now-window (or the key is new) a new window starts at now with count 1.
	// It returns the count and the window start after the hit.
	Hit(ctx context.Context, key string, now time.Time, window time.Duration) (count int, windowStart time.Time, err error)
	// Peek returns the key's count and window start, or 0 and the zero time if
	// the key is unknown or its window ended at or before now.
	Peek(ctx context.Context, key string, now time.Time, window time.Duration) (count int, windowStart time.Time, err error)
	// Reset deletes the key's counter.
	Reset(ctx context.Context, key string) error
	// Forgive takes back one hit of the window that started at windowStart
	// (as Hit returned it): it decrements the count when the key's window
	// still starts there and the count is positive, and otherwise does
	// nothing. The core counts a login attempt before checking it and
	// forgives the per-IP hit of a success, so only failures stay counted.
	Forgive(ctx context.Context, key string, windowStart time.Time) error
}

// User is an account known to the password authenticator.
type User struct {
	// ID is the stable subject identifier.
	ID string
	// Email is stored normalised (trimmed, lower case); unique.
	Email string
	// PasswordHash is a PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash)
	// or, for accounts imported from elsewhere, a bcrypt hash ($2a$, $2b$ or
	// $2y$), which the password authenticator migrates to Argon2id at the
	// next successful login. A store keeps it as an opaque string.
	PasswordHash string
	// Roles are the user's role names.
	Roles []string
	// Disabled and Locked accounts cannot log in or refresh.
	Disabled bool
	Locked   bool
	// CreatedAt is when the account was created.
	CreatedAt time.Time
}

// Users stores accounts for the password authenticator.
//
// A password hash is written either as part of a whole record (CreateUser,
// UpdateUser: an administrator's edit) or alone, conditionally
// ([Users.UpdatePasswordHash]: a rehash at login or a password change). The
// conditional write is what keeps a login's rehash from undoing a disable, a
// role change or a password change committed between the login's read and
// its write.
type Users interface {
	// CreateUser stores a new user; ErrConflict if the id or e-mail exists.
	CreateUser(ctx context.Context, u User) error
	// UserByEmail finds a user by normalised e-mail, or ErrNotFound.
	UserByEmail(ctx context.Context, email string) (User, error)
	// UserByID finds a user by id, or ErrNotFound.
	UserByID(ctx context.Context, id string) (User, error)
	// UpdateUser replaces the stored user with the same id (password hash,
	// roles, flags); ErrNotFound if absent.
	UpdateUser(ctx context.Context, u User) error
	// UpdatePasswordHash sets the password hash of user id to newHash if its
	// stored hash is still oldHash (compared byte for byte), atomically, and
	// touches no other field. It returns ErrNotFound if the id is absent and
	// ErrStale if the stored hash is no longer oldHash; either way nothing is
	// written.
	UpdatePasswordHash(ctx context.Context, id, oldHash, newHash string) error
}

// Store is everything a complete backend provides.
type Store interface {
	Sessions
	Throttle
	Users
	// Close releases the backend's resources.
	Close() error
}

// UserCounter is implemented by stores that can count their users (the
// example servers create their demo users when there are none).
type UserCounter interface {
	CountUsers(ctx context.Context) (int, error)
}

// Pinger is implemented by stores that can check that their backend is
// reachable (for health checks).
type Pinger interface {
	Ping(ctx context.Context) error
}

// Footprint is how much a store holds: records and bytes, as the store
// counts them. Only its changes mean something.
type Footprint struct {
	Records int64
	Bytes   int64
}

// Footprinter is implemented by stores that can report their footprint; the
// conformance suite uses it to check that a session's storage does not grow
// with its rotations.
type Footprinter interface {
	Footprint(ctx context.Context) (Footprint, error)
}

// Notifier is implemented by stores whose backend can push news of
// revocations (Redis pub/sub, PostgreSQL LISTEN/NOTIFY), so that every
// instance sharing the store reads its feed at once instead of waiting for
// its next poll. The core still polls, less often, as a fallback.
//
// A wake is only a hint: the revocation feed ([Sessions.Revocations]) stays
// the single source of truth, and the core answers a wake by reading it.
// Messages may be lost (a dropped connection, a restart of the backend), may
// arrive more than once, late, or for revocations the caller already read;
// none of that may break anything. What a Notifier guarantees:
//
//   - Watch blocks until ctx ends, then returns promptly (with ctx's error);
//     it may return earlier with an error only when notifications can never
//     work for this store, and the core then keeps polling;
//   - it calls wake after every entry appended to the feed that it hears of,
//     by any instance, not before the entry can be read from the feed;
//   - it calls wake after every successful (re)connection, so that whatever
//     was appended while it was not listening is read from the feed;
//   - it reconnects by itself, with a bounded backoff, for as long as ctx
//     lasts;
//   - wake is cheap and never blocks (the core coalesces wakes); Watch calls
//     it from one goroutine at a time and never after Watch has returned.
type Notifier interface {
	Watch(ctx context.Context, wake func()) error
}
