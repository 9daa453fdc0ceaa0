// Package store defines the persistence interfaces of authguard and the
// contract every implementation must honour.
//
// Stores are small and atomic. They keep state; they do not decide. Every rule
// (grace window, reuse detection, idle and absolute expiry, throttling limits)
// lives in the core package, which hands stores pure decision functions or
// plain values. A store guarantees only that:
//
//   - check-and-rotate of a refresh token ([Sessions.Rotate]) is one atomic
//     operation: concurrent calls for the same session are serialised, so N
//     concurrent presentations of one token produce at most one successor;
//   - refresh tokens are never stored: only digests computed by the core
//     (and, for the grace window, a successor sealed under a key derived from
//     its predecessor, which the store cannot open);
//   - every revocation is appended to a feed ([Sessions.Revocations]) with a
//     strictly increasing sequence number, so every instance sharing the store
//     learns of it;
//   - errors are values: [ErrNotFound] for a missing record, [ErrConflict] for
//     a duplicate, anything else is an availability problem that the core
//     answers with 503 and never with a logout.
//
// All times are handled in UTC at a resolution of at least one millisecond.
// The conformance suite in package storetest pins this contract down; every
// store runs it unchanged.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound reports that the requested record does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrConflict reports that a record with the same unique key already exists.
var ErrConflict = errors.New("store: conflict")

// Session is one login of one subject on one device: a refresh-token family.
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
	// IdleExpiresAt is the idle deadline (pushed forward by each rotation, never
	// past AbsoluteExpiresAt). AbsoluteExpiresAt never changes.
	IdleExpiresAt     time.Time
	AbsoluteExpiresAt time.Time
	// RevokedAt is zero while the session is active.
	RevokedAt time.Time
	// RevokeReason is a short machine word (logout, reuse, revoked, subject).
	RevokeReason string

	// Generation is the generation number of the current refresh token; the
	// first token issued at login has generation 0.
	Generation int64
	// RotatedAt is when the current token replaced the previous one (zero
	// before the first rotation). The grace window is measured from it.
	RotatedAt time.Time
	// GraceReplays counts replays of the previous token served since RotatedAt.
	GraceReplays int
	// Successor is the current refresh token sealed under a key derived from
	// the previous token (opaque to the store; nil before the first rotation).
	Successor []byte
}

// Active reports whether the session is neither revoked nor past a deadline at now.
func (s *Session) Active(now time.Time) bool {
	return s.RevokedAt.IsZero() && now.Before(s.IdleExpiresAt) && now.Before(s.AbsoluteExpiresAt)
}

// ChangeKind says what [Sessions.Rotate] must write.
type ChangeKind int

const (
	// ChangeNone writes nothing.
	ChangeNone ChangeKind = iota
	// ChangeRotate records a new current token: Generation+1, the new digest
	// (which must stay resolvable to the session together with every older
	// digest until the session is deleted), Successor, RotatedAt, LastUsedAt,
	// IdleExpiresAt, and GraceReplays reset to 0.
	ChangeRotate
	// ChangeReplay increments GraceReplays and sets LastUsedAt.
	ChangeReplay
	// ChangeRevoke revokes the session (RevokedAt, RevokeReason) and appends
	// it to the revocation feed.
	ChangeRevoke
)

// Change is the decision the core takes inside [Sessions.Rotate].
type Change struct {
	Kind ChangeKind
	// Rotate fields.
	NewTokenHash  []byte
	Successor     []byte
	At            time.Time
	IdleExpiresAt time.Time
	// Revoke field.
	Reason string
}

// Decide is a pure function (no I/O, no blocking) that the store calls while it
// holds the session exclusively. gen is the generation of the presented token.
type Decide func(s Session, gen int64) Change

// Revocation is one entry of the revocation feed.
type Revocation struct {
	// Seq is strictly increasing across the store (not necessarily dense).
	Seq       int64
	SessionID string
	RevokedAt time.Time
}

// Sessions stores sessions and the digests of their refresh tokens.
type Sessions interface {
	// CreateSession stores a new session whose generation-0 token has the
	// digest tokenHash. It returns ErrConflict if the id or digest exists.
	CreateSession(ctx context.Context, s Session, tokenHash []byte) error
	// Session returns the session with the given id (revoked or expired ones
	// included, until deleted) or ErrNotFound.
	Session(ctx context.Context, id string) (Session, error)
	// SessionByToken resolves a refresh-token digest of any generation to its
	// session and that token's generation, or ErrNotFound.
	SessionByToken(ctx context.Context, tokenHash []byte) (Session, int64, error)
	// Rotate resolves tokenHash like SessionByToken and, atomically with
	// respect to every other write to that session, calls decide and applies
	// the Change it returns. It returns the session as it is after the change
	// and the change applied. ErrNotFound if the digest is unknown (decide is
	// not called).
	Rotate(ctx context.Context, tokenHash []byte, decide Decide) (Session, Change, error)
	// ListSessions returns the subject's sessions that are not revoked and
	// whose deadlines are after now, oldest first.
	ListSessions(ctx context.Context, subject string, now time.Time) ([]Session, error)
	// RevokeSession revokes one session if it is active. It reports whether it
	// changed anything; revoking an unknown or revoked session is not an error.
	RevokeSession(ctx context.Context, id string, at time.Time, reason string) (bool, error)
	// RevokeSubject revokes every active session of subject except the one
	// whose id is except (empty: none excepted), returning how many it revoked.
	RevokeSubject(ctx context.Context, subject, except string, at time.Time, reason string) (int, error)
	// Revocations returns feed entries with Seq > after, in Seq order, at most
	// limit of them (limit <= 0: no limit).
	Revocations(ctx context.Context, after int64, limit int) ([]Revocation, error)
	// Prune deletes sessions (and their digests) whose deadlines or revocation
	// are before cutoff, and feed entries older than cutoff. It returns how
	// many sessions it deleted.
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
	// PasswordHash is a PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
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
	// CountUsers returns how many users exist.
	CountUsers(ctx context.Context) (int, error)
}

// Store is everything a complete backend provides.
type Store interface {
	Sessions
	Throttle
	Users
	// Ping reports whether the backend is reachable.
	Ping(ctx context.Context) error
	// Close releases the backend's resources.
	Close() error
}
