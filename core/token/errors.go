package token

import (
	"errors"
	"fmt"
)

// Sentinel errors of the package; match them with errors.Is.
var (
	// ErrInvalid is wrapped by every verification failure of KeySet.Verify.
	// The failure's Reason is read with ReasonOf or errors.As on *Error.
	ErrInvalid = errors.New("authguard: invalid token")
	// ErrInvalidKey is wrapped by every key or key-set configuration error:
	// a weak, malformed or unsupported key, bad PEM data, a kid collision,
	// MAC and signature keys mixed in one set, a set without a signing key.
	ErrInvalidKey = errors.New("authguard: invalid key")
	// ErrSign is wrapped by the errors of KeySet.Sign (incomplete or invalid
	// claims, a failing signer).
	ErrSign = errors.New("authguard: cannot sign")
)

// Reason is why KeySet.Verify refused a token. Its String is a short word
// for logs, never for clients.
type Reason uint8

// The reasons of Verify failures, in the order Verify checks them.
const (
	ReasonNone         Reason = iota // no failure (not returned by Verify)
	ReasonOptions                    // "options": nil options, or no issuer or audience to check
	ReasonTooLong                    // "too_long": longer than VerifyOptions.MaxLength
	ReasonMalformed                  // "malformed": not three base64url segments
	ReasonNoKeys                     // "no_keys": the key set is empty
	ReasonHeader                     // "header": the header is not {alg, kid, typ}
	ReasonAlg                        // "alg": missing, none, or not the key's algorithm
	ReasonKid                        // "kid": missing while several keys are active, invalid or unknown
	ReasonTyp                        // "typ": missing or not at+jwt
	ReasonSignature                  // "signature": the signature does not verify
	ReasonClaims                     // "claims": malformed claim set or a required claim missing
	ReasonConfirmation               // "cnf": a sender-constrained token
	ReasonIssuer                     // "issuer": iss missing or not the expected issuer
	ReasonAudience                   // "audience": aud missing or without the expected audience
	ReasonLifetime                   // "lifetime": exp not after iat, or exp - iat above MaxTTL
	ReasonIatFuture                  // "iat_future": issued in the future
	ReasonNotYetValid                // "not_yet_valid": nbf in the future
	ReasonExpired                    // "expired": exp has passed
	numReasons
)

var reasonWords = [numReasons]string{
	ReasonNone:         "",
	ReasonOptions:      "options",
	ReasonTooLong:      "too_long",
	ReasonMalformed:    "malformed",
	ReasonNoKeys:       "no_keys",
	ReasonHeader:       "header",
	ReasonAlg:          "alg",
	ReasonKid:          "kid",
	ReasonTyp:          "typ",
	ReasonSignature:    "signature",
	ReasonClaims:       "claims",
	ReasonConfirmation: "cnf",
	ReasonIssuer:       "issuer",
	ReasonAudience:     "audience",
	ReasonLifetime:     "lifetime",
	ReasonIatFuture:    "iat_future",
	ReasonNotYetValid:  "not_yet_valid",
	ReasonExpired:      "expired",
}

// NumReasons is one more than the largest Reason, for tables indexed by
// Reason.
const NumReasons = int(numReasons)

// String returns the log word of r ("" for ReasonNone and unknown values).
func (r Reason) String() string {
	if r < numReasons {
		return reasonWords[r]
	}
	return ""
}

// Error is a verification failure. The values returned by Verify are
// preallocated and shared (a refusal allocates nothing); they cannot be
// modified.
type Error struct {
	reason Reason
}

// Reason returns why the token was refused.
func (e *Error) Reason() Reason { return e.reason }

// Error implements error.
func (e *Error) Error() string { return ErrInvalid.Error() + ": " + e.reason.String() }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *Error) Unwrap() error { return ErrInvalid }

// verifyErrs holds one error value per reason.
var verifyErrs = func() (t [numReasons]Error) {
	for r := range t {
		t[r].reason = Reason(r)
	}
	return t
}()

// fail returns the shared error of reason r.
func fail(r Reason) *Error { return &verifyErrs[r] }

// ReasonOf returns the Reason carried by err (an *Error, possibly wrapped),
// or ReasonNone. It does not allocate when err is an *Error returned by
// Verify.
func ReasonOf(err error) Reason {
	if e, ok := err.(*Error); ok {
		return e.reason
	}
	return reasonOfWrapped(err)
}

func reasonOfWrapped(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.reason
	}
	return ReasonNone
}

func configErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidKey}, args...)...)
}

func signErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrSign}, args...)...)
}
