package token

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// newTokenID returns a fresh jti: 128 bits from crypto/rand, base64url
// encoded (22 characters).
func newTokenID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand aborts the process instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Sign issues a compact JWS access token with the current signing key and
// the header {"alg","kid","typ":"at+jwt"}.
//
// The claims must be complete (iss, sub, aud, sid, iat > 0, exp > iat, valid
// UTF-8, a tenant of at most MaxTenantLength bytes); an empty c.ID is filled with a fresh random jti (128 bits,
// base64url) before signing, so the caller can read the jti back from c.
// Errors wrap ErrSign (and ErrInvalidKey when the set has no signing key).
func (ks *KeySet) Sign(c *AccessClaims) (string, error) {
	snap := ks.cur.Load()
	if snap == nil || snap.signing == nil {
		return "", fmt.Errorf("%w: %w: the key set has no signing key", ErrSign, ErrInvalidKey)
	}
	if c == nil {
		return "", signErr("nil claims")
	}
	if err := checkSignClaims(c); err != nil {
		return "", err
	}
	if c.ID == "" {
		c.ID = newTokenID()
	}
	k := snap.signing
	payload, err := appendClaimsJSON(make([]byte, 0, 256), c)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	plen := enc.EncodedLen(len(payload))
	out := make([]byte, 0, len(k.header)+1+plen+1+k.sigB64Len)
	out = append(out, k.header...)
	out = append(out, '.')
	out = enc.AppendEncode(out, payload)
	signingInput := string(out)
	var sig []byte
	switch k.alg {
	case AlgEdDSA:
		sig, err = jwt.SigningMethodEdDSA.Sign(signingInput, k.signKey)
	case AlgES256:
		sig, err = jwt.SigningMethodES256.Sign(signingInput, k.signKey)
	case AlgRS256:
		sig, err = jwt.SigningMethodRS256.Sign(signingInput, k.signKey)
	case AlgHS256:
		sig, err = jwt.SigningMethodHS256.Sign(signingInput, k.signKey)
	default:
		err = fmt.Errorf("unsupported algorithm %q", k.alg)
	}
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrSign, err)
	}
	if len(sig) != k.sigLen {
		return "", signErr("signature has %d bytes, want %d", len(sig), k.sigLen)
	}
	out = append(out, '.')
	out = enc.AppendEncode(out, sig)
	return string(out), nil
}

func checkSignClaims(c *AccessClaims) error {
	switch {
	case c.Issuer == "":
		return signErr("empty iss")
	case c.Subject == "":
		return signErr("empty sub")
	case c.SessionID == "":
		return signErr("empty sid")
	case len(c.Audience) == 0:
		return signErr("no aud")
	case c.IssuedAt <= 0 || c.IssuedAt > MaxNumericDate:
		return signErr("iat %d out of range", c.IssuedAt)
	case c.ExpiresAt <= c.IssuedAt || c.ExpiresAt > MaxNumericDate:
		return signErr("exp %d is not after iat %d", c.ExpiresAt, c.IssuedAt)
	case len(c.Tenant) > MaxTenantLength:
		return signErr("tenant longer than %d bytes", MaxTenantLength)
	case c.NotBefore < 0 || c.NotBefore > MaxNumericDate || c.AuthTime < 0 || c.AuthTime > MaxNumericDate:
		return signErr("nbf or auth_time out of range")
	}
	for _, a := range c.Audience {
		if a == "" {
			return signErr("empty aud entry")
		}
	}
	return nil
}

// appendClaimsJSON writes the claim set in a fixed member order.
func appendClaimsJSON(b []byte, c *AccessClaims) ([]byte, error) {
	var ok = true
	str := func(b []byte, name, v string) []byte {
		b = append(b, `,"`...)
		b = append(b, name...)
		b = append(b, `":`...)
		var good bool
		b, good = appendJSONString(b, v)
		ok = ok && good
		return b
	}
	num := func(b []byte, name string, v int64) []byte {
		b = append(b, `,"`...)
		b = append(b, name...)
		b = append(b, `":`...)
		return strconv.AppendInt(b, v, 10)
	}
	strs := func(b []byte, vs []string) []byte {
		b = append(b, '[')
		for i, v := range vs {
			if i > 0 {
				b = append(b, ',')
			}
			var good bool
			b, good = appendJSONString(b, v)
			ok = ok && good
		}
		return append(b, ']')
	}
	b = append(b, `{"iss":`...)
	b, ok = appendJSONString(b, c.Issuer)
	b = str(b, "sub", c.Subject)
	b = append(b, `,"aud":`...)
	if len(c.Audience) == 1 {
		var good bool
		b, good = appendJSONString(b, c.Audience[0])
		ok = ok && good
	} else {
		b = strs(b, c.Audience)
	}
	b = num(b, "exp", c.ExpiresAt)
	b = num(b, "iat", c.IssuedAt)
	if c.NotBefore != 0 {
		b = num(b, "nbf", c.NotBefore)
	}
	b = str(b, "jti", c.ID)
	b = str(b, "sid", c.SessionID)
	b = append(b, `,"roles":`...)
	b = strs(b, c.Roles)
	b = num(b, "auth_time", c.AuthTime)
	if c.ClientID != "" {
		b = str(b, "client_id", c.ClientID)
	}
	if c.Tenant != "" {
		b = str(b, "tenant", c.Tenant)
	}
	b = append(b, '}')
	if !ok {
		return nil, signErr("a claim is not valid UTF-8")
	}
	return b, nil
}

// appendJSONString writes s as a JSON string with minimal escaping; it
// reports false when s is not valid UTF-8.
func appendJSONString(b []byte, s string) ([]byte, bool) {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"'), utf8.ValidString(s)
}
