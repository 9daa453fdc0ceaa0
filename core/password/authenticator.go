package password

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/store"
)

// validNewEmail checks a normalised e-mail address for CreateUser.
func validNewEmail(e string) bool {
	return e != "" && len(e) <= core.MaxEmailBytes && strings.Contains(e, "@")
}

// Options configure an Authenticator or a Verifier.
type Options struct {
	// Params are the Argon2id parameters for new hashes (default
	// DefaultParams; weaker than it is refused). Stored hashes with
	// lower parameters, and bcrypt hashes, are rehashed on the next
	// successful login.
	Params Params
	// MaxConcurrent bounds concurrent hash computations, Argon2id and bcrypt
	// alike (default GOMAXPROCS).
	MaxConcurrent int
	// StoreTimeout bounds each call of the Authenticator to its user store
	// (default 2s, as core.Config.StoreTimeout, which bounds the core's own
	// store calls but not Authenticate: the hashing is not a store's), so a
	// hung store answers a login with 503 within about that. Hashing is not
	// counted.
	StoreTimeout time.Duration
	// MeterProvider, when set, receives the authguard.password.hash.duration
	// histogram: the time of every Argon2id or bcrypt computation (attribute
	// algorithm), not counting the wait for a slot. Default: none; pass
	// otel.GetMeterProvider() for the global provider.
	MeterProvider metric.MeterProvider
}

// Authenticator checks e-mail and password against a store.Users.
//
// Its hashing is a Verifier's: every Argon2id or bcrypt computation it
// performs (verification, the dummy verification for unknown users,
// rehashing, CreateUser and SetPassword) holds one slot of a semaphore of
// MaxConcurrent slots, so memory stays bounded at about MaxConcurrent times
// Params.Memory. Waiting for a slot respects the context.
type Authenticator struct {
	users store.Users
	v     *Verifier
}

var (
	_ core.Authenticator  = (*Authenticator)(nil)
	_ core.PasswordSetter = (*Authenticator)(nil)
)

// NewAuthenticator returns an Authenticator over users.
//
// Zero fields of o.Params take the defaults; parameters weaker than
// DefaultParams, a nil users or a negative MaxConcurrent give an error
// wrapping core.ErrConfig. It computes one hash (the dummy used for unknown
// users) and so takes as long as one login.
func NewAuthenticator(users store.Users, o Options) (*Authenticator, error) {
	if users == nil {
		return nil, fmt.Errorf("%w: password authenticator needs a user store", core.ErrConfig)
	}
	if o.StoreTimeout < 0 {
		return nil, fmt.Errorf("%w: password authenticator: negative StoreTimeout %v", core.ErrConfig, o.StoreTimeout)
	}
	if o.StoreTimeout == 0 {
		o.StoreTimeout = 2 * time.Second
	}
	v, err := NewVerifier(o)
	if err != nil {
		return nil, err
	}
	return &Authenticator{users: boundedUsers{users, o.StoreTimeout}, v: v}, nil
}

// boundedUsers applies a per-call timeout to a store.Users.
type boundedUsers struct {
	u store.Users
	d time.Duration
}

func (b boundedUsers) CreateUser(ctx context.Context, u store.User) error {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	defer cancel()
	return b.u.CreateUser(ctx, u)
}

func (b boundedUsers) UserByEmail(ctx context.Context, email string) (store.User, error) {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	defer cancel()
	return b.u.UserByEmail(ctx, email)
}

func (b boundedUsers) UserByID(ctx context.Context, id string) (store.User, error) {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	defer cancel()
	return b.u.UserByID(ctx, id)
}

func (b boundedUsers) UpdateUser(ctx context.Context, u store.User) error {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	defer cancel()
	return b.u.UpdateUser(ctx, u)
}

func (b boundedUsers) UpdatePasswordHash(ctx context.Context, id, oldHash, newHash string) error {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	defer cancel()
	return b.u.UpdatePasswordHash(ctx, id, oldHash, newHash)
}

// Params returns the effective Argon2id parameters for new hashes.
func (a *Authenticator) Params() Params { return a.v.params }

// fail is Verifier.fail with the empty Identity of an unknown account.
func (a *Authenticator) fail(ctx context.Context, password, reason string, cause error) (core.Identity, error) {
	return core.Identity{}, a.v.fail(ctx, password, reason, cause)
}

// Authenticate implements core.Authenticator. When the account exists but
// may not log in (wrong password, disabled, locked) the returned Identity
// carries only its Subject, for the audit log; it grants nothing.
//
// Credentials the core refuses (core.CheckCredentialLengths: a password
// longer than core.MaxPasswordBytes, an e-mail address longer than
// core.MaxEmailBytes) give core.ErrInvalidRequest before any store access or
// hashing. Otherwise exactly one verification runs whatever the outcome:
// against the dummy Argon2id hash for an unknown e-mail (or a stored hash
// that parses neither as a PHC string nor as a bcrypt hash), against the
// stored hash otherwise (Argon2id or bcrypt; see Verifier.Verify), also for
// disabled and locked accounts. Failures wrap core.ErrInvalidCredentials
// with Reason "unknown_user", "wrong_password", "disabled", "locked" or
// "bad_hash"; the account state is checked after the verification and takes
// precedence over the password result (disabled before locked). A password
// longer than MaxBcryptPasswordBytes never matches a bcrypt hash
// ("wrong_password"). A store failure gives core.ErrUnavailable with Reason
// "user_store", and a context that ends while waiting for a hashing slot
// core.ErrUnavailable with Reason "hash_busy".
//
// After a successful verification of a bcrypt hash, or of an Argon2id hash
// whose parameters are below the configured ones, the password is rehashed
// and written back with store.Users.UpdatePasswordHash, which writes only the
// hash and only while the stored hash is still the one verified: a password
// change, role change or disable committed meanwhile is never undone. That
// upgrade is best effort: when it cannot run, loses that race or its write
// fails the login still succeeds and the next one tries again (there is no
// logger here).
func (a *Authenticator) Authenticate(ctx context.Context, email, password string) (core.Identity, error) {
	if err := core.CheckCredentialLengths(email, password); err != nil {
		return core.Identity{}, err
	}
	email = core.NormalizeEmail(email)
	u, err := a.users.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return a.fail(ctx, password, "unknown_user", nil)
	}
	if err != nil {
		return core.Identity{}, newError(core.ErrUnavailable, "user_store", err)
	}
	h, perr := parseStored(u.PasswordHash)
	if perr != nil {
		return a.fail(ctx, password, "bad_hash", perr)
	}
	ok, err := a.v.verify(ctx, h, password)
	if err != nil {
		return core.Identity{}, err
	}
	switch {
	case u.Disabled:
		return core.Identity{Subject: u.ID}, newError(core.ErrInvalidCredentials, "disabled", nil)
	case u.Locked:
		return core.Identity{Subject: u.ID}, newError(core.ErrInvalidCredentials, "locked", nil)
	case !ok:
		return core.Identity{Subject: u.ID}, newError(core.ErrInvalidCredentials, "wrong_password", nil)
	}
	if h.weakerThan(a.v.params) {
		a.rehash(ctx, u.ID, u.PasswordHash, password)
	}
	return core.Identity{Subject: u.ID, Roles: copyRoles(u.Roles)}, nil
}

// rehash replaces the stored hash verified, old, by a hash of password at the
// configured parameters, best effort. The write is a compare-and-swap on the
// hash alone, so it changes nothing but the hash, and nothing at all when the
// hash changed since it was read (store.ErrStale).
func (a *Authenticator) rehash(ctx context.Context, id, old, password string) {
	enc, err := a.v.Hash(ctx, password)
	if err != nil {
		return
	}
	_ = a.users.UpdatePasswordHash(ctx, id, old, enc) // best effort: retried at the next login
}

// Lookup implements core.Authenticator.
//
// An unknown subject gives core.ErrInvalidCredentials with Reason
// "unknown_user", a disabled or locked account "disabled" or "locked"; a
// store failure gives core.ErrUnavailable with Reason "user_store".
func (a *Authenticator) Lookup(ctx context.Context, subject string) (core.Identity, error) {
	if subject == "" {
		return core.Identity{}, newError(core.ErrInvalidCredentials, "unknown_user", nil)
	}
	u, err := a.users.UserByID(ctx, subject)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return core.Identity{}, newError(core.ErrInvalidCredentials, "unknown_user", nil)
	case err != nil:
		return core.Identity{}, newError(core.ErrUnavailable, "user_store", err)
	case u.Disabled:
		return core.Identity{Subject: u.ID}, newError(core.ErrInvalidCredentials, "disabled", nil)
	case u.Locked:
		return core.Identity{Subject: u.ID}, newError(core.ErrInvalidCredentials, "locked", nil)
	}
	return core.Identity{Subject: u.ID, Roles: copyRoles(u.Roles)}, nil
}

// CreateUser hashes password and stores a new user with a random id.
//
// The e-mail address is normalised (core.NormalizeEmail) and must be
// non-empty, contain '@' and be at most core.MaxEmailBytes long; the password
// must be non-empty and at most core.MaxPasswordBytes long. Invalid input
// gives core.ErrInvalidRequest (Reason "invalid_email", "password_empty" or
// "password_too_long") without hashing. The id is random (crypto/rand.Text:
// 26 base32 characters), CreatedAt the current UTC time, and roles are
// copied. A duplicate e-mail gives an error wrapping both
// core.ErrInvalidRequest and store.ErrConflict (Reason "conflict"); other
// store failures core.ErrUnavailable.
func (a *Authenticator) CreateUser(ctx context.Context, email, password string, roles []string) (store.User, error) {
	email = core.NormalizeEmail(email)
	if !validNewEmail(email) {
		return store.User{}, newError(core.ErrInvalidRequest, "invalid_email", nil)
	}
	enc, err := a.v.Hash(ctx, password)
	if err != nil {
		return store.User{}, err
	}
	u := store.User{
		ID:           rand.Text(),
		Email:        email,
		PasswordHash: enc,
		Roles:        copyRoles(roles),
		CreatedAt:    time.Now().UTC(),
	}
	if err := a.users.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return store.User{}, newError(core.ErrInvalidRequest, "conflict", err)
		}
		return store.User{}, newError(core.ErrUnavailable, "user_store", err)
	}
	u.Roles = copyRoles(roles)
	return u, nil
}

// SetPassword implements core.PasswordSetter: it replaces a user's password.
//
// The password rules are those of CreateUser (core.ErrInvalidRequest, checked
// before hashing). An unknown subject gives an error wrapping core.ErrNotFound
// and store.ErrNotFound (Reason "unknown_user"); a store failure
// core.ErrUnavailable. Disabled and locked accounts may have their password
// set. Existing sessions are not revoked here: that is the caller's decision
// (core.Service.ChangePassword revokes them).
//
// Only the hash is written, with store.Users.UpdatePasswordHash over the hash
// just read, so a concurrent change of roles or flags is kept. When the hash
// moved meanwhile (a concurrent rehash or password change), the hash is read
// again and the write retried, up to setPasswordTries times: the explicit
// change wins over a rehash, and the last of two explicit changes wins, as
// with a whole-record write. After that many lost races it gives
// core.ErrUnavailable wrapping store.ErrStale.
func (a *Authenticator) SetPassword(ctx context.Context, subject, password string) error {
	if err := checkNewPassword(password); err != nil {
		return err
	}
	u, err := a.users.UserByID(ctx, subject)
	if err != nil {
		return userStoreError(err)
	}
	enc, err := a.v.Hash(ctx, password)
	if err != nil {
		return err
	}
	for try := 1; ; try++ {
		err = a.users.UpdatePasswordHash(ctx, subject, u.PasswordHash, enc)
		if !errors.Is(err, store.ErrStale) || try == setPasswordTries {
			break
		}
		if u, err = a.users.UserByID(ctx, subject); err != nil {
			break
		}
	}
	if err != nil {
		return userStoreError(err)
	}
	return nil
}

// setPasswordTries bounds the compare-and-swap attempts of SetPassword.
const setPasswordTries = 5

// userStoreError maps a store failure of SetPassword to a core error.
func userStoreError(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return newError(core.ErrNotFound, "unknown_user", err)
	}
	return newError(core.ErrUnavailable, "user_store", err)
}

// copyRoles returns a copy of r that shares no memory with it.
func copyRoles(r []string) []string {
	if r == nil {
		return nil
	}
	return append([]string(nil), r...)
}
