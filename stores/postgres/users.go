package pgstore

import (
	"context"
	"errors"
	"time"

	"github.com/authguard/authguard/core/store"
	"github.com/jackc/pgx/v5"
)

// ---- Throttle ----

// Hit adds one failure to key with one INSERT ... ON CONFLICT DO UPDATE ...
// RETURNING. If the key is new or its window started at or before
// now-window, a new window starts at now with count 1. It returns the count
// and the window start after the hit (see store.Throttle.Hit).
func (st *Store) Hit(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	var (
		count int
		start time.Time
	)
	err := st.write(ctx, "throttle hit", func(ctx context.Context) error {
		return st.pool.QueryRow(ctx, st.q.hit, key, ts(now), window.Microseconds()).Scan(&count, &start)
	})
	if err != nil {
		return 0, time.Time{}, err
	}
	return count, start.UTC(), nil
}

// Peek returns the key's count and window start, or 0 and the zero time if the
// key is unknown or its window ended at or before now.
func (st *Store) Peek(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	if err := st.check(); err != nil {
		return 0, time.Time{}, wrap("throttle peek", err)
	}
	var (
		count int
		start time.Time
	)
	err := st.pool.QueryRow(ctx, st.q.peek, key).Scan(&count, &start)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, wrap("throttle peek", err)
	}
	if !start.Add(window).After(now.Truncate(time.Microsecond)) {
		return 0, time.Time{}, nil
	}
	return count, start.UTC(), nil
}

// Forgive takes back one hit of the window that started at windowStart
// (see store.Throttle.Forgive).
func (st *Store) Forgive(ctx context.Context, key string, windowStart time.Time) error {
	return st.write(ctx, "throttle forgive", func(ctx context.Context) error {
		_, err := st.pool.Exec(ctx, st.q.forgive, key, ts(windowStart))
		return err
	})
}

// Reset deletes the key's counter.
func (st *Store) Reset(ctx context.Context, key string) error {
	return st.write(ctx, "throttle reset", func(ctx context.Context) error {
		_, err := st.pool.Exec(ctx, st.q.resetThrottle, key)
		return err
	})
}

// ---- Users ----

func roles(r []string) []string {
	if r == nil {
		return []string{}
	}
	return r
}

func scanUser(row pgx.Row) (store.User, error) {
	var (
		u       store.User
		created *time.Time
	)
	if err := row.Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Roles, &u.Disabled, &u.Locked, &created); err != nil {
		return store.User{}, err
	}
	u.Roles = roles(u.Roles)
	u.CreatedAt = fromTs(created)
	return u, nil
}

// CreateUser stores a new user; store.ErrConflict if the id or e-mail exists.
// Roles are kept in order (a text[] column); nil Roles come back as an
// empty, non-nil slice.
func (st *Store) CreateUser(ctx context.Context, u store.User) error {
	return st.write(ctx, "create user", func(ctx context.Context) error {
		_, err := st.pool.Exec(ctx, st.q.insertUser, u.ID, u.Email, u.PasswordHash, roles(u.Roles), u.Disabled, u.Locked, ts(u.CreatedAt))
		return err
	})
}

// UserByEmail finds a user by e-mail (exact match; the core normalises), or
// store.ErrNotFound.
func (st *Store) UserByEmail(ctx context.Context, email string) (store.User, error) {
	if err := st.check(); err != nil {
		return store.User{}, wrap("user by email", err)
	}
	u, err := scanUser(st.pool.QueryRow(ctx, st.q.userByEmail, email))
	return u, wrap("user by email", err)
}

// UserByID finds a user by id, or store.ErrNotFound.
func (st *Store) UserByID(ctx context.Context, id string) (store.User, error) {
	if err := st.check(); err != nil {
		return store.User{}, wrap("user by id", err)
	}
	u, err := scanUser(st.pool.QueryRow(ctx, st.q.userByID, id))
	return u, wrap("user by id", err)
}

// UpdateUser replaces the stored user with the same id: Email, PasswordHash,
// Roles, Disabled and Locked; CreatedAt is kept as stored. It returns
// store.ErrNotFound if the id is absent and store.ErrConflict if the new
// e-mail belongs to another user.
func (st *Store) UpdateUser(ctx context.Context, u store.User) error {
	return st.write(ctx, "update user", func(ctx context.Context) error {
		tag, err := st.pool.Exec(ctx, st.q.updateUser, u.ID, u.Email, u.PasswordHash, roles(u.Roles), u.Disabled, u.Locked)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// UpdatePasswordHash sets the password hash of user id to newHash if it is
// still oldHash (compared byte for byte), with one conditional UPDATE that
// touches no other column. When no row matched, a second statement tells
// store.ErrStale (the user exists, its hash changed) from store.ErrNotFound;
// either way nothing was written.
func (st *Store) UpdatePasswordHash(ctx context.Context, id, oldHash, newHash string) error {
	return st.write(ctx, "update password hash", func(ctx context.Context) error {
		tag, err := st.pool.Exec(ctx, st.q.updatePasswordHash, id, oldHash, newHash)
		if err != nil || tag.RowsAffected() > 0 {
			return err
		}
		var exists bool
		if err := st.pool.QueryRow(ctx, st.q.userExists, id).Scan(&exists); err != nil {
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
	if err := st.check(); err != nil {
		return 0, wrap("count users", err)
	}
	var n int
	if err := st.pool.QueryRow(ctx, st.q.countUsers).Scan(&n); err != nil {
		return 0, wrap("count users", err)
	}
	return n, nil
}
