package core

import "strings"

// The rules the core applies to login credentials before any store access or
// hashing. Authenticators use them too, so the core and the authenticator
// never disagree about what a well-formed login is.

// MaxPasswordBytes is the longest password accepted (1 KiB); longer ones are
// refused before hashing.
const MaxPasswordBytes = 1024

// MaxEmailBytes is the longest e-mail address accepted, after NormalizeEmail
// (RFC 5321 path limit). Longer addresses can never match an account.
const MaxEmailBytes = 254

// NormalizeEmail returns the canonical form of an e-mail address used for
// storage, lookup and throttle keys: surrounding white space trimmed and
// lower-cased. It does not validate the address.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// CheckCredentialLengths refuses a password longer than MaxPasswordBytes
// (Reason "password_too_long") and then an e-mail address longer than
// MaxEmailBytes once normalised (Reason "email_too_long"), with an error
// wrapping ErrInvalidRequest. Empty values are within bounds: whether they
// are allowed is the caller's rule, so CheckCredentialLengths("", pw) checks
// a password alone.
func CheckCredentialLengths(email, password string) error {
	if len(password) > MaxPasswordBytes {
		return newError(ErrInvalidRequest, "password_too_long", nil)
	}
	if len(NormalizeEmail(email)) > MaxEmailBytes {
		return newError(ErrInvalidRequest, "email_too_long", nil)
	}
	return nil
}
