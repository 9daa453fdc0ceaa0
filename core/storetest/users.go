package storetest

import (
	"context"
	"slices"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/authguard/authguard/core/password"
	"github.com/authguard/authguard/core/store"
)

// testUpdatePasswordHash: the compare-and-swap of a password hash applies
// when the stored hash is the old one and touches no other field; a stale old
// hash is ErrStale and writes nothing; an unknown id is ErrNotFound.
func testUpdatePasswordHash(t *testing.T, st store.Store) {
	ctx := t.Context()
	u := store.User{ID: "u-1", Email: "a@example.com", PasswordHash: "h1", Roles: []string{"admin", "user"},
		Disabled: true, Locked: true, CreatedAt: at(0)}
	other := store.User{ID: "u-2", Email: "b@example.com", PasswordHash: "h1", Roles: []string{"user"}, CreatedAt: at(0)}
	for _, x := range []store.User{u, other} {
		if err := st.CreateUser(ctx, x); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
	}
	if err := st.UpdatePasswordHash(ctx, "u-1", "h1", "h2"); err != nil {
		t.Fatalf("UpdatePasswordHash(h1 -> h2): %v", err)
	}
	want := u
	want.PasswordHash = "h2"
	got, err := st.UserByEmail(ctx, "a@example.com")
	if err != nil {
		t.Fatalf("UserByEmail: %v", err)
	}
	checkUser(t, "after the swap", got, want)
	checkUser(t, "the other user (same old hash) after the swap", mustUser(t, st, "u-2"), other)

	// The old hash is now stale: refused, nothing written.
	if err := st.UpdatePasswordHash(ctx, "u-1", "h1", "h3"); !isStale(err) || isNotFound(err) {
		t.Errorf("UpdatePasswordHash(stale old hash): err = %v, want ErrStale (and not ErrNotFound)", err)
	}
	checkUser(t, "after a stale swap", mustUser(t, st, "u-1"), want)
	// The comparison is exact: no prefix, case or empty-string match.
	for _, old := range []string{"", "h", "H2", "h2 "} {
		if err := st.UpdatePasswordHash(ctx, "u-1", old, "h4"); !isStale(err) {
			t.Errorf("UpdatePasswordHash(old %q): err = %v, want ErrStale", old, err)
		}
	}
	checkUser(t, "after inexact swaps", mustUser(t, st, "u-1"), want)

	if err := st.UpdatePasswordHash(ctx, "nobody", "h1", "h5"); !isNotFound(err) || isStale(err) {
		t.Errorf("UpdatePasswordHash(unknown id): err = %v, want ErrNotFound (and not ErrStale)", err)
	}
	// Swapping to the same hash is a successful no-op; a later whole-record
	// update still sees the swapped hash.
	if err := st.UpdatePasswordHash(ctx, "u-1", "h2", "h2"); err != nil {
		t.Errorf("UpdatePasswordHash(h2 -> h2): %v", err)
	}
	checkUser(t, "after an identity swap", mustUser(t, st, "u-1"), want)
	checkCount(t, st, "after swaps", 2)
}

// mustUser reads a user by id or fails the test.
func mustUser(t *testing.T, st store.Users, id string) store.User {
	t.Helper()
	u, err := st.UserByID(t.Context(), id)
	if err != nil {
		t.Fatalf("UserByID(%s): %v", id, err)
	}
	return u
}

// interleavedUsers runs hook once, with the store underneath, at one point
// of the authenticator's work: right after its UserByEmail or UserByID
// read ("after read"), or at the entry of its write, UpdatePasswordHash or
// UpdateUser ("before write"). It stands for an administrator whose change
// commits in the middle of a login or password change.
type interleavedUsers struct {
	store.Users
	beforeWrite bool
	once        sync.Once
	hook        func()
}

func (s *interleavedUsers) fire(write bool) {
	if write == s.beforeWrite {
		s.once.Do(s.hook)
	}
}

func (s *interleavedUsers) UserByEmail(ctx context.Context, email string) (store.User, error) {
	u, err := s.Users.UserByEmail(ctx, email)
	s.fire(false)
	return u, err
}

func (s *interleavedUsers) UserByID(ctx context.Context, id string) (store.User, error) {
	u, err := s.Users.UserByID(ctx, id)
	s.fire(false)
	return u, err
}

func (s *interleavedUsers) UpdateUser(ctx context.Context, u store.User) error {
	s.fire(true)
	return s.Users.UpdateUser(ctx, u)
}

func (s *interleavedUsers) UpdatePasswordHash(ctx context.Context, id, oldHash, newHash string) error {
	s.fire(true)
	return s.Users.UpdatePasswordHash(ctx, id, oldHash, newHash)
}

// adminChange is an administrator's edit of a user and the check that it
// survived.
type adminChange struct {
	name  string
	apply func(u *store.User)
	check func(t *testing.T, got store.User)
}

// adminChanges are the edits a rehash or a password change must not undo:
// a disable, a role change and a lock.
func adminChanges() []adminChange {
	return []adminChange{
		{"disable", func(u *store.User) { u.Disabled = true }, func(t *testing.T, got store.User) {
			if !got.Disabled || !slices.Equal(got.Roles, []string{"user"}) {
				t.Errorf("the disable was undone: %+v", got)
			}
		}},
		{"roles", func(u *store.User) { u.Roles = []string{"auditor"} }, func(t *testing.T, got store.User) {
			if !slices.Equal(got.Roles, []string{"auditor"}) || got.Disabled {
				t.Errorf("the role change was undone: %+v", got)
			}
		}},
		{"lock", func(u *store.User) { u.Locked = true }, func(t *testing.T, got store.User) {
			if !got.Locked {
				t.Errorf("the lock was undone: %+v", got)
			}
		}},
	}
}

// applyAdmin applies change to user id directly on st, with a whole-record
// update as an administration tool would.
func applyAdmin(t *testing.T, st store.Users, id string, change func(u *store.User)) {
	u, err := st.UserByID(context.Background(), id)
	if err != nil {
		t.Errorf("admin read: %v", err)
		return
	}
	change(&u)
	if err := st.UpdateUser(context.Background(), u); err != nil {
		t.Errorf("admin write: %v", err)
	}
}

// testRehashKeepsAdminChanges: a login whose stored hash is rehashed (here a
// bcrypt hash migrating to Argon2id) writes the new hash alone and only over
// the hash it verified, so a disable, role change, lock or password change
// committed between its read and its write survives.
func testRehashKeepsAdminChanges(t *testing.T, st store.Store) {
	const email, oldPW, adminPW = "mig@example.com", "old password", "set by the admin"
	legacy, err := bcrypt.GenerateFromPassword([]byte(oldPW), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	adminHash, err := password.Hash(adminPW, password.DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	changes := append(adminChanges(), adminChange{"password", func(u *store.User) { u.PasswordHash = adminHash },
		func(t *testing.T, got store.User) {
			if got.PasswordHash != adminHash {
				t.Errorf("the administrator's password change was overwritten by the rehash")
			}
		}})
	n := 0
	for _, beforeWrite := range []bool{false, true} {
		for _, c := range changes {
			n++
			id := string(rune('a'+n)) + "-user"
			u := store.User{ID: id, Email: id + email, PasswordHash: string(legacy), Roles: []string{"user"}, CreatedAt: at(0)}
			if err := st.CreateUser(t.Context(), u); err != nil {
				t.Fatal(err)
			}
			users := &interleavedUsers{Users: st, beforeWrite: beforeWrite}
			users.hook = func() { applyAdmin(t, st, id, c.apply) }
			a, err := password.NewAuthenticator(users, password.Options{MaxConcurrent: 2})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.Authenticate(t.Context(), u.Email, oldPW); err != nil {
				t.Fatalf("%s (before write %v): login with the legacy hash: %v", c.name, beforeWrite, err)
			}
			got := mustUser(t, st, id)
			c.check(t, got)
			if c.name != "password" && got.PasswordHash == string(legacy) {
				t.Errorf("%s (before write %v): the legacy hash was not rehashed", c.name, beforeWrite)
			}
		}
	}
}

// testSetPasswordKeepsAdminChanges: SetPassword writes the new hash alone, so
// a disable, role change or lock committed while it hashes survives, and the
// new password is set anyway.
func testSetPasswordKeepsAdminChanges(t *testing.T, st store.Store) {
	for i, c := range adminChanges() {
		id := string(rune('a'+i)) + "-user"
		u := store.User{ID: id, Email: id + "@example.com", PasswordHash: "old", Roles: []string{"user"}, CreatedAt: at(0)}
		if err := st.CreateUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
		users := &interleavedUsers{Users: st, beforeWrite: true}
		users.hook = func() { applyAdmin(t, st, id, c.apply) }
		a, err := password.NewAuthenticator(users, password.Options{MaxConcurrent: 2})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.SetPassword(t.Context(), id, "a new password"); err != nil {
			t.Fatalf("%s: SetPassword: %v", c.name, err)
		}
		got := mustUser(t, st, id)
		c.check(t, got)
		if got.PasswordHash == "old" {
			t.Errorf("%s: SetPassword did not set the password", c.name)
		}
	}
}
