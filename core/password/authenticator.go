package password

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/store"
)

// validNewEmail checks a normalised e-mail address for CreateUser.
func validNewEmail(e string) bool {
	return e != "" && len(e) <= core.MaxEmailBytes && strings.Contains(e, "@")
}

// Options configure an Authenticator.
type Options struct {
	// Params are the Argon2id parameters for new hashes (default
	// DefaultParams; weaker than it is refused). Stored hashes with
	// lower parameters are rehashed on the next successful login.
	Params Params
	// MaxConcurrent bounds concurrent hash computations (default GOMAXPROCS).
	MaxConcurrent int
}

// Authenticator checks e-mail and password against a store.Users.
//
// Every Argon2id computation it performs (verification, the dummy
// verification for unknown users, rehashing, CreateUser and SetPassword)
// holds one slot of a semaphore of MaxConcurrent slots, so memory stays
// bounded at about MaxConcurrent times Params.Memory. Waiting for a slot
// respects the context.
type Authenticator struct {
	users  store.Users
	params Params
	sem    chan struct{}
	// dummy is verified against when the user is unknown (or its stored
	// hash unusable), so every failure costs one hash at the configured
	// parameters.
	dummy phcHash

	// Instrumentation read by the tests: number of Argon2 computations,
	// and the current and highest number running at once.
	hashes      atomic.Int64
	inFlight    atomic.Int64
	maxInFlight atomic.Int64
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
	p, err := validateParams(o.Params)
	if err != nil {
		return nil, err
	}
	n := o.MaxConcurrent
	switch {
	case n < 0:
		return nil, fmt.Errorf("%w: MaxConcurrent must not be negative", core.ErrConfig)
	case n == 0:
		n = runtime.GOMAXPROCS(0)
	}
	dummy, err := dummyHash(p)
	if err != nil {
		return nil, err
	}
	return &Authenticator{users: users, params: p, sem: make(chan struct{}, n), dummy: dummy}, nil
}

// Params returns the effective Argon2id parameters for new hashes.
func (a *Authenticator) Params() Params { return a.params }

// withSlot runs fn while holding a semaphore slot. If ctx is done before a
// slot is free, fn does not run and the error wraps core.ErrUnavailable
// (Reason "hash_busy").
func (a *Authenticator) withSlot(ctx context.Context, fn func()) error {
	if err := ctx.Err(); err != nil {
		return newError(core.ErrUnavailable, "hash_busy", err)
	}
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return newError(core.ErrUnavailable, "hash_busy", ctx.Err())
	}
	defer func() { <-a.sem }()
	a.hashes.Add(1)
	n := a.inFlight.Add(1)
	for {
		m := a.maxInFlight.Load()
		if n <= m || a.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	defer a.inFlight.Add(-1)
	fn()
	return nil
}

// verify checks password against h under the semaphore.
func (a *Authenticator) verify(ctx context.Context, h phcHash, password string) (bool, error) {
	var ok bool
	err := a.withSlot(ctx, func() { ok = h.verify(password) })
	return ok, err
}

// hash computes a new PHC string at the configured parameters under the
// semaphore. It refuses empty and over-long passwords with
// core.ErrInvalidRequest.
func (a *Authenticator) hash(ctx context.Context, password string) (string, error) {
	if err := checkNewPassword(password); err != nil {
		return "", err
	}
	var enc string
	var herr error
	if err := a.withSlot(ctx, func() { enc, herr = hashPHC(password, a.params) }); err != nil {
		return "", err
	}
	return enc, herr
}

// dummyHashes caches one dummy hash per parameter set for the process: the
// dummy is a hash of a random secret nobody knows, so authenticators with the
// same parameters can share it, and building one costs no Argon2 run after
// the first.
var dummyHashes sync.Map // Params -> phcHash

// dummyHash returns the dummy hash for p, computing it on first use.
func dummyHash(p Params) (phcHash, error) {
	if d, ok := dummyHashes.Load(p); ok {
		return d.(phcHash), nil
	}
	enc, err := hashPHC(rand.Text(), p)
	if err != nil {
		return phcHash{}, err
	}
	d, err := parsePHC(enc)
	if err != nil {
		return phcHash{}, fmt.Errorf("%w: dummy hash: %v", core.ErrConfig, err)
	}
	actual, _ := dummyHashes.LoadOrStore(p, d)
	return actual.(phcHash), nil
}

// fail verifies password against the dummy hash, so that a failure costs as
// much as a real verification, and then returns core.ErrInvalidCredentials
// with reason (or the semaphore error).
func (a *Authenticator) fail(ctx context.Context, password, reason string, cause error) (core.Identity, error) {
	if _, err := a.verify(ctx, a.dummy, password); err != nil {
		return core.Identity{}, err
	}
	return core.Identity{}, newError(core.ErrInvalidCredentials, reason, cause)
}

// Authenticate implements core.Authenticator. When the account exists but
// may not log in (wrong password, disabled, locked) the returned Identity
// carries only its Subject, for the audit log; it grants nothing.
//
// Credentials the core refuses (core.CheckCredentialLengths: a password
// longer than core.MaxPasswordBytes, an e-mail address longer than
// core.MaxEmailBytes) give core.ErrInvalidRequest before any store access or
// hashing. Otherwise exactly one Argon2id verification runs whatever the
// outcome: against the dummy hash for an unknown e-mail (or a stored hash
// that does not parse), against the stored hash otherwise, also for disabled
// and locked accounts. Failures wrap core.ErrInvalidCredentials with Reason
// "unknown_user", "wrong_password", "disabled", "locked" or "bad_hash"; the
// account state is checked after the verification and takes precedence over
// the password result (disabled before locked). A store failure gives
// core.ErrUnavailable with Reason "user_store", and a context that ends
// while waiting for a hashing slot core.ErrUnavailable with Reason
// "hash_busy".
//
// After a successful verification of a hash whose parameters are below the
// configured ones, the password is rehashed and written back. That upgrade
// is best effort: when it cannot run or its write fails the login still
// succeeds and the next one tries again (there is no logger here).
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
	h, perr := parsePHC(u.PasswordHash)
	if perr != nil {
		return a.fail(ctx, password, "bad_hash", perr)
	}
	ok, err := a.verify(ctx, h, password)
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
	if h.params.weakerThan(a.params) {
		a.rehash(ctx, u, password)
	}
	return core.Identity{Subject: u.ID, Roles: copyRoles(u.Roles)}, nil
}

// rehash upgrades u's stored hash to the configured parameters, best effort.
// It re-reads the user and writes only if the stored hash is still the one
// just verified, to narrow the race with a concurrent SetPassword or role
// change (store.Users has no compare-and-swap).
func (a *Authenticator) rehash(ctx context.Context, u store.User, password string) {
	enc, err := a.hash(ctx, password)
	if err != nil {
		return
	}
	cur, err := a.users.UserByID(ctx, u.ID)
	if err != nil || cur.PasswordHash != u.PasswordHash {
		return
	}
	cur.PasswordHash = enc
	_ = a.users.UpdateUser(ctx, cur) // best effort: retried at the next login
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
	enc, err := a.hash(ctx, password)
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
func (a *Authenticator) SetPassword(ctx context.Context, subject, password string) error {
	if err := checkNewPassword(password); err != nil {
		return err
	}
	u, err := a.users.UserByID(ctx, subject)
	if err != nil {
		return userStoreError(err)
	}
	enc, err := a.hash(ctx, password)
	if err != nil {
		return err
	}
	u.PasswordHash = enc
	if err := a.users.UpdateUser(ctx, u); err != nil {
		return userStoreError(err)
	}
	return nil
}

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
