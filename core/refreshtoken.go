package core

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
)

// A refresh token is opaque to clients and carries, under integrity
// protection, everything the core needs to place it in its session's lineage:
//
//	version (1) | session id (16) | generation (8) | nonce (32) | secret (32) | tag (16)
//
// base64url without padding (140 characters). The nonce (256 random bits)
// makes each generation's token unique; the store keeps only the digest of
// the current token. The secret is the session's lineage secret, the same in
// every token of the session; the store keeps only its digest. The tag is an
// HMAC under that secret over everything before it, so a token with a flipped
// bit, or with another session's id or another generation, is recognised as
// forged and neither reaches nor revokes any session; while a genuine token
// of an older generation is recognised as such without storing its digest,
// which keeps a session's storage O(1) whatever the number of rotations.
const (
	refreshVersion   = 1
	sidBytes         = 16
	nonceBytes       = 32
	secretBytes      = 32
	tagBytes         = 16
	refreshBodyBytes = 1 + sidBytes + 8 + nonceBytes + secretBytes
	refreshRawBytes  = refreshBodyBytes + tagBytes
)

var b64url = base64.RawURLEncoding

// refreshLen is the length of every well-formed refresh token.
var refreshLen = b64url.EncodedLen(refreshRawBytes)

// refreshToken is a parsed refresh token.
type refreshToken struct {
	raw    string // the token as presented
	sid    string // session id (base64url of its 16 bytes)
	gen    int64
	secret []byte
	tagOK  bool // tag matches the body under secret
}

// mintRefresh returns the token of generation gen of session sid (a session
// id made by newSessionID) carrying the lineage secret.
func mintRefresh(sid string, gen int64, secret []byte) (string, error) {
	var raw [refreshRawBytes]byte
	raw[0] = refreshVersion
	n, err := b64url.Decode(raw[1:1+sidBytes], []byte(sid))
	if err != nil || n != sidBytes || len(secret) != secretBytes {
		return "", errors.New("authguard: malformed session id or lineage secret")
	}
	binary.BigEndian.PutUint64(raw[1+sidBytes:], uint64(gen))
	nonce := raw[1+sidBytes+8 : 1+sidBytes+8+nonceBytes]
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	copy(raw[refreshBodyBytes-secretBytes:refreshBodyBytes], secret)
	copy(raw[refreshBodyBytes:], refreshTag(secret, raw[:refreshBodyBytes]))
	return b64url.EncodeToString(raw[:]), nil
}

// parseRefresh decodes a refresh token. ok is false for anything that is not
// a well-formed token of this format; a well-formed token whose tag does not
// match still parses (tagOK false), so the caller can tell a forgery.
func parseRefresh(tok string) (refreshToken, bool) {
	if len(tok) != refreshLen {
		return refreshToken{}, false
	}
	var raw [refreshRawBytes]byte
	if n, err := b64url.Strict().Decode(raw[:], []byte(tok)); err != nil || n != refreshRawBytes || raw[0] != refreshVersion {
		return refreshToken{}, false
	}
	gen := binary.BigEndian.Uint64(raw[1+sidBytes:])
	if gen > 1<<62 {
		return refreshToken{}, false
	}
	secret := raw[refreshBodyBytes-secretBytes : refreshBodyBytes]
	return refreshToken{
		raw:    tok,
		sid:    b64url.EncodeToString(raw[1 : 1+sidBytes]),
		gen:    int64(gen),
		secret: append([]byte(nil), secret...),
		tagOK:  hmac.Equal(raw[refreshBodyBytes:], refreshTag(secret, raw[:refreshBodyBytes])),
	}, true
}

func refreshTag(secret, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("authguard refresh-token tag\x00"))
	m.Write(body)
	return m.Sum(nil)[:tagBytes]
}

// tokenDigest is the digest of a refresh token that the store keeps.
func tokenDigest(tok string) []byte {
	h := sha256.New()
	h.Write([]byte("authguard refresh-token digest\x00"))
	h.Write([]byte(tok))
	return h.Sum(nil)
}

// secretDigest is the digest of a lineage secret that the store keeps.
func secretDigest(secret []byte) []byte {
	h := sha256.New()
	h.Write([]byte("authguard lineage-secret digest\x00"))
	h.Write(secret)
	return h.Sum(nil)
}

// provenBy reports whether t is a genuine token of the session described by
// secretDigest: its tag holds and it carries the session's secret.
func (t *refreshToken) provenBy(digest []byte) bool {
	return t.tagOK && subtle.ConstantTimeCompare(secretDigest(t.secret), digest) == 1
}

// isCurrent reports whether t is the session's current token.
func (t *refreshToken) isCurrent(digest []byte) bool {
	return subtle.ConstantTimeCompare(tokenDigest(t.raw), digest) == 1
}

// sealKey derives the key that seals a token's successor from the token
// itself: the store, which never sees raw tokens, cannot open it.
func sealKey(tok string) []byte {
	h := sha256.New()
	h.Write([]byte("authguard refresh-token successor key\x00"))
	h.Write([]byte(tok))
	return h.Sum(nil)
}

func successorAEAD(prev string) (cipher.AEAD, error) {
	block, err := aes.NewCipher(sealKey(prev))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealSuccessor seals next under a key derived from prev.
func sealSuccessor(prev, next string) ([]byte, error) {
	aead, err := successorAEAD(prev)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(next)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, []byte(next), nil), nil
}

// openSuccessor opens what sealSuccessor(prev, next) returned; it fails for
// any other prev.
func openSuccessor(prev string, sealed []byte) (string, error) {
	aead, err := successorAEAD(prev)
	if err != nil {
		return "", err
	}
	if len(sealed) < aead.NonceSize() {
		return "", errors.New("sealed successor too short")
	}
	pt, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], nil)
	if err != nil {
		return "", err
	}
	return string(pt), nil
}

// newSessionID returns a fresh session id: 128 random bits, base64url.
func newSessionID() (string, error) { return randomID(sidBytes) }

// newSecret returns a fresh lineage secret.
func newSecret() ([]byte, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return b, nil
}

// randomID returns n random bytes as base64url: session ids and token ids.
func randomID(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", newError(ErrInternal, "random", err)
	}
	return b64url.EncodeToString(b), nil
}
