package password

import (
	"errors"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// MaxBcryptCost is the highest bcrypt cost a stored hash may have (2^15
// rounds, a few seconds of work): like the Argon2id upper bounds, it keeps a
// corrupted or hostile stored hash from tying up a hashing slot for long.
// A stored bcrypt hash above it is treated as unusable ("bad_hash").
const MaxBcryptCost = 15

// MaxBcryptPasswordBytes is the longest password that can match a bcrypt
// hash. bcrypt reads only the first 72 bytes of its input, so a longer
// password would otherwise match the hash of its 72-byte prefix; the
// verification refuses it instead (see Verifier.Verify).
const MaxBcryptPasswordBytes = 72

// storedHash is a parsed stored password hash: Argon2id or bcrypt.
type storedHash interface {
	// verify reports whether password matches, comparing in constant time.
	verify(password string) bool
	// weakerThan reports whether the hash should be replaced by an Argon2id
	// hash at p after a successful login.
	weakerThan(p Params) bool
}

// weakerThan is phcHash's storedHash method: below p in any parameter.
func (h phcHash) weakerThan(p Params) bool { return h.params.weakerThan(p) }

// bcryptHash is a parsed bcrypt hash ("$2a$", "$2b$" or "$2y$").
type bcryptHash struct {
	enc []byte
}

// verify runs bcrypt on password and compares in constant time
// (bcrypt.CompareHashAndPassword uses subtle.ConstantTimeCompare). A password
// longer than MaxBcryptPasswordBytes never matches, but the same bcrypt work
// runs on its first 72 bytes so that refusing it takes as long as a
// mismatch.
func (h bcryptHash) verify(password string) bool {
	if len(password) > MaxBcryptPasswordBytes {
		_ = bcrypt.CompareHashAndPassword(h.enc, []byte(password[:MaxBcryptPasswordBytes]))
		return false
	}
	return bcrypt.CompareHashAndPassword(h.enc, []byte(password)) == nil
}

// weakerThan is always true: a bcrypt hash is migrated to Argon2id at the
// first successful login.
func (bcryptHash) weakerThan(Params) bool { return true }

// errBcrypt is the cause of every bcrypt parse error; like errPHC it never
// quotes the input.
var errBcrypt = errors.New("malformed bcrypt hash")

// bcryptLen is the length of every modular-crypt bcrypt hash:
// "$2b$" + 2-digit cost + "$" + 22 characters of salt + 31 of hash.
const bcryptLen = 60

// isBcrypt reports whether s claims to be a bcrypt hash of an accepted
// variant. "$2$" and "$2x$" (the variant marking hashes of the 2011
// crypt_blowfish sign-extension bug) are not accepted.
func isBcrypt(s string) bool {
	return strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$")
}

// parseBcrypt strictly parses a bcrypt hash: an accepted variant, exactly 60
// bytes, a two-digit cost in [bcrypt.MinCost, MaxBcryptCost] and only
// characters of the bcrypt base64 alphabet in salt and hash.
func parseBcrypt(s string) (bcryptHash, error) {
	if len(s) != bcryptLen || !isBcrypt(s) || s[6] != '$' {
		return bcryptHash{}, errBcrypt
	}
	if s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' {
		return bcryptHash{}, errBcrypt
	}
	if cost := int(s[4]-'0')*10 + int(s[5]-'0'); cost < bcrypt.MinCost || cost > MaxBcryptCost {
		return bcryptHash{}, errBcrypt
	}
	for i := 7; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '/') {
			return bcryptHash{}, errBcrypt
		}
	}
	if _, err := bcrypt.Cost([]byte(s)); err != nil {
		return bcryptHash{}, errBcrypt
	}
	return bcryptHash{enc: []byte(s)}, nil
}

// parseStored parses a stored hash: a bcrypt hash when it has a bcrypt
// prefix, an Argon2id PHC string otherwise.
func parseStored(s string) (storedHash, error) {
	if isBcrypt(s) {
		return parseBcrypt(s)
	}
	return parsePHC(s)
}
