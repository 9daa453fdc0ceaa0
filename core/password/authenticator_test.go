package password

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/memstore"
	"github.com/authguard/authguard/core/store"
)

// countingUsers wraps a store.Users, counts calls, and can fail them.

type countingUsers struct {
	store.Users
	calls atomic.Int64
	fail  error // returned by every call when set
}

func (c *countingUsers) CreateUser(ctx context.Context, u store.User) error {
	c.calls.Add(1)
	if c.fail != nil {
		return c.fail
	}
	return c.Users.CreateUser(ctx, u)
}

func (c *countingUsers) UserByEmail(ctx context.Context, email string) (store.User, error) {
	c.calls.Add(1)
	if c.fail != nil {
		return store.User{}, c.fail
	}
	return c.Users.UserByEmail(ctx, email)
}

func (c *countingUsers) UserByID(ctx context.Context, id string) (store.User, error) {
	c.calls.Add(1)
	if c.fail != nil {
		return store.User{}, c.fail
	}
	return c.Users.UserByID(ctx, id)
}

func (c *countingUsers) UpdateUser(ctx context.Context, u store.User) error {
	c.calls.Add(1)
	if c.fail != nil {
		return c.fail
	}
	return c.Users.UpdateUser(ctx, u)
}

func (c *countingUsers) UpdatePasswordHash(ctx context.Context, id, oldHash, newHash string) error {
	c.calls.Add(1)
	if c.fail != nil {
		return c.fail
	}
	return c.Users.UpdatePasswordHash(ctx, id, oldHash, newHash)
}

func newTestAuthenticator(t *testing.T, o Options) (*Authenticator, *countingUsers) {
	t.Helper()
	users := &countingUsers{Users: memstore.New()}
	a, err := NewAuthenticator(users, o)
	if err != nil {
		t.Fatalf("NewAuthenticator: %v", err)
	}
	return a, users
}

// kindsOf names the core sentinels err wraps: errors of the same kinds get

// the same answer on the wire.

func kindsOf(err error) string {
	var names []string
	for _, k := range []error{core.ErrInvalidRequest, core.ErrInvalidGrant, core.ErrInvalidCredentials,
		core.ErrNotFound, core.ErrUnavailable, core.ErrInternal, core.ErrConfig} {
		if errors.Is(err, k) {
			names = append(names, strings.TrimPrefix(k.Error(), "authguard: "))
		}
	}
	return strings.Join(names, ",")
}

func TestPasswordTooLongRefusedBeforeHashing(t *testing.T) {
	tooLong := strings.Repeat("x", core.MaxPasswordBytes+1)

	// Hash: the refusal must take far less than one hash.
	best := time.Hour
	for range 3 {
		start := time.Now()
		_, err := Hash(tooLong, DefaultParams)
		if d := time.Since(start); d < best {
			best = d
		}
		wantReason(t, err, core.ErrInvalidRequest, "password_too_long")
	}
	if best > 5*time.Millisecond {
		t.Fatalf("refusing an over-long password took %v: was it hashed?", best)
	}

	a, users := newTestAuthenticator(t, Options{})
	ctx := context.Background()
	_, err := a.Authenticate(ctx, "someone@example.com", tooLong)
	wantReason(t, err, core.ErrInvalidRequest, "password_too_long")
	_, err = a.CreateUser(ctx, "someone@example.com", tooLong, nil)
	wantReason(t, err, core.ErrInvalidRequest, "password_too_long")
	err = a.SetPassword(ctx, "some-id", tooLong)
	wantReason(t, err, core.ErrInvalidRequest, "password_too_long")
	if n := a.v.hashes.Load(); n != 0 {
		t.Fatalf("%d hashes computed for over-long passwords", n)
	}
	if n := users.calls.Load(); n != 0 {
		t.Fatalf("%d store calls for over-long passwords", n)
	}
}

func TestAuthenticatePasswordFlow(t *testing.T) {
	a, users := newTestAuthenticator(t, Options{})
	ctx := context.Background()
	roles := []string{"admin", "user"}
	u, err := a.CreateUser(ctx, "  Alice@Example.COM ", "s3cret pässword", roles)
	if err != nil {
		t.Fatal(err)
	}
	roles[0] = "mutated"
	if u.Email != "alice@example.com" {
		t.Fatalf("stored e-mail %q", u.Email)
	}
	if !regexp.MustCompile(`^[A-Z2-7]{26}$`).MatchString(u.ID) {
		t.Fatalf("id %q is not 26 random base32 characters", u.ID)
	}
	if u.CreatedAt.Location() != time.UTC || time.Since(u.CreatedAt) > time.Minute {
		t.Fatalf("CreatedAt %v", u.CreatedAt)
	}
	if !strings.HasPrefix(u.PasswordHash, defaultPHCPrefix) {
		t.Fatalf("stored hash has prefix %q", u.PasswordHash[:len(defaultPHCPrefix)])
	}

	a.v.hashes.Store(0)
	id, err := a.Authenticate(ctx, "ALICE@example.com\t", "s3cret pässword")
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if id.Subject != u.ID || len(id.Roles) != 2 || id.Roles[0] != "admin" || id.Roles[1] != "user" {
		t.Fatalf("identity %+v", id)
	}
	id.Roles[0] = "root"
	if got, _ := users.UserByID(ctx, u.ID); got.Roles[0] != "admin" {
		t.Fatal("identity roles alias the store")
	}

	lid, err := a.Lookup(ctx, u.ID)
	if err != nil || lid.Subject != u.ID || len(lid.Roles) != 2 || lid.Roles[0] != "admin" {
		t.Fatalf("Lookup = %+v, %v", lid, err)
	}

	_, errWrong := a.Authenticate(ctx, "alice@example.com", "s3cret Pässword")
	wantReason(t, errWrong, core.ErrInvalidCredentials, "wrong_password")
	_, errUnknown := a.Authenticate(ctx, "bob@example.com", "s3cret pässword")
	wantReason(t, errUnknown, core.ErrInvalidCredentials, "unknown_user")
	// At the limit (once normalised) an e-mail address is looked up; past
	// it, the request is refused before the store and the hash, as Login does.
	_, errLimit := a.Authenticate(ctx, " "+strings.Repeat("a", core.MaxEmailBytes-12)+"@example.com ", "x")
	wantReason(t, errLimit, core.ErrInvalidCredentials, "unknown_user")
	_, errHuge := a.Authenticate(ctx, strings.Repeat("a", core.MaxEmailBytes-11)+"@example.com", "x")
	wantReason(t, errHuge, core.ErrInvalidRequest, "email_too_long")
	if kindsOf(errWrong) != kindsOf(errUnknown) || kindsOf(errWrong) != "invalid credentials" {
		t.Fatalf("kinds differ: %q vs %q", kindsOf(errWrong), kindsOf(errUnknown))
	}
	if n := a.v.hashes.Load(); n != 4 {
		t.Fatalf("%d hashes for 4 credential checks, want exactly one each", n)
	}
	_, err = a.Lookup(ctx, "no-such-id")
	wantReason(t, err, core.ErrInvalidCredentials, "unknown_user")
	_, err = a.Lookup(ctx, "")
	wantReason(t, err, core.ErrInvalidCredentials, "unknown_user")

	// Disabled and locked: the hash still runs, then the login fails.
	for _, tc := range []struct {
		reason string
		set    func(*store.User)
	}{
		{"locked", func(u *store.User) { u.Locked = true }},
		{"disabled", func(u *store.User) { u.Disabled = true; u.Locked = true }},
	} {
		cur, _ := users.UserByID(ctx, u.ID)
		tc.set(&cur)
		if err := users.UpdateUser(ctx, cur); err != nil {
			t.Fatal(err)
		}
		before := a.v.hashes.Load()
		_, err := a.Authenticate(ctx, "alice@example.com", "s3cret pässword")
		wantReason(t, err, core.ErrInvalidCredentials, tc.reason)
		if a.v.hashes.Load() != before+1 {
			t.Fatalf("%s account: no hash verification ran", tc.reason)
		}
		if kindsOf(err) != kindsOf(errUnknown) {
			t.Fatalf("%s account: kinds %q differ from unknown user", tc.reason, kindsOf(err))
		}
		_, err = a.Lookup(ctx, u.ID)
		wantReason(t, err, core.ErrInvalidCredentials, tc.reason)
	}
}

func TestPasswordCreateUserAndSetPassword(t *testing.T) {
	a, users := newTestAuthenticator(t, Options{})
	ctx := context.Background()
	for _, tc := range []struct{ email, pw, reason string }{
		{"", "pw", "invalid_email"},
		{"   ", "pw", "invalid_email"},
		{"no-at-sign", "pw", "invalid_email"},
		{strings.Repeat("a", 243) + "@example.com", "pw", "invalid_email"}, // 255 bytes
		{"carol@example.com", "", "password_empty"},
	} {
		_, err := a.CreateUser(ctx, tc.email, tc.pw, nil)
		wantReason(t, err, core.ErrInvalidRequest, tc.reason)
	}
	if n := a.v.hashes.Load(); n != 0 {
		t.Fatalf("%d hashes for invalid input", n)
	}

	u, err := a.CreateUser(ctx, "carol@example.com", "first password", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.CreateUser(ctx, " CAROL@example.com", "other password", []string{"x"})
	if !errors.Is(err, store.ErrConflict) || !errors.Is(err, core.ErrInvalidRequest) {
		t.Fatalf("duplicate e-mail: %v", err)
	}

	if err := a.SetPassword(ctx, u.ID, "second password"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, "carol@example.com", "first password"); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Fatalf("old password after SetPassword: %v", err)
	}
	if id, err := a.Authenticate(ctx, "carol@example.com", "second password"); err != nil || id.Subject != u.ID {
		t.Fatalf("new password after SetPassword: %+v, %v", id, err)
	}
	err = a.SetPassword(ctx, "no-such-id", "pw")
	if !errors.Is(err, core.ErrNotFound) || !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetPassword unknown subject: %v", err)
	}
	wantReason(t, a.SetPassword(ctx, u.ID, ""), core.ErrInvalidRequest, "password_empty")

	// Store failures are availability errors, never credential errors.
	down := errors.New("connection refused")
	users.fail = down
	for name, err := range map[string]error{
		"Authenticate": func() error { _, err := a.Authenticate(ctx, "carol@example.com", "pw"); return err }(),
		"Lookup":       func() error { _, err := a.Lookup(ctx, u.ID); return err }(),
		"CreateUser":   func() error { _, err := a.CreateUser(ctx, "dave@example.com", "pw", nil); return err }(),
		"SetPassword":  a.SetPassword(ctx, u.ID, "pw"),
	} {
		wantReason(t, err, core.ErrUnavailable, "user_store")
		if !errors.Is(err, down) || errors.Is(err, core.ErrInvalidCredentials) {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func TestAuthenticateUnknownUserCostsOneHash(t *testing.T) {
	a, _ := newTestAuthenticator(t, Options{})
	ctx := context.Background()
	if _, err := a.CreateUser(ctx, "erin@example.com", "the password", nil); err != nil {
		t.Fatal(err)
	}
	timeIt := func(email string) time.Duration {
		best := time.Hour
		for range 5 {
			start := time.Now()
			_, err := a.Authenticate(ctx, email, "a wrong password")
			if d := time.Since(start); d < best {
				best = d
			}
			if !errors.Is(err, core.ErrInvalidCredentials) {
				t.Fatalf("Authenticate(%s): %v", email, err)
			}
		}
		return best
	}
	a.v.hashes.Store(0)
	known := timeIt("erin@example.com")
	if n := a.v.hashes.Swap(0); n != 5 {
		t.Fatalf("wrong password: %d hashes for 5 logins", n)
	}
	unknown := timeIt("nobody@example.com")
	if n := a.v.hashes.Swap(0); n != 5 {
		t.Fatalf("unknown user: %d hashes for 5 logins", n)
	}
	// The count above is the proof; the times are a coarse second opinion
	// (best of five, a wide margin: machines running tests are noisy).
	if unknown < known/4 {
		t.Fatalf("unknown user took %v, a real verification %v: the dummy hash is missing", unknown, known)
	}
}

func TestAuthenticateBadStoredHash(t *testing.T) {
	a, users := newTestAuthenticator(t, Options{})
	ctx := context.Background()
	for i, bad := range []string{
		"",
		"$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Q2hhbmdlIG1lLCBJIGFtIGEgMzItYnl0ZSBrZXkhIQ",
		"$argon2id$v=19$m=4294967295,t=4294967295,p=255$c29tZXNhbHRzb21lc2FsdA$Q2hhbmdlIG1lLCBJIGFtIGEgMzItYnl0ZSBrZXkhIQ",
	} {
		u := store.User{ID: string(rune('a' + i)), Email: string(rune('a'+i)) + "@example.com", PasswordHash: bad}
		if err := users.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		a.v.hashes.Store(0)
		start := time.Now()
		_, err := a.Authenticate(ctx, u.Email, "whatever")
		wantReason(t, err, core.ErrInvalidCredentials, "bad_hash")
		if a.v.hashes.Load() != 1 {
			t.Fatal("bad stored hash: the dummy verification did not run")
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("bad stored hash took %v", d)
		}
		if strings.Contains(err.Error(), "c29tZXNhbHR") {
			t.Fatal("error text contains the stored hash")
		}
	}
}

func TestAuthenticateRehashesWhenParamsRaised(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	old, err := Hash("upgrade me", DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	if err := mem.CreateUser(ctx, store.User{ID: "u1", Email: "frank@example.com", PasswordHash: old, Roles: []string{"r"}}); err != nil {
		t.Fatal(err)
	}
	raised := DefaultParams
	raised.Memory = 2 * DefaultParams.Memory
	a, err := NewAuthenticator(mem, Options{Params: raised, MaxConcurrent: 2})
	if err != nil {
		t.Fatal(err)
	}
	if a.Params() != raised {
		t.Fatalf("Params() = %+v", a.Params())
	}

	// A wrong password never rehashes.
	if _, err := a.Authenticate(ctx, "frank@example.com", "Upgrade me"); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Fatal(err)
	}
	if u, _ := mem.UserByID(ctx, "u1"); u.PasswordHash != old {
		t.Fatal("hash changed after a failed login")
	}

	a.v.hashes.Store(0)
	if _, err := a.Authenticate(ctx, "frank@example.com", "upgrade me"); err != nil {
		t.Fatal(err)
	}
	if n := a.v.hashes.Load(); n != 2 {
		t.Fatalf("%d hashes, want verify + rehash", n)
	}
	u, _ := mem.UserByID(ctx, "u1")
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=38912,t=2,p=1$") {
		t.Fatalf("stored hash was not upgraded: %q", u.PasswordHash[:40])
	}
	if len(u.Roles) != 1 || u.Roles[0] != "r" || u.Email != "frank@example.com" {
		t.Fatalf("rehash changed other fields: %+v", u)
	}

	// The upgraded hash verifies and is not rehashed again.
	a.v.hashes.Store(0)
	if _, err := a.Authenticate(ctx, "frank@example.com", "upgrade me"); err != nil {
		t.Fatal(err)
	}
	if n := a.v.hashes.Load(); n != 1 {
		t.Fatalf("%d hashes after the upgrade, want 1", n)
	}
}

func TestPasswordSemaphoreBoundsConcurrency(t *testing.T) {
	a, _ := newTestAuthenticator(t, Options{MaxConcurrent: 1})
	const n = 8
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			_, errs[i] = a.Authenticate(context.Background(), "nobody@example.com", "pw")
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	for _, err := range errs {
		wantReason(t, err, core.ErrInvalidCredentials, "unknown_user")
	}
	if got := a.v.hashes.Load(); got != n {
		t.Fatalf("%d hashes, want %d", got, n)
	}
	if got := a.v.maxInFlight.Load(); got != 1 {
		t.Fatalf("%d hashes ran at once with MaxConcurrent=1", got)
	}
	if got := a.v.inFlight.Load(); got != 0 {
		t.Fatalf("in-flight gauge is %d after all returned", got)
	}
}

func TestPasswordSemaphoreRespectsContext(t *testing.T) {
	a, _ := newTestAuthenticator(t, Options{MaxConcurrent: 1})
	a.v.sem <- struct{}{} // occupy the only slot
	defer func() { <-a.v.sem }()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := a.Authenticate(ctx, "nobody@example.com", "pw")
	wantReason(t, err, core.ErrUnavailable, "hash_busy")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v does not carry the context error", err)
	}

	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel2() }()
	_, err = a.CreateUser(ctx2, "gina@example.com", "pw", nil)
	wantReason(t, err, core.ErrUnavailable, "hash_busy")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v does not carry context.Canceled", err)
	}
	if a.v.hashes.Load() != 0 {
		t.Fatal("a hash ran without a slot")
	}
}

// hungUsers is a user store that never answers and honours deadlines.
type hungUsers struct{ store.Users }

func (hungUsers) UserByEmail(ctx context.Context, _ string) (store.User, error) {
	<-ctx.Done()
	return store.User{}, ctx.Err()
}

func (hungUsers) UserByID(ctx context.Context, _ string) (store.User, error) {
	<-ctx.Done()
	return store.User{}, ctx.Err()
}

// A user store that hangs costs Authenticate and Lookup StoreTimeout, then
// core.ErrUnavailable (503), never a refusal of the credentials; a negative
// StoreTimeout is a configuration error.
func TestStoreTimeout(t *testing.T) {
	const bound = 100 * time.Millisecond
	a, err := NewAuthenticator(hungUsers{}, Options{StoreTimeout: bound})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // without the bound: 5s
	defer cancel()
	for name, op := range map[string]func() error{
		"authenticate": func() error { _, err := a.Authenticate(ctx, "user@example.com", "pw"); return err },
		"lookup":       func() error { _, err := a.Lookup(ctx, "someone"); return err },
	} {
		start := time.Now()
		err := op()
		if took := time.Since(start); !errors.Is(err, core.ErrUnavailable) || took > bound+time.Second {
			t.Errorf("%s over a hung store: %v after %v, want ErrUnavailable after about %v", name, err, took, bound)
		}
	}
	if _, err := NewAuthenticator(hungUsers{}, Options{StoreTimeout: -time.Second}); !errors.Is(err, core.ErrConfig) {
		t.Errorf("negative StoreTimeout: %v, want ErrConfig", err)
	}
}
