package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/authguard/authguard/core"
)

// Params are Argon2id cost parameters. Memory is in KiB.
type Params struct {
	Memory  uint32
	Time    uint32
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultParams are the OWASP minimum: m=19456 KiB, t=2, p=1, a 16-byte
// salt and a 32-byte hash.
var DefaultParams = Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Upper bounds on Argon2id parameters, for configured parameters and for
// stored PHC strings alike. They keep a corrupted or hostile stored hash from
// making one verification allocate more than MaxMemory KiB or run for
// more than a few seconds.
const (
	// MaxMemory is the largest accepted memory cost: 256 MiB (in KiB).
	MaxMemory = 256 * 1024
	// MaxTime is the largest accepted number of passes.
	MaxTime = 16
	// MaxWork bounds Memory*Time (KiB-passes): 2 GiB, about 2 s of work.
	MaxWork = 2 * 1024 * 1024
	// MaxThreads is the largest accepted parallelism.
	MaxThreads = 16
	// MaxSaltLen and MaxKeyLen bound the salt and hash lengths in bytes.
	MaxSaltLen = 64
	MaxKeyLen  = 64
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
// reach at least one row in both dimensions; DefaultParams is the
// 19 MiB/t=2 row.
var owaspRows = [...]struct{ memory, time uint32 }{
	{47104, 1}, // 46 MiB
	{19456, 2}, // 19 MiB
	{12288, 3}, // 12 MiB
	{9216, 4},  // 9 MiB
	{7168, 5},  // 7 MiB
}

// withDefaults fills every zero field of p from DefaultParams.
func (p Params) withDefaults() Params {
	d := DefaultParams
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
func (p Params) checkBounds(minSalt, minKey uint32) error {
	switch {
	case p.Threads < 1 || p.Threads > MaxThreads:
		return fmt.Errorf("parallelism %d is outside [1, %d]", p.Threads, MaxThreads)
	case p.Time < 1 || p.Time > MaxTime:
		return fmt.Errorf("time cost %d is outside [1, %d]", p.Time, MaxTime)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > MaxMemory:
		return fmt.Errorf("memory cost %d KiB is outside [8*p, %d]", p.Memory, MaxMemory)
	case uint64(p.Memory)*uint64(p.Time) > MaxWork:
		return fmt.Errorf("memory*time %d exceeds %d", uint64(p.Memory)*uint64(p.Time), MaxWork)
	case p.SaltLen < minSalt || p.SaltLen > MaxSaltLen:
		return fmt.Errorf("salt length %d is outside [%d, %d]", p.SaltLen, minSalt, MaxSaltLen)
	case p.KeyLen < minKey || p.KeyLen > MaxKeyLen:
		return fmt.Errorf("hash length %d is outside [%d, %d]", p.KeyLen, minKey, MaxKeyLen)
	}
	return nil
}

// validateParams fills zero fields with the defaults and refuses parameters
// weaker than DefaultParams (that is, reaching no OWASP equal-cost row,
// or a salt shorter than 16 or a hash shorter than 32 bytes) or above the
// upper bounds, wrapping core.ErrConfig.
func validateParams(p Params) (Params, error) {
	p = p.withDefaults()
	d := DefaultParams
	if err := p.checkBounds(d.SaltLen, d.KeyLen); err != nil {
		return Params{}, fmt.Errorf("%w: argon2id %v", core.ErrConfig, err)
	}
	for _, r := range owaspRows {
		if p.Memory >= r.memory && p.Time >= r.time {
			return p, nil
		}
	}
	return Params{}, fmt.Errorf("%w: argon2id m=%d KiB, t=%d is weaker than the minimum (m=%d KiB, t=%d or an equal-cost row)",
		core.ErrConfig, p.Memory, p.Time, d.Memory, d.Time)
}

// weakerThan reports whether a stored hash with parameters p should be
// rehashed to reach want: any cost parameter or length below want's.
func (p Params) weakerThan(want Params) bool {
	return p.Memory < want.Memory || p.Time < want.Time || p.Threads < want.Threads ||
		p.SaltLen < want.SaltLen || p.KeyLen < want.KeyLen
}

// checkNewPassword refuses, before any hashing, a password longer than
// core.MaxPasswordBytes ("password_too_long") or empty ("password_empty"),
// with an error wrapping core.ErrInvalidRequest.
func checkNewPassword(password string) error {
	if err := core.CheckCredentialLengths("", password); err != nil {
		return err
	}
	if password == "" {
		return newError(core.ErrInvalidRequest, "password_empty", nil)
	}
	return nil
}

// newError builds the structured error of the core.
func newError(kind error, reason string, cause error) error {
	return &core.Error{Kind: kind, Reason: reason, Err: cause}
}

// Hash hashes password with Argon2id and returns a PHC string.
//
// Zero fields of p take their value from DefaultParams; parameters weaker
// than DefaultParams or above the Max* bounds give an error wrapping
// core.ErrConfig. An empty password, or one longer than
// core.MaxPasswordBytes, gives an error wrapping core.ErrInvalidRequest
// without hashing. The password is hashed byte for byte: it is never
// truncated, case-folded or normalised. Hash is not subject to any
// Authenticator's concurrency cap.
func Hash(password string, p Params) (string, error) {
	if err := checkNewPassword(password); err != nil {
		return "", err
	}
	p, err := validateParams(p)
	if err != nil {
		return "", err
	}
	return hashPHC(password, p)
}

// hashPHC computes a fresh Argon2id hash with a random salt; p must be valid.
func hashPHC(password string, p Params) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", newError(core.ErrInternal, "random", err)
	}
	h := phcHash{params: p, salt: salt, key: argon2Key(password, salt, p)}
	return h.String(), nil
}

func argon2Key(password string, salt []byte, p Params) []byte {
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// phcHash is a parsed Argon2id PHC string.
type phcHash struct {
	params Params // SaltLen and KeyLen are len(salt) and len(key)
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
	var p Params
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
			if n > MaxThreads {
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
