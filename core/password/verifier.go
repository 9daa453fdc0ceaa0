package password

import (
	"context"
	"crypto/rand"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/authguard/authguard/core"
)

// Verifier checks passwords against stored hashes, hashes new passwords, and
// equalises the time of failures: the building blocks of Authenticator, for
// a core.Authenticator over your own users table.
//
// It verifies Argon2id PHC strings and bcrypt hashes ("$2a$", "$2b$",
// "$2y$"), and hashes with Argon2id at the configured parameters. Every
// computation (verification, VerifyUnknown, Hash) holds one slot of a
// semaphore of Options.MaxConcurrent slots, so memory stays bounded at about
// MaxConcurrent times Params.Memory; waiting for a slot respects the context.
// A Verifier is safe for concurrent use.
type Verifier struct {
	params Params
	sem    chan struct{}
	// dummy is verified against when the user is unknown (or its stored
	// hash unusable), so every failure costs one hash at the configured
	// parameters.
	dummy phcHash
	// hashTime records each computation's duration (nil without
	// Options.MeterProvider).
	hashTime metric.Float64Histogram

	// Instrumentation read by the tests: number of hash computations, and
	// the current and highest number running at once.
	hashes      atomic.Int64
	inFlight    atomic.Int64
	maxInFlight atomic.Int64
}

// NewVerifier returns a Verifier with the options of o.
//
// Zero fields of o.Params take the defaults; parameters weaker than
// DefaultParams or a negative MaxConcurrent give an error wrapping
// core.ErrConfig. The first Verifier with given parameters computes one hash
// (the dummy used by VerifyUnknown) and so takes as long as one login.
func NewVerifier(o Options) (*Verifier, error) {
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
	v := &Verifier{params: p, sem: make(chan struct{}, n), dummy: dummy}
	if o.MeterProvider != nil {
		v.hashTime, err = o.MeterProvider.Meter("github.com/authguard/authguard/core/password").Float64Histogram(
			"authguard.password.hash.duration", metric.WithUnit("s"),
			metric.WithDescription("Duration of one password hash computation (verification or new hash), by algorithm."),
			metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5))
		if err != nil {
			return nil, fmt.Errorf("%w: password metrics: %w", core.ErrConfig, err)
		}
	}
	return v, nil
}

// Algorithm attributes of the hash duration histogram.
var (
	algArgon2id = metric.WithAttributeSet(attribute.NewSet(attribute.String("algorithm", "argon2id")))
	algBcrypt   = metric.WithAttributeSet(attribute.NewSet(attribute.String("algorithm", "bcrypt")))
)

// Params returns the effective Argon2id parameters for new hashes.
func (v *Verifier) Params() Params { return v.params }

// Verify checks password against encoded, a stored Argon2id PHC string or
// bcrypt hash, comparing in constant time. It returns nil on a match.
//
// A mismatch gives an error wrapping core.ErrInvalidCredentials with Reason
// "wrong_password". A hash that is neither a valid PHC string nor a valid
// bcrypt hash (or exceeds the cost bounds, MaxBcryptCost for bcrypt) gives
// Reason "bad_hash" after one dummy verification, so it takes as long as a
// mismatch. A password longer than MaxBcryptPasswordBytes never matches a
// bcrypt hash, even when its first 72 bytes are the password (bcrypt ignores
// the rest): it gives "wrong_password" after the same bcrypt work. A context
// that ends while waiting for a slot gives core.ErrUnavailable with Reason
// "hash_busy".
//
// Verify does not check core.MaxPasswordBytes; the core refuses longer
// passwords before any authenticator runs.
func (v *Verifier) Verify(ctx context.Context, encoded, password string) error {
	h, err := parseStored(encoded)
	if err != nil {
		return v.fail(ctx, password, "bad_hash", err)
	}
	ok, err := v.verify(ctx, h, password)
	if err != nil {
		return err
	}
	if !ok {
		return newError(core.ErrInvalidCredentials, "wrong_password", nil)
	}
	return nil
}

// VerifyUnknown spends on password the work of one verification at the
// configured parameters (an Argon2id verification against a hash of a random
// secret), then returns an error wrapping core.ErrInvalidCredentials with
// Reason "unknown_user" (or core.ErrUnavailable, Reason "hash_busy", when ctx
// ends while waiting for a slot). Call it when no account matches the e-mail
// address, so that an unknown address takes as long as a wrong password and
// the response time does not tell which addresses have accounts.
//
// It equalises with an Argon2id hash at Params. Accounts whose stored hash
// is bcrypt, or Argon2id at other parameters, take as long as their own
// hash; they converge on Params as they are rehashed (NeedsRehash).
func (v *Verifier) VerifyUnknown(ctx context.Context, password string) error {
	return v.fail(ctx, password, "unknown_user", nil)
}

// NeedsRehash reports whether encoded should be replaced, after a successful
// Verify, by Hash of the same password: it is a bcrypt hash, or an Argon2id
// hash with any parameter below Params. An unusable hash gives false.
func (v *Verifier) NeedsRehash(encoded string) bool {
	h, err := parseStored(encoded)
	return err == nil && h.weakerThan(v.params)
}

// Hash hashes password with Argon2id at Params under the semaphore. An empty
// password or one longer than core.MaxPasswordBytes gives an error wrapping
// core.ErrInvalidRequest (Reason "password_empty" or "password_too_long")
// without hashing.
func (v *Verifier) Hash(ctx context.Context, password string) (string, error) {
	if err := checkNewPassword(password); err != nil {
		return "", err
	}
	var enc string
	var herr error
	if err := v.withSlot(ctx, algArgon2id, func() { enc, herr = hashPHC(password, v.params) }); err != nil {
		return "", err
	}
	return enc, herr
}

// withSlot runs fn, a hash computation of the algorithm alg names, while
// holding a semaphore slot, and records its duration. If ctx is done before
// a slot is free, fn does not run and the error wraps core.ErrUnavailable
// (Reason "hash_busy").
func (v *Verifier) withSlot(ctx context.Context, alg metric.RecordOption, fn func()) error {
	if err := ctx.Err(); err != nil {
		return newError(core.ErrUnavailable, "hash_busy", err)
	}
	select {
	case v.sem <- struct{}{}:
	case <-ctx.Done():
		return newError(core.ErrUnavailable, "hash_busy", ctx.Err())
	}
	defer func() { <-v.sem }()
	v.hashes.Add(1)
	n := v.inFlight.Add(1)
	for {
		m := v.maxInFlight.Load()
		if n <= m || v.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	defer v.inFlight.Add(-1)
	start := time.Now()
	fn()
	if v.hashTime != nil {
		v.hashTime.Record(ctx, time.Since(start).Seconds(), alg)
	}
	return nil
}

// verify checks password against h under the semaphore.
func (v *Verifier) verify(ctx context.Context, h storedHash, password string) (bool, error) {
	var ok bool
	alg := algBcrypt
	if _, argon := h.(phcHash); argon {
		alg = algArgon2id
	}
	err := v.withSlot(ctx, alg, func() { ok = h.verify(password) })
	return ok, err
}

// fail verifies password against the dummy hash, so that a failure costs as
// much as a real verification, and then returns core.ErrInvalidCredentials
// with reason (or the semaphore error).
func (v *Verifier) fail(ctx context.Context, password, reason string, cause error) error {
	if _, err := v.verify(ctx, v.dummy, password); err != nil {
		return err
	}
	return newError(core.ErrInvalidCredentials, reason, cause)
}

// dummyHashes caches one dummy hash per parameter set for the process: the
// dummy is a hash of a random secret nobody knows, so verifiers with the
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
