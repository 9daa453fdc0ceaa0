package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/authguard/authguard/core/store"
)

var throttleTests = []subtest{
	{"HitPeekReset", testThrottle},
	{"WindowExpiry", testThrottleWindow},
	{"Forgive", testThrottleForgive},
}

// testThrottleForgive: Forgive takes back one hit of the window it names,
// never below zero, and nothing of another window or key.
func testThrottleForgive(t *testing.T, st store.Store) {
	ctx := t.Context()
	const w = 15 * time.Minute
	peek := func(now time.Time) int {
		t.Helper()
		n, _, err := st.Peek(ctx, "ip:192.0.2.1", now, w)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	_, start, err := st.Hit(ctx, "ip:192.0.2.1", at(0), w)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Hit(ctx, "ip:192.0.2.1", at(time.Minute), w); err != nil {
		t.Fatal(err)
	}
	if err := st.Forgive(ctx, "ip:192.0.2.1", start); err != nil {
		t.Fatal(err)
	}
	if n := peek(at(2 * time.Minute)); n != 1 {
		t.Fatalf("after one Forgive: count %d, want 1", n)
	}
	// Forgiving below zero, an unknown key, or another window does nothing.
	for i := 0; i < 3; i++ {
		if err := st.Forgive(ctx, "ip:192.0.2.1", start); err != nil {
			t.Fatal(err)
		}
	}
	if n := peek(at(2 * time.Minute)); n != 0 {
		t.Fatalf("count went to %d, want 0 (never negative)", n)
	}
	if n, _, err := st.Hit(ctx, "ip:192.0.2.1", at(3*time.Minute), w); err != nil || n != 1 {
		t.Fatalf("hit after forgiving everything = %d, %v; want 1", n, err)
	}
	if err := st.Forgive(ctx, "ip:unknown", start); err != nil {
		t.Fatalf("forgiving an unknown key: %v", err)
	}
	_, newStart, err := st.Hit(ctx, "ip:192.0.2.1", at(20*time.Minute), w) // a new window
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Forgive(ctx, "ip:192.0.2.1", start); err != nil { // the old window's start
		t.Fatal(err)
	}
	if n := peek(at(21 * time.Minute)); n != 1 {
		t.Fatalf("forgiving an ended window changed the new one: count %d, want 1", n)
	}
	if err := st.Forgive(ctx, "ip:192.0.2.1", newStart); err != nil {
		t.Fatal(err)
	}
	if n := peek(at(21 * time.Minute)); n != 0 {
		t.Fatalf("count %d after forgiving the new window, want 0", n)
	}
}

var userTests = []subtest{
	{"CreateAndGet", testUsers},
	{"Conflict", testUserConflict},
	{"Update", testUserUpdate},
	{"Roles", testUserRoles},
	{"CountUsers", testCountUsers},
	{"UpdatePasswordHash", testUpdatePasswordHash},
	{"RehashKeepsAdminChanges", testRehashKeepsAdminChanges},
	{"SetPasswordKeepsAdminChanges", testSetPasswordKeepsAdminChanges},
}

var lifecycleTests = []subtest{
	{"Ping", testPing},
	{"CancelledContext", testCancelled},
	{"Closed", testClosed},
}

// testThrottle: Hit counts within a window, Peek reads without counting,
// keys are independent and Reset deletes one counter.
func testThrottle(t *testing.T, st store.Store) {
	ctx := t.Context()
	const w = 15 * time.Minute
	start := at(0)
	check := func(what string, gotN int, gotStart time.Time, err error, wantN int, wantStart time.Time) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if gotN != wantN || !sameTime(gotStart, wantStart) {
			t.Errorf("%s = %d, %v; want %d, %v", what, gotN, gotStart, wantN, wantStart)
		}
	}
	n, ws, err := st.Peek(ctx, "acct:a", start, w)
	check("Peek(unknown)", n, ws, err, 0, time.Time{})
	n, ws, err = st.Hit(ctx, "acct:a", start, w)
	check("first Hit", n, ws, err, 1, start)
	for i := 2; i <= 5; i++ {
		n, ws, err = st.Hit(ctx, "acct:a", start.Add(time.Duration(i)*time.Minute), w)
		check("Hit", n, ws, err, i, start)
	}
	n, ws, err = st.Peek(ctx, "acct:a", start.Add(10*time.Minute), w)
	check("Peek", n, ws, err, 5, start)
	// Peek does not count.
	n, ws, err = st.Peek(ctx, "acct:a", start.Add(10*time.Minute), w)
	check("Peek again", n, ws, err, 5, start)

	// Keys are independent.
	n, ws, err = st.Hit(ctx, "ip:192.0.2.1", start.Add(time.Minute), w)
	check("Hit(other key)", n, ws, err, 1, start.Add(time.Minute))
	n, ws, err = st.Peek(ctx, "acct:a", start.Add(11*time.Minute), w)
	check("Peek after other key", n, ws, err, 5, start)

	// Reset deletes the counter; resetting an unknown key is fine.
	if err := st.Reset(ctx, "acct:a"); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	n, ws, err = st.Peek(ctx, "acct:a", start.Add(11*time.Minute), w)
	check("Peek after Reset", n, ws, err, 0, time.Time{})
	n, ws, err = st.Hit(ctx, "acct:a", start.Add(12*time.Minute), w)
	check("Hit after Reset", n, ws, err, 1, start.Add(12*time.Minute))
	if err := st.Reset(ctx, "never-seen"); err != nil {
		t.Errorf("Reset(unknown): %v", err)
	}
	n, ws, err = st.Peek(ctx, "ip:192.0.2.1", start.Add(12*time.Minute), w)
	check("Peek(other key) after Reset", n, ws, err, 1, start.Add(time.Minute))
}

// testThrottleWindow: the window boundaries are exact (a window that
// started at now-window has ended) and the window length is the caller's.
func testThrottleWindow(t *testing.T, st store.Store) {
	ctx := t.Context()
	const w = time.Minute
	start := at(time.Hour)
	check := func(what string, gotN int, gotStart time.Time, err error, wantN int, wantStart time.Time) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if gotN != wantN || !sameTime(gotStart, wantStart) {
			t.Errorf("%s = %d, %v; want %d, %v", what, gotN, gotStart, wantN, wantStart)
		}
	}
	st.Hit(ctx, "k", start, w)
	n, ws, err := st.Hit(ctx, "k", start.Add(w-time.Millisecond), w)
	check("Hit just inside the window", n, ws, err, 2, start)
	n, ws, err = st.Peek(ctx, "k", start.Add(w-time.Millisecond), w)
	check("Peek just inside the window", n, ws, err, 2, start)
	n, ws, err = st.Peek(ctx, "k", start.Add(w), w)
	check("Peek when the window ends (at now)", n, ws, err, 0, time.Time{})
	n, ws, err = st.Peek(ctx, "k", start.Add(time.Hour), w)
	check("Peek long after", n, ws, err, 0, time.Time{})
	// A hit when the window started exactly now-window starts a new window.
	next := start.Add(w)
	n, ws, err = st.Hit(ctx, "k", next, w)
	check("Hit at window end", n, ws, err, 1, next)
	n, ws, err = st.Hit(ctx, "k", next.Add(30*time.Second), w)
	check("Hit in the new window", n, ws, err, 2, next)
	// A long gap also starts a new window.
	later := next.Add(10 * time.Hour)
	n, ws, err = st.Hit(ctx, "k", later, w)
	check("Hit after a gap", n, ws, err, 1, later)
	// The window length is the caller's: a longer window keeps counting.
	n, ws, err = st.Hit(ctx, "k", later.Add(5*time.Minute), time.Hour)
	check("Hit with a longer window", n, ws, err, 2, later)
	n, ws, err = st.Peek(ctx, "k", later.Add(5*time.Minute), w)
	check("Peek with the short window", n, ws, err, 0, time.Time{})
}

// testUsers: users round-trip by id and by e-mail, unknown ones are
// ErrNotFound, and a store.UserCounter counts them.
func testUsers(t *testing.T, st store.Store) {
	ctx := t.Context()
	checkCount(t, st, "empty store", 0)
	u := store.User{
		ID:           "u-1",
		Email:        "alice@example.com",
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		Roles:        []string{"admin", "user"},
		Disabled:     false,
		Locked:       true,
		CreatedAt:    time.Date(2031, 1, 2, 3, 4, 5, 678_000_000, time.FixedZone("x", -7*3600)),
	}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	v := u
	v.ID, v.Email, v.Roles, v.Locked, v.Disabled = "u-2", "bob@example.com", []string{"user"}, false, true
	if err := st.CreateUser(ctx, v); err != nil {
		t.Fatalf("CreateUser(second): %v", err)
	}
	for _, want := range []store.User{u, v} {
		byID, err := st.UserByID(ctx, want.ID)
		if err != nil {
			t.Fatalf("UserByID(%s): %v", want.ID, err)
		}
		checkUser(t, "UserByID", byID, want)
		byEmail, err := st.UserByEmail(ctx, want.Email)
		if err != nil {
			t.Fatalf("UserByEmail(%s): %v", want.Email, err)
		}
		checkUser(t, "UserByEmail", byEmail, want)
	}
	if _, err := st.UserByID(ctx, "u-3"); !isNotFound(err) {
		t.Errorf("UserByID(unknown): err = %v, want ErrNotFound", err)
	}
	if _, err := st.UserByEmail(ctx, "carol@example.com"); !isNotFound(err) {
		t.Errorf("UserByEmail(unknown): err = %v, want ErrNotFound", err)
	}
	checkCount(t, st, "two users", 2)
}

// checkCount checks CountUsers when st is a store.UserCounter.
func checkCount(t *testing.T, st store.Store, what string, want int) {
	t.Helper()
	uc, ok := st.(store.UserCounter)
	if !ok {
		return
	}
	if n, err := uc.CountUsers(t.Context()); err != nil || n != want {
		t.Errorf("CountUsers (%s) = %d, %v; want %d", what, n, err, want)
	}
}

// testCountUsers: a store.UserCounter counts users, refused creates not included.
func testCountUsers(t *testing.T, st store.Store) {
	if _, ok := st.(store.UserCounter); !ok {
		t.Skipf("%T does not implement store.UserCounter", st)
	}
	checkCount(t, st, "empty store", 0)
	for i, email := range []string{"a@example.com", "b@example.com", "a@example.com"} {
		_ = st.CreateUser(t.Context(), store.User{ID: fmt.Sprint("u", i), Email: email, CreatedAt: at(0)})
	}
	checkCount(t, st, "two users and a refused create", 2)
}

func checkUser(t *testing.T, what string, got, want store.User) {
	t.Helper()
	if got.ID != want.ID || got.Email != want.Email || got.PasswordHash != want.PasswordHash ||
		got.Disabled != want.Disabled || got.Locked != want.Locked || !sameTime(got.CreatedAt, want.CreatedAt) {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
	if got.Roles == nil {
		t.Errorf("%s: Roles is nil, want a non-nil slice", what)
	}
	if !equalStrings(got.Roles, want.Roles) {
		t.Errorf("%s: Roles = %q, want %q", what, got.Roles, want.Roles)
	}
}

// testUserConflict: a duplicate id or e-mail is ErrConflict and the refused
// user is stored under neither key.
func testUserConflict(t *testing.T, st store.Store) {
	ctx := t.Context()
	u := store.User{ID: "u-1", Email: "a@example.com", PasswordHash: "h", CreatedAt: at(0)}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	dupID := store.User{ID: "u-1", Email: "other@example.com", PasswordHash: "h2", CreatedAt: at(0)}
	if err := st.CreateUser(ctx, dupID); !isConflict(err) {
		t.Errorf("duplicate id: err = %v, want ErrConflict", err)
	}
	dupEmail := store.User{ID: "u-2", Email: "a@example.com", PasswordHash: "h3", CreatedAt: at(0)}
	if err := st.CreateUser(ctx, dupEmail); !isConflict(err) {
		t.Errorf("duplicate email: err = %v, want ErrConflict", err)
	}
	checkCount(t, st, "after refused creates", 1)
	if _, err := st.UserByEmail(ctx, "other@example.com"); !isNotFound(err) {
		t.Errorf("refused create is visible by email: %v", err)
	}
	if _, err := st.UserByID(ctx, "u-2"); !isNotFound(err) {
		t.Errorf("refused create is visible by id: %v", err)
	}
	if got, err := st.UserByID(ctx, "u-1"); err != nil || got.PasswordHash != "h" || got.Email != "a@example.com" {
		t.Errorf("refused create changed u-1: %+v, %v", got, err)
	}
}

// testUserUpdate: UpdateUser replaces everything but CreatedAt, flags clear
// again, an e-mail moves unless another user holds it, unknown ids are
// ErrNotFound.
func testUserUpdate(t *testing.T, st store.Store) {
	ctx := t.Context()
	u := store.User{ID: "u-1", Email: "a@example.com", PasswordHash: "old", Roles: []string{"user"}, CreatedAt: at(0)}
	other := store.User{ID: "u-2", Email: "b@example.com", PasswordHash: "x", CreatedAt: at(0)}
	for _, x := range []store.User{u, other} {
		if err := st.CreateUser(ctx, x); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
	}
	upd := u
	upd.PasswordHash, upd.Roles, upd.Disabled, upd.Locked = "new", []string{"admin"}, true, true
	upd.CreatedAt = at(time.Hour) // CreatedAt is kept as stored
	if err := st.UpdateUser(ctx, upd); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	want := upd
	want.CreatedAt = u.CreatedAt
	got, err := st.UserByEmail(ctx, "a@example.com")
	if err != nil {
		t.Fatalf("UserByEmail: %v", err)
	}
	checkUser(t, "after UpdateUser", got, want)

	// Flags can be cleared again.
	upd.Disabled, upd.Locked, upd.Roles = false, false, nil
	if err := st.UpdateUser(ctx, upd); err != nil {
		t.Fatalf("UpdateUser(clear): %v", err)
	}
	want.Disabled, want.Locked, want.Roles = false, false, []string{}
	got, _ = st.UserByID(ctx, "u-1")
	checkUser(t, "after clearing", got, want)

	// E-mail change: to a taken address is a conflict, to a free one moves it.
	taken := upd
	taken.Email = "b@example.com"
	if err := st.UpdateUser(ctx, taken); !isConflict(err) {
		t.Errorf("UpdateUser to another user's email: err = %v, want ErrConflict", err)
	}
	if got, _ := st.UserByEmail(ctx, "b@example.com"); got.ID != "u-2" {
		t.Errorf("b@example.com now belongs to %q", got.ID)
	}
	moved := upd
	moved.Email = "a2@example.com"
	if err := st.UpdateUser(ctx, moved); err != nil {
		t.Fatalf("UpdateUser(new email): %v", err)
	}
	if got, err := st.UserByEmail(ctx, "a2@example.com"); err != nil || got.ID != "u-1" {
		t.Errorf("UserByEmail(new) = %q, %v", got.ID, err)
	}
	if _, err := st.UserByEmail(ctx, "a@example.com"); !isNotFound(err) {
		t.Errorf("UserByEmail(old) after change: err = %v, want ErrNotFound", err)
	}

	if err := st.UpdateUser(ctx, store.User{ID: "nobody", Email: "n@example.com"}); !isNotFound(err) {
		t.Errorf("UpdateUser(unknown): err = %v, want ErrNotFound", err)
	}
	checkCount(t, st, "after updates", 2)
}

// testUserRoles: roles come back non-nil, in order, byte for byte, and are
// not aliased in either direction.
func testUserRoles(t *testing.T, st store.Store) {
	ctx := t.Context()
	cases := []struct {
		id    string
		roles []string
		want  []string
	}{
		{"nil", nil, []string{}},
		{"empty", []string{}, []string{}},
		{"one", []string{"admin"}, []string{"admin"}},
		{"order", []string{"z", "a", "m", "a b", `q"uote`, "ünï"}, []string{"z", "a", "m", "a b", `q"uote`, "ünï"}},
	}
	for _, c := range cases {
		u := store.User{ID: c.id, Email: c.id + "@example.com", PasswordHash: "h", Roles: c.roles, CreatedAt: at(0)}
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser(%s): %v", c.id, err)
		}
		got, err := st.UserByID(ctx, c.id)
		if err != nil {
			t.Fatalf("UserByID(%s): %v", c.id, err)
		}
		if got.Roles == nil || !equalStrings(got.Roles, c.want) {
			t.Errorf("%s: Roles = %#v, want %#v", c.id, got.Roles, c.want)
		}
	}
	// No aliasing of Roles in either direction.
	roles := []string{"user", "editor"}
	if err := st.CreateUser(ctx, store.User{ID: "alias", Email: "alias@example.com", Roles: roles, CreatedAt: at(0)}); err != nil {
		t.Fatal(err)
	}
	roles[0] = "admin"
	got, _ := st.UserByID(ctx, "alias")
	if got.Roles[0] != "user" {
		t.Errorf("caller's slice aliased the stored roles: %q", got.Roles)
	}
	got.Roles[1] = "admin"
	again, _ := st.UserByEmail(ctx, "alias@example.com")
	if !equalStrings(again.Roles, []string{"user", "editor"}) {
		t.Errorf("returned slice aliased the stored roles: %q", again.Roles)
	}
}

// testPing: a store.Pinger reports an open store as reachable.
func testPing(t *testing.T, st store.Store) {
	p, ok := st.(store.Pinger)
	if !ok {
		t.Skipf("%T does not implement store.Pinger", st)
	}
	if err := p.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// everyMethod calls each method of st (the optional ones when st has them)
// with ctx and reports the errors by name.
func everyMethod(ctx context.Context, st store.Store) map[string]error {
	errs := map[string]error{}
	errs["CreateSession"] = st.CreateSession(ctx, newSession("ctx-new", "alice", at(0)))
	_, errs["Session"] = st.Session(ctx, "ctx")
	errs["UpdateSession"] = update(ctx, st, revoked(newSession("ctx", "alice", at(0)), at(time.Minute), "logout"), true)
	_, errs["ListSessions"] = st.ListSessions(ctx, "alice", at(time.Minute))
	_, errs["Revocations"] = st.Revocations(ctx, 0, 0)
	_, errs["Prune"] = st.Prune(ctx, at(48*time.Hour))
	_, _, errs["Hit"] = st.Hit(ctx, "k", at(0), time.Minute)
	_, _, errs["Peek"] = st.Peek(ctx, "k", at(0), time.Minute)
	errs["Forgive"] = st.Forgive(ctx, "k", at(0))
	errs["Reset"] = st.Reset(ctx, "k")
	errs["CreateUser"] = st.CreateUser(ctx, store.User{ID: "u-new", Email: "u-new@example.com", CreatedAt: at(0)})
	_, errs["UserByEmail"] = st.UserByEmail(ctx, "u@example.com")
	_, errs["UserByID"] = st.UserByID(ctx, "u")
	errs["UpdateUser"] = st.UpdateUser(ctx, store.User{ID: "u", Email: "u@example.com"})
	errs["UpdatePasswordHash"] = st.UpdatePasswordHash(ctx, "u", "", "new")
	if uc, ok := st.(store.UserCounter); ok {
		_, errs["CountUsers"] = uc.CountUsers(ctx)
	}
	if p, ok := st.(store.Pinger); ok {
		errs["Ping"] = p.Ping(ctx)
	}
	if fp, ok := st.(store.Footprinter); ok {
		_, errs["Footprint"] = fp.Footprint(ctx)
	}
	return errs
}

// testCancelled: every method answers an already cancelled context with an
// error and writes nothing (a store that ignored the context would succeed
// on the seeded state).
func testCancelled(t *testing.T, st store.Store) {
	seeded := newSession("ctx", "alice", at(0))
	mustCreate(t, st, seeded)
	if err := st.CreateUser(t.Context(), store.User{ID: "u", Email: "u@example.com", CreatedAt: at(0)}); err != nil {
		t.Fatal(err)
	}
	for name, err := range everyMethod(cancelledCtx(), st) {
		if err == nil {
			t.Errorf("%s with a cancelled context: err = nil, want an error", name)
		}
	}
	checkSession(t, "session after cancelled calls", mustSession(t, st, "ctx"), seeded)
	if f := feed(t, st, 0, 0); len(f) != 0 {
		t.Errorf("a call with a cancelled context appended to the feed: %+v", f)
	}
	if _, err := st.Session(t.Context(), "ctx-new"); !isNotFound(err) {
		t.Errorf("CreateSession with a cancelled context stored the session (err = %v)", err)
	}
	checkCount(t, st, "after cancelled calls", 1)
	if u := mustUser(t, st, "u"); u.PasswordHash != "" {
		t.Errorf("UpdatePasswordHash with a cancelled context wrote the hash")
	}
}

// testClosed: after Close every method returns an error, and a second Close
// does not panic.
func testClosed(t *testing.T, st store.Store) {
	mustCreate(t, st, newSession("ctx", "alice", at(0)))
	if err := st.CreateUser(t.Context(), store.User{ID: "u", Email: "u@example.com", CreatedAt: at(0)}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for name, err := range everyMethod(t.Context(), st) {
		if err == nil {
			t.Errorf("%s after Close: err = nil, want an error", name)
		}
	}
	// A second Close must not panic (its error is not checked).
	_ = st.Close()
}
