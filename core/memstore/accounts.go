package memstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/authguard/authguard/core/store"
)

func cloneUser(u store.User) store.User {
	if u.Roles == nil {
		u.Roles = []string{}
	} else {
		u.Roles = slices.Clone(u.Roles)
	}
	return u
}

// ---- Throttle ----

// Hit adds one failure to key (see store.Throttle.Hit).
func (m *Store) Hit(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	if err := m.lock(ctx); err != nil {
		return 0, time.Time{}, err
	}
	defer m.mu.Unlock()
	now = utc(now)
	t, ok := m.throttle[key]
	if !ok || !t.start.After(now.Add(-window)) {
		t = throttleRec{count: 1, start: now}
	} else {
		t.count++
	}
	t.end = t.start.Add(window)
	m.throttle[key] = t
	return t.count, t.start, nil
}

// Peek returns the key's count and window start, or 0 and the zero time if the
// key is unknown or its window ended at or before now.
func (m *Store) Peek(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	if err := m.lock(ctx); err != nil {
		return 0, time.Time{}, err
	}
	defer m.mu.Unlock()
	t, ok := m.throttle[key]
	if !ok || !t.start.Add(window).After(now) {
		return 0, time.Time{}, nil
	}
	return t.count, t.start, nil
}

// Forgive takes back one hit of the window that started at windowStart.
func (m *Store) Forgive(ctx context.Context, key string, windowStart time.Time) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if t, ok := m.throttle[key]; ok && t.start.Equal(windowStart) && t.count > 0 {
		t.count--
		m.throttle[key] = t
	}
	return nil
}

// Reset deletes the key's counter.
func (m *Store) Reset(ctx context.Context, key string) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	delete(m.throttle, key)
	return nil
}

// ---- Users ----

// CreateUser stores a new user; store.ErrConflict if the id or e-mail exists.
// Nil Roles are stored (and returned) as an empty, non-nil slice.
func (m *Store) CreateUser(ctx context.Context, u store.User) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if _, ok := m.users[u.ID]; ok {
		return fmt.Errorf("memstore: user id: %w", store.ErrConflict)
	}
	if _, ok := m.byEmail[u.Email]; ok {
		return fmt.Errorf("memstore: user email: %w", store.ErrConflict)
	}
	u = cloneUser(u)
	u.CreatedAt = utc(u.CreatedAt)
	m.users[u.ID] = u
	m.byEmail[u.Email] = u.ID
	return nil
}

// UserByEmail finds a user by e-mail (exact match; the core normalises), or
// store.ErrNotFound.
func (m *Store) UserByEmail(ctx context.Context, email string) (store.User, error) {
	if err := m.lock(ctx); err != nil {
		return store.User{}, err
	}
	defer m.mu.Unlock()
	id, ok := m.byEmail[email]
	if !ok {
		return store.User{}, store.ErrNotFound
	}
	return cloneUser(m.users[id]), nil
}

// UserByID finds a user by id, or store.ErrNotFound.
func (m *Store) UserByID(ctx context.Context, id string) (store.User, error) {
	if err := m.lock(ctx); err != nil {
		return store.User{}, err
	}
	defer m.mu.Unlock()
	u, ok := m.users[id]
	if !ok {
		return store.User{}, store.ErrNotFound
	}
	return cloneUser(u), nil
}

// UpdateUser replaces the stored user with the same id: Email, PasswordHash,
// Roles, Disabled and Locked. CreatedAt is kept as stored. It returns
// store.ErrNotFound if the id is absent and store.ErrConflict if the new
// e-mail belongs to another user.
func (m *Store) UpdateUser(ctx context.Context, u store.User) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	old, ok := m.users[u.ID]
	if !ok {
		return store.ErrNotFound
	}
	if u.Email != old.Email {
		if _, taken := m.byEmail[u.Email]; taken {
			return fmt.Errorf("memstore: user email: %w", store.ErrConflict)
		}
		delete(m.byEmail, old.Email)
		m.byEmail[u.Email] = u.ID
	}
	u = cloneUser(u)
	u.CreatedAt = old.CreatedAt
	m.users[u.ID] = u
	return nil
}

// UpdatePasswordHash sets the password hash of user id to newHash if it is
// still oldHash, and touches nothing else. It returns store.ErrNotFound if
// the id is absent and store.ErrStale if the hash changed; either way nothing
// is written.
func (m *Store) UpdatePasswordHash(ctx context.Context, id, oldHash, newHash string) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	u, ok := m.users[id]
	if !ok {
		return store.ErrNotFound
	}
	if u.PasswordHash != oldHash {
		return fmt.Errorf("memstore: password hash: %w", store.ErrStale)
	}
	u.PasswordHash = newHash
	m.users[id] = u
	return nil
}

// CountUsers returns how many users exist.
func (m *Store) CountUsers(ctx context.Context) (int, error) {
	if err := m.lock(ctx); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	return len(m.users), nil
}
