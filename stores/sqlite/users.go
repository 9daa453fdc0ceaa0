package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/authguard/authguard/core/store"
)

// ---- Throttle ----

// Hit adds one failure to key. If the key is new or its window started at or
// before now-window, a new window starts at now with count 1. It returns the
// count and the window start after the hit (see store.Throttle.Hit).
func (st *Store) Hit(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	n, w := now.UnixMilli(), window.Milliseconds()
	var (
		count int
		start int64
	)
	err := st.write(ctx, "throttle hit", func(tx *sql.Tx) error {
		return st.inTx(ctx, tx, qHit).QueryRowContext(ctx, key, n, w).Scan(&count, &start)
	})
	if err != nil {
		return 0, time.Time{}, err
	}
	return count, time.UnixMilli(start).UTC(), nil
}

// Peek returns the key's count and window start, or 0 and the zero time if the
// key is unknown or its window ended at or before now.
func (st *Store) Peek(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	var (
		count int
		start int64
	)
	err := st.read(qPeek).QueryRowContext(ctx, key).Scan(&count, &start)
	if err == sql.ErrNoRows {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, wrap("throttle peek", err)
	}
	if start+window.Milliseconds() <= now.UnixMilli() {
		return 0, time.Time{}, nil
	}
	return count, time.UnixMilli(start).UTC(), nil
}

// Forgive takes back one hit of the window that started at windowStart
// (see store.Throttle.Forgive).
func (st *Store) Forgive(ctx context.Context, key string, windowStart time.Time) error {
	return st.write(ctx, "throttle forgive", func(tx *sql.Tx) error {
		_, err := st.inTx(ctx, tx, qForgive).ExecContext(ctx, key, windowStart.UnixMilli())
		return err
	})
}

// Reset deletes the key's counter.
func (st *Store) Reset(ctx context.Context, key string) error {
	return st.write(ctx, "throttle reset", func(tx *sql.Tx) error {
		_, err := st.inTx(ctx, tx, qResetThrottle).ExecContext(ctx, key)
		return err
	})
}

// ---- Users ----

func encodeRoles(roles []string) (string, error) {
	if roles == nil {
		roles = []string{}
	}
	b, err := json.Marshal(roles)
	return string(b), err
}

func scanUser(row scanner) (store.User, error) {
	var (
		u       store.User
		roles   string
		created sql.NullInt64
	)
	if err := row.Scan(&u.ID, &u.Email, &u.PasswordHash, &roles, &u.Disabled, &u.Locked, &created); err != nil {
		return store.User{}, err
	}
	if err := json.Unmarshal([]byte(roles), &u.Roles); err != nil {
		return store.User{}, fmt.Errorf("roles of user %q: %w", u.ID, err)
	}
	if u.Roles == nil {
		u.Roles = []string{}
	}
	u.CreatedAt = fromMs(created)
	return u, nil
}

// CreateUser stores a new user; store.ErrConflict if the id or e-mail exists.
// Roles are kept in order; nil Roles come back as an empty, non-nil slice.
func (st *Store) CreateUser(ctx context.Context, u store.User) error {
	roles, err := encodeRoles(u.Roles)
	if err != nil {
		return wrap("create user", err)
	}
	return st.write(ctx, "create user", func(tx *sql.Tx) error {
		_, err := st.inTx(ctx, tx, qInsertUser).ExecContext(ctx, u.ID, u.Email, u.PasswordHash, roles, u.Disabled, u.Locked, ms(u.CreatedAt))
		return err
	})
}

// UserByEmail finds a user by e-mail (exact match; the core normalises), or
// store.ErrNotFound.
func (st *Store) UserByEmail(ctx context.Context, email string) (store.User, error) {
	u, err := scanUser(st.read(qUserByEmail).QueryRowContext(ctx, email))
	return u, wrap("user by email", err)
}

// UserByID finds a user by id, or store.ErrNotFound.
func (st *Store) UserByID(ctx context.Context, id string) (store.User, error) {
	u, err := scanUser(st.read(qUserByID).QueryRowContext(ctx, id))
	return u, wrap("user by id", err)
}

// UpdateUser replaces the stored user with the same id: Email, PasswordHash,
// Roles, Disabled and Locked; CreatedAt is kept as stored. It returns
// store.ErrNotFound if the id is absent and store.ErrConflict if the new
// e-mail belongs to another user.
func (st *Store) UpdateUser(ctx context.Context, u store.User) error {
	roles, err := encodeRoles(u.Roles)
	if err != nil {
		return wrap("update user", err)
	}
	return st.write(ctx, "update user", func(tx *sql.Tx) error {
		res, err := st.inTx(ctx, tx, qUpdateUser).ExecContext(ctx, u.Email, u.PasswordHash, roles, u.Disabled, u.Locked, u.ID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// UpdatePasswordHash sets the password hash of user id to newHash if it is
// still oldHash, with one conditional UPDATE that touches no other column.
// When no row matched, a second statement in the same transaction tells
// store.ErrStale (the user exists, its hash changed) from store.ErrNotFound;
// either way nothing is written.
func (st *Store) UpdatePasswordHash(ctx context.Context, id, oldHash, newHash string) error {
	return st.write(ctx, "update password hash", func(tx *sql.Tx) error {
		res, err := st.inTx(ctx, tx, qUpdatePasswordHash).ExecContext(ctx, newHash, id, oldHash)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n > 0 {
			return err
		}
		var exists bool
		if err := st.inTx(ctx, tx, qUserExists).QueryRowContext(ctx, id).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return store.ErrStale
		}
		return store.ErrNotFound
	})
}

// CountUsers returns how many users exist.
func (st *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := st.read(qCountUsers).QueryRowContext(ctx).Scan(&n)
	if err != nil {
		return 0, wrap("count users", err)
	}
	return n, nil
}
