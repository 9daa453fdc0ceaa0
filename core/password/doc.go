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
// It also verifies bcrypt hashes ("$2a$", "$2b$", "$2y$"), so that a users
// table from another system can be used as it is, and rehashes them to
// Argon2id at the next successful login; a password longer than 72 bytes
// never matches a bcrypt hash (bcrypt would ignore the rest). Every rehash is
// written with store.Users.UpdatePasswordHash, a compare-and-swap of the hash
// alone, so it never undoes a change an administrator committed meanwhile.
//
// Verifier is the hashing of Authenticator on its own, for a
// core.Authenticator over your own users table: Verify (Argon2id or bcrypt),
// VerifyUnknown (the same work for an unknown e-mail address, so response
// times do not reveal which addresses have accounts), NeedsRehash and Hash.
//
// The length rules of a login (core.MaxPasswordBytes, core.MaxEmailBytes,
// core.NormalizeEmail) belong to the core, which applies them before any
// authenticator runs; this package applies the same rules.
package password
