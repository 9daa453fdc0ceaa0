package core

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/authguard/authguard/core/store"
)

// MaxPasswordBytes is the longest password accepted (1 KiB); longer ones are
// refused before hashing.
const MaxPasswordBytes = 1024

// MaxEmailBytes is the longest e-mail address CreateUser accepts (RFC 5321
// path limit). Longer addresses can never match an account.
const MaxEmailBytes = 254

// Argon2Params are Argon2id cost parameters. Memory is in KiB.
type Argon2Params struct {
	Memory  uint32
	Time    uint32
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultArgon2Params are the OWASP minimum: m=19456 KiB, t=2, p=1, a 16-byte
// salt and a 32-byte hash.
var DefaultArgon2Params = Argon2Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Upper bounds on Argon2id parameters, for configured parameters and for
// stored PHC strings alike. They keep a corrupted or hostile stored hash from
// making one verification allocate more than MaxArgon2Memory KiB or run for
// more than a few seconds.
const (
	// MaxArgon2Memory is the largest accepted memory cost: 256 MiB (in KiB).
	MaxArgon2Memory = 256 * 1024
	// MaxArgon2Time is the largest accepted number of passes.
	MaxArgon2Time = 16
	// MaxArgon2Work bounds Memory*Time (KiB-passes): 2 GiB, about 2 s of work.
	MaxArgon2Work = 2 * 1024 * 1024
	// MaxArgon2Threads is the largest accepted parallelism.
	MaxArgon2Threads = 16
	// MaxArgon2SaltLen and MaxArgon2KeyLen bound the salt and hash lengths in bytes.
	MaxArgon2SaltLen = 64
	MaxArgon2KeyLen  = 64
)

// Lower bounds on the salt and hash lengths of a stored PHC string. Stored
// hashes weaker than the configured parameters but within these bounds still
// verify, and are rehashed on the next successful login.
const (
	minStoredSaltLen = 8
	minStoredKeyLen  = 16
)

// argon2Version is the only Argon2 version accepted (0x13).
const argon2Version = argon2.Version

// owaspRows are the equal-cost Argon2id rows of the OWASP password storage
// cheat sheet (Memory KiB, Time), all with p=1. Configured parameters must
// reach at least one row in both dimensions; DefaultArgon2Params is the
// 19 MiB/t=2 row.
var owaspRows = [...]struct{ memory, time uint32 }{
	{47104, 1}, // 46 MiB
	{19456, 2}, // 19 MiB
	{12288, 3}, // 12 MiB
	{9216, 4},  // 9 MiB
	{7168, 5},  // 7 MiB
}

// withDefaults fills every zero field of p from DefaultArgon2Params.
func (p Argon2Params) withDefaults() Argon2Params {
	d := DefaultArgon2Params
	if p.Memory == 0 {
		p.Memory = d.Memory
	}
	if p.Time == 0 {
		p.Time = d.Time
	}
	if p.Threads == 0 {
		p.Threads = d.Threads
	}
	if p.SaltLen == 0 {
		p.SaltLen = d.SaltLen
	}
	if p.KeyLen == 0 {
		p.KeyLen = d.KeyLen
	}
	return p
}

// checkBounds reports whether p lies within the hard upper and structural
// lower bounds that apply to stored hashes too.
func (p Argon2Params) checkBounds(minSalt, minKey uint32) error {
	switch {
	case p.Threads < 1 || p.Threads > MaxArgon2Threads:
		return fmt.Errorf("parallelism %d is outside [1, %d]", p.Threads, MaxArgon2Threads)
	case p.Time < 1 || p.Time > MaxArgon2Time:
		return fmt.Errorf("time cost %d is outside [1, %d]", p.Time, MaxArgon2Time)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > MaxArgon2Memory:
		return fmt.Errorf("memory cost %d KiB is outside [8*p, %d]", p.Memory, MaxArgon2Memory)
	case uint64(p.Memory)*uint64(p.Time) > MaxArgon2Work:
		return fmt.Errorf("memory*time %d exceeds %d", uint64(p.Memory)*uint64(p.Time), MaxArgon2Work)
	case p.SaltLen < minSalt || p.SaltLen > MaxArgon2SaltLen:
		return fmt.Errorf("salt length %d is outside [%d, %d]", p.SaltLen, minSalt, MaxArgon2SaltLen)
	case p.KeyLen < minKey || p.KeyLen > MaxArgon2KeyLen:
		return fmt.Errorf("hash length %d is outside [%d, %d]", p.KeyLen, minKey, MaxArgon2KeyLen)
	}
	return nil
}

// validateParams fills zero fields with the defaults and refuses parameters
// weaker than DefaultArgon2Params (that is, reaching no OWASP equal-cost row,
// or a salt shorter than 16 or a hash shorter than 32 bytes) or above the
// upper bounds, wrapping ErrConfig.
func validateParams(p Argon2Params) (Argon2Params, error) {
	p = p.withDefaults()
	d := DefaultArgon2Params
	if err := p.checkBounds(d.SaltLen, d.KeyLen); err != nil {
		return Argon2Params{}, fmt.Errorf("%w: argon2id %v", ErrConfig, err)
	}
	for _, r := range owaspRows {
		if p.Memory >= r.memory && p.Time >= r.time {
			return p, nil
		}
	}
	return Argon2Params{}, fmt.Errorf("%w: argon2id m=%d KiB, t=%d is weaker than the minimum (m=%d KiB, t=%d or an equal-cost row)",
		ErrConfig, p.Memory, p.Time, d.Memory, d.Time)
}

// weakerThan reports whether a stored hash with parameters p should be
// rehashed to reach want: any cost parameter or length below want's.
func (p Argon2Params) weakerThan(want Argon2Params) bool {
	return p.Memory < want.Memory || p.Time < want.Time || p.Threads < want.Threads ||
		p.SaltLen < want.SaltLen || p.KeyLen < want.KeyLen
}

// checkPasswordLen refuses an over-long password before any hashing.
func checkPasswordLen(password string) error {
	if len(password) > MaxPasswordBytes {
		return newError(ErrInvalidRequest, "password_too_long", nil)
	}
	return nil
}

// HashPassword hashes password with Argon2id and returns a PHC string.
//
// Zero fields of p take their value from DefaultArgon2Params; parameters
// weaker than DefaultArgon2Params or above the Max* bounds give an error
// wrapping ErrConfig. An empty password, or one longer than MaxPasswordBytes,
// gives an error wrapping ErrInvalidRequest without hashing. The password is
// hashed byte for byte: it is never truncated, case-folded or normalised.
// HashPassword is not subject to any PasswordAuthenticator's concurrency cap.
func HashPassword(password string, p Argon2Params) (string, error) {
	if err := checkPasswordLen(password); err != nil {
		return "", err
	}
	if password == "" {
		return "", newError(ErrInvalidRequest, "password_empty", nil)
	}
	p, err := validateParams(p)
	if err != nil {
		return "", err
	}
	return hashPHC(password, p)
}

// hashPHC computes a fresh Argon2id hash with a random salt; p must be valid.
func hashPHC(password string, p Argon2Params) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", newError(ErrInternal, "random", err)
	}
	h := phcHash{params: p, salt: salt, key: argon2Key(password, salt, p)}
	return h.String(), nil
}

func argon2Key(password string, salt []byte, p Argon2Params) []byte {
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// phcHash is a parsed Argon2id PHC string.
type phcHash struct {
	params Argon2Params // SaltLen and KeyLen are len(salt) and len(key)
	salt   []byte
	key    []byte
}

// String encodes h in the canonical PHC form.
func (h phcHash) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2Version,
		h.params.Memory, h.params.Time, h.params.Threads,
		phcB64.EncodeToString(h.salt), phcB64.EncodeToString(h.key))
}

// verify computes the hash of password with h's salt and parameters and
// compares it with h's in constant time.
func (h phcHash) verify(password string) bool {
	return subtle.ConstantTimeCompare(argon2Key(password, h.salt, h.params), h.key) == 1
}

// phcB64 is the PHC base64: standard alphabet, no padding, canonical trailing bits.
var phcB64 = base64.RawStdEncoding.Strict()

// errPHC is the cause of every PHC parse error. Parse errors never quote the
// input, so they are safe to log (R64).
var errPHC = errors.New("malformed argon2id PHC string")

// maxPHCLen bounds the whole PHC string: the longest valid one with the
// maximal bounds is about 230 bytes.
const maxPHCLen = 256

func phcErr(what string) error { return fmt.Errorf("%w: %s", errPHC, what) }

// parsePHC strictly parses "$argon2id$v=19$m=<m>,t=<t>,p=<p>$<salt>$<hash>"
// with unpadded standard base64 and canonical decimal numbers, so every
// accepted string re-encodes to itself. It refuses other variants and
// versions, extra or missing fields, and parameters or lengths outside the
// bounds, before allocating anything proportional to them.
func parsePHC(s string) (phcHash, error) {
	if len(s) > maxPHCLen {
		return phcHash{}, phcErr("too long")
	}
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" {
		return phcHash{}, phcErr("wrong number of fields")
	}
	if f[1] != "argon2id" {
		return phcHash{}, phcErr("not argon2id")
	}
	if f[2] != fmt.Sprintf("v=%d", argon2Version) {
		return phcHash{}, phcErr("unsupported version")
	}
	kv := strings.Split(f[3], ",")
	if len(kv) != 3 {
		return phcHash{}, phcErr("parameters must be m,t,p")
	}
	var p Argon2Params
	for i, name := range [...]string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(kv[i], name+"=")
		if !ok {
			return phcHash{}, phcErr("parameters must be m,t,p")
		}
		n, ok := parseDecimal(v)
		if !ok {
			return phcHash{}, phcErr("bad parameter value")
		}
		switch name {
		case "m":
			p.Memory = n
		case "t":
			p.Time = n
		case "p":
			if n > MaxArgon2Threads {
				return phcHash{}, phcErr("parameters out of bounds")
			}
			p.Threads = uint8(n)
		}
	}
	if !isB64(f[4]) || !isB64(f[5]) {
		return phcHash{}, phcErr("bad base64")
	}
	// Decoded lengths are known before decoding; bound them first.
	p.SaltLen = uint32(phcB64.DecodedLen(len(f[4])))
	p.KeyLen = uint32(phcB64.DecodedLen(len(f[5])))
	if err := p.checkBounds(minStoredSaltLen, minStoredKeyLen); err != nil {
		return phcHash{}, phcErr("parameters out of bounds")
	}
	salt, err := phcB64.DecodeString(f[4])
	if err != nil {
		return phcHash{}, phcErr("bad base64")
	}
	key, err := phcB64.DecodeString(f[5])
	if err != nil {
		return phcHash{}, phcErr("bad base64")
	}
	return phcHash{params: p, salt: salt, key: key}, nil
}

// parseDecimal parses a canonical unsigned decimal (no sign, no leading
// zero, at most 10 digits, fits in uint32).
func parseDecimal(s string) (uint32, bool) {
	if s == "" || len(s) > 10 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n > 1<<32-1 {
		return 0, false
	}
	return uint32(n), true
}

// isB64 reports whether s is non-empty and uses only the standard base64
// alphabet (no padding, and none of the CR/LF the decoder would skip).
func isB64(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// NormalizeEmail returns the canonical form of an e-mail address used for
// storage, lookup and throttle keys: surrounding white space trimmed and
// lower-cased. It does not validate the address.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// validNewEmail checks a normalised e-mail address for CreateUser.
func validNewEmail(e string) bool {
	return e != "" && len(e) <= MaxEmailBytes && strings.Contains(e, "@")
}

// PasswordOptions configure a PasswordAuthenticator.
type PasswordOptions struct {
	// Params are the Argon2id parameters for new hashes (default
	// DefaultArgon2Params; weaker than it is refused). Stored hashes with
	// lower parameters are rehashed on the next successful login.
	Params Argon2Params
	// MaxConcurrent bounds concurrent hash computations (default GOMAXPROCS).
	MaxConcurrent int
}

// PasswordAuthenticator checks e-mail and password against a store.Users.
//
// Every Argon2id computation it performs (verification, the dummy
// verification for unknown users, rehashing, CreateUser and SetPassword)
// holds one slot of a semaphore of MaxConcurrent slots, so memory stays
// bounded at about MaxConcurrent times Params.Memory. Waiting for a slot
// respects the context.
type PasswordAuthenticator struct {
	users  store.Users
	params Argon2Params
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

var _ Authenticator = (*PasswordAuthenticator)(nil)

// NewPasswordAuthenticator returns an Authenticator over users.
//
// Zero fields of o.Params take the defaults; parameters weaker than
// DefaultArgon2Params, a nil users or a negative MaxConcurrent give an error
// wrapping ErrConfig. It computes one hash (the dummy used for unknown users)
// and so takes as long as one login.
func NewPasswordAuthenticator(users store.Users, o PasswordOptions) (*PasswordAuthenticator, error) {
	if users == nil {
		return nil, fmt.Errorf("%w: password authenticator needs a user store", ErrConfig)
	}
	p, err := validateParams(o.Params)
	if err != nil {
		return nil, err
	}
	n := o.MaxConcurrent
	switch {
	case n < 0:
		return nil, fmt.Errorf("%w: MaxConcurrent must not be negative", ErrConfig)
	case n == 0:
		n = runtime.GOMAXPROCS(0)
	}
	dummy, err := dummyHash(p)
	if err != nil {
		return nil, err
	}
	return &PasswordAuthenticator{users: users, params: p, sem: make(chan struct{}, n), dummy: dummy}, nil
}

// Params returns the effective Argon2id parameters for new hashes.
func (a *PasswordAuthenticator) Params() Argon2Params { return a.params }

// withSlot runs fn while holding a semaphore slot. If ctx is done before a
// slot is free, fn does not run and the error is ErrUnavailable/hash_busy.
func (a *PasswordAuthenticator) withSlot(ctx context.Context, fn func()) error {
	if err := ctx.Err(); err != nil {
		return newError(ErrUnavailable, "hash_busy", err)
	}
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return newError(ErrUnavailable, "hash_busy", ctx.Err())
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
func (a *PasswordAuthenticator) verify(ctx context.Context, h phcHash, password string) (bool, error) {
	var ok bool
	err := a.withSlot(ctx, func() { ok = h.verify(password) })
	return ok, err
}

// hash computes a new PHC string at the configured parameters under the
// semaphore. It refuses empty and over-long passwords with ErrInvalidRequest.
func (a *PasswordAuthenticator) hash(ctx context.Context, password string) (string, error) {
	if err := checkPasswordLen(password); err != nil {
		return "", err
	}
	if password == "" {
		return "", newError(ErrInvalidRequest, "password_empty", nil)
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
var dummyHashes sync.Map // Argon2Params -> phcHash

func dummyHash(p Argon2Params) (phcHash, error) {
	if d, ok := dummyHashes.Load(p); ok {
		return d.(phcHash), nil
	}
	var pw [32]byte
	if _, err := rand.Read(pw[:]); err != nil {
		return phcHash{}, err
	}
	enc, err := hashPHC(hex.EncodeToString(pw[:]), p)
	if err != nil {
		return phcHash{}, err
	}
	d, err := parsePHC(enc)
	if err != nil {
		return phcHash{}, fmt.Errorf("%w: dummy hash: %v", ErrConfig, err)
	}
	actual, _ := dummyHashes.LoadOrStore(p, d)
	return actual.(phcHash), nil
}

// fail verifies password against the dummy hash, so that a failure costs as
// much as a real verification, and then returns ErrInvalidCredentials with
// reason (or the semaphore error).
func (a *PasswordAuthenticator) fail(ctx context.Context, password, reason string, cause error) (Identity, error) {
	if _, err := a.verify(ctx, a.dummy, password); err != nil {
		return Identity{}, err
	}
	return Identity{}, newError(ErrInvalidCredentials, reason, cause)
}

// Authenticate implements Authenticator. When the account exists but may not
// log in (wrong password, disabled, locked) the returned Identity carries
// only its Subject, for the audit log; it grants nothing.
//
// A password longer than MaxPasswordBytes gives ErrInvalidRequest before any
// store access or hashing. Otherwise exactly one Argon2id verification runs
// whatever the outcome: against the dummy hash for an unknown e-mail (or a
// stored hash that does not parse), against the stored hash otherwise, also
// for disabled and locked accounts. Failures wrap ErrInvalidCredentials with
// Reason "unknown_user", "wrong_password", "disabled", "locked" or
// "bad_hash"; the account state is checked after the verification and takes
// precedence over the password result (disabled before locked). A store
// failure gives ErrUnavailable with Reason "user_store", and a context that
// ends while waiting for a hashing slot ErrUnavailable with Reason
// "hash_busy".
//
// After a successful verification of a hash whose parameters are below the
// configured ones, the password is rehashed and written back. That upgrade
// is best effort: when it cannot run or its write fails the login still
// succeeds and the next one tries again (there is no logger here).
func (a *PasswordAuthenticator) Authenticate(ctx context.Context, email, password string) (Identity, error) {
	if err := checkPasswordLen(password); err != nil {
		return Identity{}, err
	}
	email = NormalizeEmail(email)
	if len(email) > MaxEmailBytes {
		// No account can have it; skip the store but not the hash.
		return a.fail(ctx, password, "unknown_user", nil)
	}
	u, err := a.users.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return a.fail(ctx, password, "unknown_user", nil)
	}
	if err != nil {
		return Identity{}, newError(ErrUnavailable, "user_store", err)
	}
	h, perr := parsePHC(u.PasswordHash)
	if perr != nil {
		return a.fail(ctx, password, "bad_hash", perr)
	}
	ok, err := a.verify(ctx, h, password)
	if err != nil {
		return Identity{}, err
	}
	switch {
	case u.Disabled:
		return Identity{Subject: u.ID}, newError(ErrInvalidCredentials, "disabled", nil)
	case u.Locked:
		return Identity{Subject: u.ID}, newError(ErrInvalidCredentials, "locked", nil)
	case !ok:
		return Identity{Subject: u.ID}, newError(ErrInvalidCredentials, "wrong_password", nil)
	}
	if h.params.weakerThan(a.params) {
		a.rehash(ctx, u, password)
	}
	return Identity{Subject: u.ID, Roles: copyRoles(u.Roles)}, nil
}

// rehash upgrades u's stored hash to the configured parameters, best effort.
// It re-reads the user and writes only if the stored hash is still the one
// just verified, to narrow the race with a concurrent SetPassword or role
// change (store.Users has no compare-and-swap).
func (a *PasswordAuthenticator) rehash(ctx context.Context, u store.User, password string) {
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

// Lookup implements Authenticator.
//
// An unknown subject gives ErrInvalidCredentials with Reason "unknown_user",
// a disabled or locked account "disabled" or "locked"; a store failure gives
// ErrUnavailable with Reason "user_store".
func (a *PasswordAuthenticator) Lookup(ctx context.Context, subject string) (Identity, error) {
	if subject == "" {
		return Identity{}, newError(ErrInvalidCredentials, "unknown_user", nil)
	}
	u, err := a.users.UserByID(ctx, subject)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Identity{}, newError(ErrInvalidCredentials, "unknown_user", nil)
	case err != nil:
		return Identity{}, newError(ErrUnavailable, "user_store", err)
	case u.Disabled:
		return Identity{Subject: u.ID}, newError(ErrInvalidCredentials, "disabled", nil)
	case u.Locked:
		return Identity{Subject: u.ID}, newError(ErrInvalidCredentials, "locked", nil)
	}
	return Identity{Subject: u.ID, Roles: copyRoles(u.Roles)}, nil
}

// CreateUser hashes password and stores a new user with a random id.
//
// The e-mail address is normalised (NormalizeEmail) and must be non-empty,
// contain '@' and be at most MaxEmailBytes long; the password must be
// non-empty and at most MaxPasswordBytes long. Invalid input gives
// ErrInvalidRequest (Reason "invalid_email", "password_empty" or
// "password_too_long") without hashing. The id is a random UUIDv4 string,
// CreatedAt the current UTC time, and roles are copied. A duplicate e-mail
// gives an error wrapping both ErrInvalidRequest and store.ErrConflict
// (Reason "conflict"); other store failures ErrUnavailable.
func (a *PasswordAuthenticator) CreateUser(ctx context.Context, email, password string, roles []string) (store.User, error) {
	email = NormalizeEmail(email)
	if !validNewEmail(email) {
		return store.User{}, newError(ErrInvalidRequest, "invalid_email", nil)
	}
	enc, err := a.hash(ctx, password)
	if err != nil {
		return store.User{}, err
	}
	id, err := newUserID()
	if err != nil {
		return store.User{}, newError(ErrInternal, "random", err)
	}
	u := store.User{
		ID:           id,
		Email:        email,
		PasswordHash: enc,
		Roles:        copyRoles(roles),
		CreatedAt:    time.Now().UTC(),
	}
	if err := a.users.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return store.User{}, newError(ErrInvalidRequest, "conflict", err)
		}
		return store.User{}, newError(ErrUnavailable, "user_store", err)
	}
	u.Roles = copyRoles(roles)
	return u, nil
}

// SetPassword replaces a user's password.
//
// The password rules are those of CreateUser (ErrInvalidRequest, checked
// before hashing). An unknown subject gives an error wrapping ErrNotFound
// and store.ErrNotFound (Reason "unknown_user"); a store failure
// ErrUnavailable. Disabled and locked accounts may have their password set.
// Existing sessions are not revoked here: that is the caller's decision.
func (a *PasswordAuthenticator) SetPassword(ctx context.Context, subject, password string) error {
	if err := checkPasswordLen(password); err != nil {
		return err
	}
	if password == "" {
		return newError(ErrInvalidRequest, "password_empty", nil)
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

func userStoreError(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return newError(ErrNotFound, "unknown_user", err)
	}
	return newError(ErrUnavailable, "user_store", err)
}

func copyRoles(r []string) []string {
	if r == nil {
		return nil
	}
	return append([]string(nil), r...)
}

// newUserID returns a random (version 4) UUID in canonical form.
func newUserID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], nil
}
