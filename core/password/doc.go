// Package password stores and checks passwords with Argon2id.
//
// Hash turns a password into a PHC string ("$argon2id$v=19$m=...,t=...,p=...$
// <salt>$<hash>") at parameters no weaker than DefaultParams, the OWASP
// minimum. Authenticator checks an e-mail address and password against a
// store.Users and implements core.Authenticator and core.PasswordSetter: it
// bounds the number of concurrent Argon2id computations, spends one
// verification on every failure (a dummy hash for unknown users) so that
// failures cannot be told apart by timing, and rehashes a stored hash whose
// parameters are below the configured ones at the next successful login.
//
// The length rules of a login (core.MaxPasswordBytes, core.MaxEmailBytes,
// core.NormalizeEmail) belong to the core, which applies them before any
// authenticator runs; this package applies the same rules.
package password
