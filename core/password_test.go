package core

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authguard/authguard/core/memstore"
	"github.com/authguard/authguard/core/store"
)

const defaultPHCPrefix = "$argon2id$v=19$m=19456,t=2,p=1$"

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

func newTestAuthenticator(t *testing.T, o PasswordOptions) (*PasswordAuthenticator, *countingUsers) {
	t.Helper()
	users := &countingUsers{Users: memstore.New()}
	a, err := NewPasswordAuthenticator(users, o)
	if err != nil {
		t.Fatalf("NewPasswordAuthenticator: %v", err)
	}
	return a, users
}

func wantReason(t *testing.T, err, kind error, reason string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error %v does not match %v", err, kind)
	}
	if got := ReasonOf(err); got != reason {
		t.Fatalf("reason = %q, want %q (error %v)", got, reason, err)
	}
}

func TestPasswordHashRoundTrip(t *testing.T) {
	const pw = "correct horse battery staple"
	enc, err := HashPassword(pw, DefaultArgon2Params)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, defaultPHCPrefix) {
		t.Fatalf("hash %q lacks prefix %q", enc, defaultPHCPrefix)
	}
	h, err := parsePHC(enc)
	if err != nil {
		t.Fatalf("parsePHC(own output): %v", err)
	}
	if h.params != DefaultArgon2Params || len(h.salt) != 16 || len(h.key) != 32 {
		t.Fatalf("parsed params %+v, salt %d, key %d", h.params, len(h.salt), len(h.key))
	}
	if h.String() != enc {
		t.Fatalf("re-encoding differs: %q vs %q", h.String(), enc)
	}
	if !h.verify(pw) {
		t.Fatal("correct password does not verify")
	}
	if h.verify(pw + " ") {
		t.Fatal("wrong password verifies")
	}
	enc2, err := HashPassword(pw, Argon2Params{}) // zero params: the defaults
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc2, defaultPHCPrefix) || enc2 == enc {
		t.Fatalf("second hash %q: want default params and a fresh salt", enc2)
	}
}

func TestPasswordUnicodeAndLongPasswords(t *testing.T) {
	// 85 code points: Latin with diacritics, CJK, Cyrillic, emoji, a
	// combining mark and a NUL.
	uni := strings.Repeat("Pä密п🔑e\u0301", 12) + "\x00"
	if n := len([]rune(uni)); n < 64 {
		t.Fatalf("test password has only %d characters", n)
	}
	long := strings.Repeat("ab€", MaxPasswordBytes/5) // 5 bytes per repeat
	long += strings.Repeat("z", MaxPasswordBytes-len(long))
	if len(long) != MaxPasswordBytes {
		t.Fatalf("long password is %d bytes", len(long))
	}
	for _, tc := range []struct {
		name, pw string
		wrong    []string
	}{
		{"unicode", uni, []string{strings.ToLower(uni), strings.ToUpper(uni), uni[:len(uni)-1]}},
		{"1024 bytes", long, []string{long[:MaxPasswordBytes-1]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := HashPassword(tc.pw, DefaultArgon2Params)
			if err != nil {
				t.Fatal(err)
			}
			h, err := parsePHC(enc)
			if err != nil {
				t.Fatal(err)
			}
			if !h.verify(tc.pw) {
				t.Fatal("password does not verify")
			}
			for _, w := range tc.wrong {
				if w == tc.pw {
					continue
				}
				if h.verify(w) {
					t.Fatalf("a case-folded or truncated variant verifies (len %d)", len(w))
				}
			}
		})
	}
}

func TestPasswordTooLongRefusedBeforeHashing(t *testing.T) {
	tooLong := strings.Repeat("x", MaxPasswordBytes+1)

	// HashPassword: the refusal must take far less than one hash.
	best := time.Hour
	for range 3 {
		start := time.Now()
		_, err := HashPassword(tooLong, DefaultArgon2Params)
		if d := time.Since(start); d < best {
			best = d
		}
		wantReason(t, err, ErrInvalidRequest, "password_too_long")
	}
	if best > 5*time.Millisecond {
		t.Fatalf("refusing an over-long password took %v: was it hashed?", best)
	}

	a, users := newTestAuthenticator(t, PasswordOptions{})
	ctx := context.Background()
	_, err := a.Authenticate(ctx, "someone@example.com", tooLong)
	wantReason(t, err, ErrInvalidRequest, "password_too_long")
	if !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("error %v, want invalid_request", err)
	}
	_, err = a.CreateUser(ctx, "someone@example.com", tooLong, nil)
	wantReason(t, err, ErrInvalidRequest, "password_too_long")
	err = a.SetPassword(ctx, "some-id", tooLong)
	wantReason(t, err, ErrInvalidRequest, "password_too_long")
	if n := a.hashes.Load(); n != 0 {
		t.Fatalf("%d hashes computed for over-long passwords", n)
	}
	if n := users.calls.Load(); n != 0 {
		t.Fatalf("%d store calls for over-long passwords", n)
	}
}

func TestPHCParse(t *testing.T) {
	const salt = "c29tZXNhbHRzb21lc2FsdA"                    // 16 bytes
	const key = "Q2hhbmdlIG1lLCBJIGFtIGEgMzItYnl0ZSBrZXkhIQ" // 31 bytes
	valid := "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key
	cases := []struct {
		name string
		in   string
		ok   bool
	}{
		{"valid", valid, true},
		{"valid other params", "$argon2id$v=19$m=65536,t=3,p=4$" + salt + "$" + key, true},
		{"valid weak but in bounds", "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$" + key, true},
		{"argon2i", "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key, false},
		{"argon2d", "$argon2d$v=19$m=19456,t=2,p=1$" + salt + "$" + key, false},
		{"bcrypt", "$2b$12$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyzABCD", false},
		{"upper-case variant", "$ARGON2ID$v=19$m=19456,t=2,p=1$" + salt + "$" + key, false},
		{"version 16", "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key, false},
		{"version missing", "$argon2id$m=19456,t=2,p=1$" + salt + "$" + key, false},
		{"version leading zero", "$argon2id$v=019$m=19456,t=2,p=1$" + salt + "$" + key, false},
		{"empty", "", false},
		{"dollar only", "$", false},
		{"missing hash", "$argon2id$v=19$m=19456,t=2,p=1$" + salt, false},
		{"empty hash", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$", false},
		{"empty salt", "$argon2id$v=19$m=19456,t=2,p=1$$" + key, false},
		{"missing params", "$argon2id$v=19$" + salt + "$" + key, false},
		{"missing p", "$argon2id$v=19$m=19456,t=2$" + salt + "$" + key, false},
		{"params reordered", "$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key, false},
		{"extra param", "$argon2id$v=19$m=19456,t=2,p=1,keyid=abc$" + salt + "$" + key, false},
		{"space in params", "$argon2id$v=19$m=19456, t=2,p=1$" + salt + "$" + key, false},
		{"leading zero", "$argon2id$v=19$m=019456,t=2,p=1$" + salt + "$" + key, false},
		{"negative", "$argon2id$v=19$m=-19456,t=2,p=1$" + salt + "$" + key, false},
		{"plus sign", "$argon2id$v=19$m=+19456,t=2,p=1$" + salt + "$" + key, false},
		{"empty value", "$argon2id$v=19$m=,t=2,p=1$" + salt + "$" + key, false},
		{"huge m", "$argon2id$v=19$m=4294967295,t=2,p=1$" + salt + "$" + key, false},
		{"m over uint32", "$argon2id$v=19$m=99999999999,t=2,p=1$" + salt + "$" + key, false},
		{"m above bound", "$argon2id$v=19$m=262145,t=1,p=1$" + salt + "$" + key, false},
		{"work above bound", "$argon2id$v=19$m=262144,t=9,p=1$" + salt + "$" + key, false},
		{"huge t", "$argon2id$v=19$m=19456,t=1000000,p=1$" + salt + "$" + key, false},
		{"t zero", "$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key, false},
		{"p zero", "$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key, false},
		{"huge p", "$argon2id$v=19$m=19456,t=2,p=255$" + salt + "$" + key, false},
		{"p over uint8", "$argon2id$v=19$m=19456,t=2,p=257$" + salt + "$" + key, false},
		{"m below 8p", "$argon2id$v=19$m=8,t=2,p=2$" + salt + "$" + key, false},
		{"bad base64 salt", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXN!bHRzb21lc2FsdA$" + key, false},
		{"url base64", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXN_bHRzb21lc2FsdA$" + key, false},
		{"padded salt", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key, false},
		{"newline in salt", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNh\nbHRzb21lc2FsdA$" + key, false},
		{"non-canonical trailing bits", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdB$" + key, false},
		{"impossible base64 length", "$argon2id$v=19$m=19456,t=2,p=1$" + salt[:21] + "$" + key, false},
		{"salt too short", "$argon2id$v=19$m=19456,t=2,p=1$c29tZQ$" + key, false},
		{"salt too long", "$argon2id$v=19$m=19456,t=2,p=1$" + strings.Repeat("A", 88) + "$" + key, false},
		{"key too short", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$c2hvcnQ", false},
		{"key too long", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + strings.Repeat("A", 88), false},
		{"trailing field", valid + "$extra", false},
		{"trailing dollar", valid + "$", false},
		{"trailing space", valid + " ", false},
		{"leading space", " " + valid, false},
		{"no leading dollar", valid[1:], false},
		{"very long", valid + strings.Repeat("A", 1<<20), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := parsePHC(tc.in)
			if tc.ok {
				if err != nil {
					t.Fatalf("parsePHC: %v", err)
				}
				if h.String() != tc.in {
					t.Fatalf("re-encoding %q differs from %q", h.String(), tc.in)
				}
				return
			}
			if err == nil {
				t.Fatalf("parsePHC accepted %q", tc.in)
			}
			if !errors.Is(err, errPHC) {
				t.Fatalf("error %v does not wrap errPHC", err)
			}
			if len(tc.in) > 8 && strings.Contains(err.Error(), tc.in) {
				t.Fatal("parse error quotes the input")
			}
		})
	}
}

func TestArgon2ParamsValidation(t *testing.T) {
	d := DefaultArgon2Params
	with := func(f func(*Argon2Params)) Argon2Params { p := d; f(&p); return p }
	for _, tc := range []struct {
		name string
		p    Argon2Params
		ok   bool
		want Argon2Params
	}{
		{"defaults", d, true, d},
		{"zero means defaults", Argon2Params{}, true, d},
		{"partial fills defaults", Argon2Params{Memory: 65536}, true, with(func(p *Argon2Params) { p.Memory = 65536 })},
		{"46 MiB t=1 row", Argon2Params{Memory: 47104, Time: 1}, true, with(func(p *Argon2Params) { p.Memory, p.Time = 47104, 1 })},
		{"7 MiB t=5 row", Argon2Params{Memory: 7168, Time: 5}, true, with(func(p *Argon2Params) { p.Memory, p.Time = 7168, 5 })},
		{"memory one below", with(func(p *Argon2Params) { p.Memory-- }), false, Argon2Params{}},
		{"t=1 at 19 MiB", with(func(p *Argon2Params) { p.Time = 1 }), false, Argon2Params{}},
		{"7 MiB t=4", Argon2Params{Memory: 7168, Time: 4}, false, Argon2Params{}},
		{"short salt", with(func(p *Argon2Params) { p.SaltLen = 8 }), false, Argon2Params{}},
		{"short key", with(func(p *Argon2Params) { p.KeyLen = 16 }), false, Argon2Params{}},
		{"memory above bound", with(func(p *Argon2Params) { p.Memory = MaxArgon2Memory + 1 }), false, Argon2Params{}},
		{"huge memory", with(func(p *Argon2Params) { p.Memory = 1 << 31 }), false, Argon2Params{}},
		{"time above bound", with(func(p *Argon2Params) { p.Time = MaxArgon2Time + 1 }), false, Argon2Params{}},
		{"threads above bound", with(func(p *Argon2Params) { p.Threads = MaxArgon2Threads + 1 }), false, Argon2Params{}},
		{"key above bound", with(func(p *Argon2Params) { p.KeyLen = MaxArgon2KeyLen + 1 }), false, Argon2Params{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := validateParams(tc.p)
			if !tc.ok {
				if !errors.Is(err, ErrConfig) {
					t.Fatalf("validateParams(%+v) = %+v, %v; want ErrConfig", tc.p, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("validateParams(%+v) = %+v, %v; want %+v", tc.p, got, err, tc.want)
			}
		})
	}

	// Refused before any hashing, by HashPassword and by the constructor.
	weak := with(func(p *Argon2Params) { p.Time = 1 })
	if _, err := HashPassword("pw", weak); !errors.Is(err, ErrConfig) {
		t.Fatalf("HashPassword with weak params: %v", err)
	}
	if _, err := NewPasswordAuthenticator(memstore.New(), PasswordOptions{Params: weak}); !errors.Is(err, ErrConfig) {
		t.Fatalf("NewPasswordAuthenticator with weak params: %v", err)
	}
	if _, err := NewPasswordAuthenticator(memstore.New(), PasswordOptions{MaxConcurrent: -1}); !errors.Is(err, ErrConfig) {
		t.Fatalf("NewPasswordAuthenticator with MaxConcurrent -1: %v", err)
	}
	if _, err := NewPasswordAuthenticator(nil, PasswordOptions{}); !errors.Is(err, ErrConfig) {
		t.Fatalf("NewPasswordAuthenticator without store: %v", err)
	}
}

func TestAuthenticatePasswordFlow(t *testing.T) {
	a, users := newTestAuthenticator(t, PasswordOptions{})
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
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(u.ID) {
		t.Fatalf("id %q is not a UUIDv4", u.ID)
	}
	if u.CreatedAt.Location() != time.UTC || time.Since(u.CreatedAt) > time.Minute {
		t.Fatalf("CreatedAt %v", u.CreatedAt)
	}
	if !strings.HasPrefix(u.PasswordHash, defaultPHCPrefix) {
		t.Fatalf("stored hash has prefix %q", u.PasswordHash[:len(defaultPHCPrefix)])
	}

	a.hashes.Store(0)
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
	wantReason(t, errWrong, ErrInvalidCredentials, "wrong_password")
	_, errUnknown := a.Authenticate(ctx, "bob@example.com", "s3cret pässword")
	wantReason(t, errUnknown, ErrInvalidCredentials, "unknown_user")
	_, errHuge := a.Authenticate(ctx, strings.Repeat("a", 300)+"@example.com", "x")
	wantReason(t, errHuge, ErrInvalidCredentials, "unknown_user")
	if !errors.Is(errWrong, ErrInvalidCredentials) || !errors.Is(errUnknown, ErrInvalidCredentials) {
		t.Fatalf("kinds differ: %v vs %v", errWrong, errUnknown)
	}
	if n := a.hashes.Load(); n != 4 {
		t.Fatalf("%d hashes for 4 logins, want exactly one each", n)
	}
	_, err = a.Lookup(ctx, "no-such-id")
	wantReason(t, err, ErrInvalidCredentials, "unknown_user")
	_, err = a.Lookup(ctx, "")
	wantReason(t, err, ErrInvalidCredentials, "unknown_user")

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
		before := a.hashes.Load()
		_, err := a.Authenticate(ctx, "alice@example.com", "s3cret pässword")
		wantReason(t, err, ErrInvalidCredentials, tc.reason)
		if a.hashes.Load() != before+1 {
			t.Fatalf("%s account: no hash verification ran", tc.reason)
		}
		if !errors.Is(err, ErrInvalidCredentials) || !errors.Is(errUnknown, ErrInvalidCredentials) {
			t.Fatalf("%s account: error %v differs from unknown user", tc.reason, err)
		}
		_, err = a.Lookup(ctx, u.ID)
		wantReason(t, err, ErrInvalidCredentials, tc.reason)
	}
}

func TestPasswordCreateUserAndSetPassword(t *testing.T) {
	a, users := newTestAuthenticator(t, PasswordOptions{})
	ctx := context.Background()
	for _, tc := range []struct{ email, pw, reason string }{
		{"", "pw", "invalid_email"},
		{"   ", "pw", "invalid_email"},
		{"no-at-sign", "pw", "invalid_email"},
		{strings.Repeat("a", 243) + "@example.com", "pw", "invalid_email"}, // 255 bytes
		{"carol@example.com", "", "password_empty"},
	} {
		_, err := a.CreateUser(ctx, tc.email, tc.pw, nil)
		wantReason(t, err, ErrInvalidRequest, tc.reason)
	}
	if n := a.hashes.Load(); n != 0 {
		t.Fatalf("%d hashes for invalid input", n)
	}

	u, err := a.CreateUser(ctx, "carol@example.com", "first password", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.CreateUser(ctx, " CAROL@example.com", "other password", []string{"x"})
	if !errors.Is(err, store.ErrConflict) || !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("duplicate e-mail: %v", err)
	}

	if err := a.SetPassword(ctx, u.ID, "second password"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, "carol@example.com", "first password"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("old password after SetPassword: %v", err)
	}
	if id, err := a.Authenticate(ctx, "carol@example.com", "second password"); err != nil || id.Subject != u.ID {
		t.Fatalf("new password after SetPassword: %+v, %v", id, err)
	}
	err = a.SetPassword(ctx, "no-such-id", "pw")
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetPassword unknown subject: %v", err)
	}
	wantReason(t, a.SetPassword(ctx, u.ID, ""), ErrInvalidRequest, "password_empty")

	// Store failures are availability errors, never credential errors.
	down := errors.New("connection refused")
	users.fail = down
	for name, err := range map[string]error{
		"Authenticate": func() error { _, err := a.Authenticate(ctx, "carol@example.com", "pw"); return err }(),
		"Lookup":       func() error { _, err := a.Lookup(ctx, u.ID); return err }(),
		"CreateUser":   func() error { _, err := a.CreateUser(ctx, "dave@example.com", "pw", nil); return err }(),
		"SetPassword":  a.SetPassword(ctx, u.ID, "pw"),
	} {
		wantReason(t, err, ErrUnavailable, "user_store")
		if !errors.Is(err, down) || errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func TestAuthenticateUnknownUserCostsOneHash(t *testing.T) {
	a, _ := newTestAuthenticator(t, PasswordOptions{})
	ctx := context.Background()
	if _, err := a.CreateUser(ctx, "erin@example.com", "the password", nil); err != nil {
		t.Fatal(err)
	}
	timeIt := func(email string) time.Duration {
		best := time.Hour
		for range 3 {
			start := time.Now()
			_, err := a.Authenticate(ctx, email, "a wrong password")
			if d := time.Since(start); d < best {
				best = d
			}
			if !errors.Is(err, ErrInvalidCredentials) {
				t.Fatalf("Authenticate(%s): %v", email, err)
			}
		}
		return best
	}
	a.hashes.Store(0)
	known := timeIt("erin@example.com")
	if n := a.hashes.Swap(0); n != 3 {
		t.Fatalf("wrong password: %d hashes for 3 logins", n)
	}
	unknown := timeIt("nobody@example.com")
	if n := a.hashes.Swap(0); n != 3 {
		t.Fatalf("unknown user: %d hashes for 3 logins", n)
	}
	if unknown < known/2 {
		t.Fatalf("unknown user took %v, a real verification %v: the dummy hash is missing", unknown, known)
	}
}

func TestAuthenticateBadStoredHash(t *testing.T) {
	a, users := newTestAuthenticator(t, PasswordOptions{})
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
		a.hashes.Store(0)
		start := time.Now()
		_, err := a.Authenticate(ctx, u.Email, "whatever")
		wantReason(t, err, ErrInvalidCredentials, "bad_hash")
		if a.hashes.Load() != 1 {
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
	old, err := HashPassword("upgrade me", DefaultArgon2Params)
	if err != nil {
		t.Fatal(err)
	}
	if err := mem.CreateUser(ctx, store.User{ID: "u1", Email: "frank@example.com", PasswordHash: old, Roles: []string{"r"}}); err != nil {
		t.Fatal(err)
	}
	raised := DefaultArgon2Params
	raised.Memory = 2 * DefaultArgon2Params.Memory
	a, err := NewPasswordAuthenticator(mem, PasswordOptions{Params: raised, MaxConcurrent: 2})
	if err != nil {
		t.Fatal(err)
	}
	if a.Params() != raised {
		t.Fatalf("Params() = %+v", a.Params())
	}

	// A wrong password never rehashes.
	if _, err := a.Authenticate(ctx, "frank@example.com", "Upgrade me"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatal(err)
	}
	if u, _ := mem.UserByID(ctx, "u1"); u.PasswordHash != old {
		t.Fatal("hash changed after a failed login")
	}

	a.hashes.Store(0)
	if _, err := a.Authenticate(ctx, "frank@example.com", "upgrade me"); err != nil {
		t.Fatal(err)
	}
	if n := a.hashes.Load(); n != 2 {
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
	a.hashes.Store(0)
	if _, err := a.Authenticate(ctx, "frank@example.com", "upgrade me"); err != nil {
		t.Fatal(err)
	}
	if n := a.hashes.Load(); n != 1 {
		t.Fatalf("%d hashes after the upgrade, want 1", n)
	}
}

func TestPasswordSemaphoreBoundsConcurrency(t *testing.T) {
	a, _ := newTestAuthenticator(t, PasswordOptions{MaxConcurrent: 1})
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
		wantReason(t, err, ErrInvalidCredentials, "unknown_user")
	}
	if got := a.hashes.Load(); got != n {
		t.Fatalf("%d hashes, want %d", got, n)
	}
	if got := a.maxInFlight.Load(); got != 1 {
		t.Fatalf("%d hashes ran at once with MaxConcurrent=1", got)
	}
	if got := a.inFlight.Load(); got != 0 {
		t.Fatalf("in-flight gauge is %d after all returned", got)
	}
}

func TestPasswordSemaphoreRespectsContext(t *testing.T) {
	a, _ := newTestAuthenticator(t, PasswordOptions{MaxConcurrent: 1})
	a.sem <- struct{}{} // occupy the only slot
	defer func() { <-a.sem }()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := a.Authenticate(ctx, "nobody@example.com", "pw")
	wantReason(t, err, ErrUnavailable, "hash_busy")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v does not carry the context error", err)
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("error %v, want unavailable", err)
	}

	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel2() }()
	_, err = a.CreateUser(ctx2, "gina@example.com", "pw", nil)
	wantReason(t, err, ErrUnavailable, "hash_busy")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v does not carry context.Canceled", err)
	}
	if a.hashes.Load() != 0 {
		t.Fatal("a hash ran without a slot")
	}
}

func FuzzParsePHC(f *testing.F) {
	const salt = "c29tZXNhbHRzb21lc2FsdA"
	const key = "Q2hhbmdlIG1lLCBJIGFtIGEgMzItYnl0ZSBrZXkhIQ"
	for _, s := range []string{
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=65536,t=3,p=4$" + salt + "$" + key,
		"$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2$" + salt + "$" + key,
		"$argon2id$v=19$m=4294967295,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXN!bHRzb21lc2FsdA$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$extra",
		"$argon2id$v=19$m=019456,t=2,p=1$" + salt + "$" + key,
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parsePHC(s)
		if err != nil {
			if !errors.Is(err, errPHC) {
				t.Fatalf("error %v does not wrap errPHC", err)
			}
			return
		}
		if enc := h.String(); enc != s {
			t.Fatalf("accepted %q re-encodes as %q", s, enc)
		}
		if int(h.params.SaltLen) != len(h.salt) || int(h.params.KeyLen) != len(h.key) {
			t.Fatalf("lengths %+v do not match salt %d, key %d", h.params, len(h.salt), len(h.key))
		}
		if err := h.params.checkBounds(minStoredSaltLen, minStoredKeyLen); err != nil {
			t.Fatalf("accepted out-of-bounds params: %v", err)
		}
	})
}
