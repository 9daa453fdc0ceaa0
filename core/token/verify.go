package token

import (
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// VerifyOptions are the checks Verify applies besides signature and format.
type VerifyOptions struct {
	Issuer   string
	Audience string
	// Now is the verification time.
	Now time.Time
	// Leeway applies to exp, nbf and iat.
	Leeway time.Duration
	// MaxTTL bounds exp - iat.
	MaxTTL time.Duration
	// MaxLength caps the raw token length before any parsing (0: 8192).
	MaxLength int
	// IgnoreExpiry skips the exp check (logout with an expired access token).
	IgnoreExpiry bool
}

// Token format limits.
const (
	// DefaultMaxTokenLength is the default cap on a raw access token (8 KiB).
	DefaultMaxTokenLength = 8192
	// MaxNumericDate is the largest exp, iat, nbf or auth_time accepted
	// (1e11 seconds, in the year 5138); anything larger is refused as absurd.
	MaxNumericDate = 100_000_000_000
	// AccessTokenType is the typ header of access tokens (RFC 9068).
	AccessTokenType = "at+jwt"
)

const (
	maxHeaderB64   = 1024 // longest header segment read
	maxVerifyLeway = 60 * time.Second
	maxMembers     = 256 // top-level claims of one token
)

// Verify checks token strictly (format, header, algorithm, key, signature,
// then claims) and fills c. Every failure is an *Error wrapping ErrInvalid,
// with a Reason for logs (see ReasonOf).
//
// The order is fixed: length cap, compact-serialisation syntax, header
// (alg, kid, typ; nothing else), key lookup (in memory only), signature, and
// only then the claims, so no claim is read from a forged token. Reasons are
// too_long, malformed, header, alg, kid, typ, signature, claims, cnf,
// issuer, audience, lifetime, iat_future, not_yet_valid, expired, no_keys
// and options. The returned *Error values are shared; a refusal allocates
// nothing. c may be nil; it is written only on success. A zero o.Now means
// time.Now(); o.Leeway is clamped to [0, 60s]. An empty o.Issuer or
// o.Audience rejects every token.
func (ks *KeySet) Verify(token string, o *VerifyOptions, c *AccessClaims) error {
	if r := ks.check(token, o, c); r != ReasonNone {
		return fail(r)
	}
	return nil
}

// check is Verify, returning ReasonNone on success.
func (ks *KeySet) check(token string, o *VerifyOptions, c *AccessClaims) Reason {
	if r := checkLength(token, o); r != ReasonNone {
		return r
	}
	d1, d2, ok := splitCompact(token)
	if !ok {
		return ReasonMalformed
	}
	snap := ks.cur.Load()
	if snap == nil || len(snap.keys) == 0 {
		return ReasonNoKeys
	}
	// One buffer for the decoded header, then the decoded payload.
	var buf [2048]byte
	k, r := snap.headerKey(buf[:], token[:d1])
	if r != ReasonNone {
		return r
	}
	if r := k.checkSignature(token[:d2], token[d2+1:]); r != ReasonNone {
		return r
	}
	// Claims, now that they are authentic.
	return readClaims(buf[:], token[d1+1:d2], o, c)
}

// checkLength applies the length cap, before anything else is read, and
// refuses options that could accept no token.
func checkLength(token string, o *VerifyOptions) Reason {
	if o == nil {
		return ReasonOptions
	}
	maxLen := o.MaxLength
	if maxLen <= 0 {
		maxLen = DefaultMaxTokenLength
	}
	if len(token) > maxLen {
		return ReasonTooLong
	}
	if o.Issuer == "" || o.Audience == "" {
		return ReasonOptions
	}
	return ReasonNone
}

// splitCompact checks the compact serialisation, three non-empty segments of
// [A-Za-z0-9_-], and returns the positions of the two dots.
func splitCompact(token string) (d1, d2 int, ok bool) {
	d1 = strings.IndexByte(token, '.')
	if d1 <= 0 {
		return 0, 0, false
	}
	d2 = strings.IndexByte(token[d1+1:], '.') + d1 + 1
	if d2 <= d1+1 || d2 == len(token)-1 || strings.IndexByte(token[d2+1:], '.') >= 0 {
		return 0, 0, false
	}
	if !b64Alphabet(token[:d1]) || !b64Alphabet(token[d1+1:d2]) || !b64Alphabet(token[d2+1:]) {
		return 0, 0, false
	}
	return d1, d2, true
}

// headerKey decodes the header segment into buf, checks it and returns the
// key it selects.
func (s *keySnapshot) headerKey(buf []byte, hseg string) (*Key, Reason) {
	if len(hseg) > maxHeaderB64 {
		return nil, ReasonHeader
	}
	hn, ok := b64Decode(buf, hseg)
	if !ok {
		return nil, ReasonMalformed
	}
	hb := buf[:hn]
	h, r := parseHeader(hb)
	if r != ReasonNone {
		return nil, r
	}
	if !h.hasAlg {
		return nil, ReasonAlg
	}
	alg := hb[h.alg.a:h.alg.b]
	if asciiEqualFold(alg, "none") {
		return nil, ReasonAlg
	}
	k, r := s.keyFor(hb, &h)
	if r != ReasonNone {
		return nil, r
	}
	if string(alg) != k.alg {
		return nil, ReasonAlg
	}
	if !h.hasTyp {
		return nil, ReasonTyp
	}
	if typ := hb[h.typ.a:h.typ.b]; !asciiEqualFold(typ, AccessTokenType) && !asciiEqualFold(typ, "application/"+AccessTokenType) {
		return nil, ReasonTyp
	}
	return k, ReasonNone
}

// keyFor returns the key named by the header's kid, or the only key when
// the header has no kid.
func (s *keySnapshot) keyFor(hb []byte, h *header) (*Key, Reason) {
	if !h.hasKid {
		if s.sole == nil {
			return nil, ReasonKid // no kid while several keys are active
		}
		return s.sole, ReasonNone
	}
	kid := hb[h.kid.a:h.kid.b]
	if len(kid) == 0 || len(kid) > MaxKeyIDLength {
		return nil, ReasonKid
	}
	for _, ch := range kid {
		if !kidChar[ch] {
			return nil, ReasonKid
		}
	}
	k := s.keys[string(kid)]
	if k == nil {
		return nil, ReasonKid
	}
	return k, ReasonNone
}

// checkSignature verifies the signature segment sseg over the raw signing
// input.
func (k *Key) checkSignature(signingInput, sseg string) Reason {
	if len(sseg) != k.sigB64Len {
		return ReasonSignature
	}
	var sigBuf [512]byte
	sig := sigBuf[:]
	if k.sigLen > len(sigBuf) {
		sig = make([]byte, k.sigLen)
	}
	if _, ok := b64Decode(sig, sseg); !ok {
		return ReasonMalformed
	}
	if !k.verify(signingInput, sig[:k.sigLen]) {
		return ReasonSignature
	}
	return ReasonNone
}

// readClaims decodes the payload segment (into buf when it fits), parses and
// checks the claim set, and fills c (when not nil).
func readClaims(buf []byte, pseg string, o *VerifyOptions, c *AccessClaims) Reason {
	pb := buf
	if pl := b64DecodedLen(len(pseg)); pl > len(buf) {
		pb = make([]byte, pl)
	}
	pn, ok := b64Decode(pb, pseg)
	if !ok {
		return ReasonMalformed
	}
	pb = pb[:pn]
	var listBuf [16]span
	cs, ok := parseClaims(pb, listBuf[:0])
	if !ok {
		if cs.seen&cCnf != 0 {
			return ReasonConfirmation
		}
		return ReasonClaims
	}
	if r := checkClaims(pb, &cs, o); r != ReasonNone {
		return r
	}
	if c != nil {
		cs.fill(c, pb)
	}
	return ReasonNone
}

// verify checks sig over signingInput with golang-jwt's implementation of
// k.alg (HS256 uses a pooled keyed HMAC from crypto/hmac, compared in
// constant time, to avoid per-call allocations).
func (k *Key) verify(signingInput string, sig []byte) bool {
	switch k.alg {
	case AlgEdDSA:
		return jwt.SigningMethodEdDSA.Verify(signingInput, sig, k.verifyKey) == nil
	case AlgES256:
		return jwt.SigningMethodES256.Verify(signingInput, sig, k.verifyKey) == nil
	case AlgRS256:
		return jwt.SigningMethodRS256.Verify(signingInput, sig, k.verifyKey) == nil
	case AlgHS256:
		return k.verifyMAC(signingInput, sig)
	}
	return false
}
