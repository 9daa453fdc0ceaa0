package core

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// AccessClaims are the claims of an access token (typ at+jwt). Times are Unix
// seconds. Strings returned by Verify may share memory with one decoded buffer.
type AccessClaims struct {
	Issuer    string
	Subject   string
	Audience  []string
	ExpiresAt int64
	IssuedAt  int64
	NotBefore int64 // 0 when absent
	AuthTime  int64
	ID        string // jti
	SessionID string // sid
	Roles     []string
	ClientID  string // client_id, omitted when empty
}

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

// The log-only reasons of Verify failures. The values are shared: callers
// must not modify them (wrap them instead).
var (
	errTokenTooLong      = tokenErr("too_long")
	errTokenMalformed    = tokenErr("malformed")
	errTokenHeader       = tokenErr("header")
	errTokenAlg          = tokenErr("alg")
	errTokenKid          = tokenErr("kid")
	errTokenTyp          = tokenErr("typ")
	errTokenSignature    = tokenErr("signature")
	errTokenClaims       = tokenErr("claims")
	errTokenExpired      = tokenErr("expired")
	errTokenNotYetValid  = tokenErr("not_yet_valid")
	errTokenIatFuture    = tokenErr("iat_future")
	errTokenLifetime     = tokenErr("lifetime")
	errTokenIssuer       = tokenErr("issuer")
	errTokenAudience     = tokenErr("audience")
	errTokenOptions      = tokenErr("options")
	errTokenNoKeys       = tokenErr("no_keys")
	errTokenConfirmation = tokenErr("cnf")
)

func tokenErr(reason string) *Error { return &Error{Kind: ErrInvalidToken, Reason: reason} }

// NewTokenID returns a fresh jti: 128 bits from crypto/rand, base64url
// encoded (22 characters).
func NewTokenID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand aborts the process instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func signErr(format string, args ...any) error {
	return newError(ErrInternal, "sign", fmt.Errorf(format, args...))
}

// Sign issues a compact JWS access token with the current signing key and
// the header {"alg","kid","typ":"at+jwt"}.
//
// The claims must be complete (iss, sub, aud, sid, iat > 0, exp > iat, valid
// UTF-8); an empty c.ID is filled with NewTokenID before signing, so the
// caller can read the jti back from c.
func (ks *KeySet) Sign(c *AccessClaims) (string, error) {
	snap := ks.cur.Load()
	if snap == nil || snap.signing == nil {
		return "", newError(ErrInternal, "sign", fmt.Errorf("%w: the key set has no signing key", ErrConfig))
	}
	if c == nil {
		return "", signErr("nil claims")
	}
	if err := checkSignClaims(c); err != nil {
		return "", err
	}
	if c.ID == "" {
		c.ID = NewTokenID()
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
		return "", newError(ErrInternal, "sign", err)
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

// header is the parsed JOSE header: spans into the decoded header bytes.
type header struct {
	alg, kid, typ          span
	hasAlg, hasKid, hasTyp bool
}

// parseHeader accepts exactly the members alg, kid and typ, each a string
// and each at most once; anything else is refused.
func parseHeader(b []byte) (header, *Error) {
	var h header
	fail := errTokenHeader
	s := jsonScanner{b: b}
	ok := s.object(func(name span) bool {
		var dst *span
		var seen *bool
		switch string(b[name.a:name.b]) {
		case "alg":
			dst, seen, fail = &h.alg, &h.hasAlg, errTokenAlg
		case "kid":
			dst, seen, fail = &h.kid, &h.hasKid, errTokenKid
		case "typ":
			dst, seen, fail = &h.typ, &h.hasTyp, errTokenTyp
		default:
			// crit, jku, jwk, x5u, x5c, x5t, x5t#S256, cty, zip, b64, case
			// variants of alg/kid/typ and anything else.
			fail = errTokenHeader
			return false
		}
		if *seen {
			fail = errTokenHeader // duplicate member
			return false
		}
		v, ok := s.str()
		if !ok {
			return false // a non-string (or malformed) value
		}
		*dst, *seen = v, true
		fail = errTokenHeader
		return true
	})
	if !ok {
		return h, fail
	}
	return h, nil
}

// asciiEqualFold compares ASCII case-insensitively (no Unicode folding).
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Claim names Verify knows. A member whose name equals one of them under
// Unicode case folding (as encoding/json matches names) without being equal
// is refused, so no other parser can read a different value.
var knownClaims = [...]string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid", "roles", "auth_time", "client_id", "cnf"}

const (
	cIss = 1 << iota
	cSub
	cAud
	cExp
	cNbf
	cIat
	cJti
	cSid
	cRoles
	cAuthTime
	cClientID
	cCnf
)

// claimSpans is the parsed claim set, as spans into the decoded payload.
type claimSpans struct {
	seen                    uint16
	iss, sub, jti, sid, cid span
	exp, iat, nbf, authTime int64
	audAt, audN             int
	rolesAt, rolesN         int
	list                    []span // aud then roles elements (or the reverse)
}

// parseClaims reads the claim set b; the spans of aud and roles elements
// are appended to list.
func parseClaims(b []byte, list []span) (cs claimSpans, ok bool) {
	cs.list = list
	var other [16]span
	unknown := other[:0]
	s := jsonScanner{b: b}
	if !s.consume('{') {
		return cs, false
	}
	if s.consume('}') {
		return cs, s.atEnd()
	}
	for members := 1; ; members++ {
		if members > maxMembers {
			return cs, false
		}
		s.ws()
		name, ok := s.str()
		if !ok || !s.consume(':') {
			return cs, false
		}
		s.ws()
		n := b[name.a:name.b]
		var bit uint16
		switch string(n) {
		case "iss":
			bit = cIss
		case "sub":
			bit = cSub
		case "aud":
			bit = cAud
		case "exp":
			bit = cExp
		case "nbf":
			bit = cNbf
		case "iat":
			bit = cIat
		case "jti":
			bit = cJti
		case "sid":
			bit = cSid
		case "roles":
			bit = cRoles
		case "auth_time":
			bit = cAuthTime
		case "client_id":
			bit = cClientID
		case "cnf":
			// A sender-constrained token (RFC 9449 cnf.jkt, RFC 8705
			// cnf.x5t#S256) is never a bearer token.
			cs.seen |= cCnf
			return cs, false
		}
		if bit == 0 {
			if len(n) <= 3*len("client_id") {
				for _, k := range knownClaims {
					if strings.EqualFold(string(n), k) {
						return cs, false // case variant of a known claim
					}
				}
			}
			for _, u := range unknown {
				if string(b[u.a:u.b]) == string(n) {
					return cs, false // duplicate member
				}
			}
			unknown = append(unknown, name)
			ok = s.skip(1)
		} else {
			if cs.seen&bit != 0 {
				return cs, false // duplicate member
			}
			cs.seen |= bit
			switch bit {
			case cIss:
				cs.iss, ok = s.str()
			case cSub:
				cs.sub, ok = s.str()
			case cJti:
				cs.jti, ok = s.str()
			case cSid:
				cs.sid, ok = s.str()
			case cClientID:
				cs.cid, ok = s.str()
			case cExp:
				cs.exp, ok = s.numericDate()
			case cIat:
				cs.iat, ok = s.numericDate()
			case cNbf:
				cs.nbf, ok = s.numericDate()
			case cAuthTime:
				cs.authTime, ok = s.numericDate()
			case cAud:
				cs.audAt = len(cs.list)
				if s.peek() == '"' {
					var v span
					if v, ok = s.str(); ok {
						cs.list = append(cs.list, v)
					}
				} else {
					cs.list, ok = s.stringArray(cs.list)
				}
				cs.audN = len(cs.list) - cs.audAt
			case cRoles:
				cs.rolesAt = len(cs.list)
				cs.list, ok = s.stringArray(cs.list)
				cs.rolesN = len(cs.list) - cs.rolesAt
			}
		}
		if !ok {
			return cs, false
		}
		if s.consume(',') {
			continue
		}
		if !s.consume('}') {
			return cs, false
		}
		return cs, s.atEnd()
	}
}

// numericDate reads a NumericDate: a non-negative JSON number (integer or
// decimal, exponent allowed), truncated to whole seconds, at most
// MaxNumericDate. Strings, negative numbers and absurd values fail.
func (s *jsonScanner) numericDate() (int64, bool) {
	// Fast path: a plain integer of at most 12 digits.
	if b, i := s.b, s.i; i < len(b) && '1' <= b[i] && b[i] <= '9' {
		var v int64
		j := i
		for j < len(b) && j-i < 12 && isDigit(b[j]) {
			v = v*10 + int64(b[j]-'0')
			j++
		}
		if j == len(b) || (!isDigit(b[j]) && b[j] != '.' && b[j] != 'e' && b[j] != 'E') {
			if v > MaxNumericDate {
				return 0, false
			}
			s.i = j
			return v, true
		}
	}
	if s.peek() == '-' {
		return 0, false
	}
	sp, ok := s.number()
	if !ok {
		return 0, false
	}
	b := s.b[sp.a:sp.b]
	i := 0
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	intPart, frac := b[:i], b[:0]
	if i < len(b) && b[i] == '.' {
		j := i + 1
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		frac = b[i+1 : j]
		i = j
	}
	exp := 0
	if i < len(b) { // 'e' or 'E'
		i++
		neg := b[i] == '-'
		if b[i] == '-' || b[i] == '+' {
			i++
		}
		for ; i < len(b); i++ {
			if exp < 1000 {
				exp = exp*10 + int(b[i]-'0')
			}
		}
		if neg {
			exp = -exp
		}
	}
	// The value is the digits of intPart and frac with the decimal point
	// after len(intPart)+exp of them; keep the integer part.
	var v int64
	for k := 0; k < len(intPart)+exp; k++ {
		var d byte
		switch {
		case k < len(intPart):
			d = intPart[k] - '0'
		case k-len(intPart) < len(frac):
			d = frac[k-len(intPart)] - '0'
		}
		v = v*10 + int64(d)
		if v > MaxNumericDate {
			return 0, false
		}
	}
	return v, true
}

// Verify checks token strictly (format, header, algorithm, key, signature,
// then claims) and fills c. Every failure is an *Error of kind
// ErrInvalidToken with a log-only Reason.
//
// The order is fixed: length cap, compact-serialisation syntax, header
// (alg, kid, typ; nothing else), key lookup (in memory only), signature, and
// only then the claims, so no claim is read from a forged token. Reasons are
// too_long, malformed, header, alg, kid, typ, signature, claims, cnf,
// issuer, audience, lifetime, iat_future, not_yet_valid, expired, no_keys
// and options. The returned *Error values are shared and must not be
// modified. c may be nil; it is written only on success. A zero o.Now means
// time.Now(); o.Leeway is clamped to [0, 60s]. An empty o.Issuer or
// o.Audience rejects every token.
func (ks *KeySet) Verify(token string, o *VerifyOptions, c *AccessClaims) error {
	if o == nil {
		return errTokenOptions
	}
	maxLen := o.MaxLength
	if maxLen <= 0 {
		maxLen = DefaultMaxTokenLength
	}
	if len(token) > maxLen {
		return errTokenTooLong
	}
	if o.Issuer == "" || o.Audience == "" {
		return errTokenOptions
	}

	// Compact serialisation: three non-empty segments of [A-Za-z0-9_-].
	d1 := strings.IndexByte(token, '.')
	if d1 <= 0 {
		return errTokenMalformed
	}
	d2 := strings.IndexByte(token[d1+1:], '.') + d1 + 1
	if d2 <= d1+1 || d2 == len(token)-1 || strings.IndexByte(token[d2+1:], '.') >= 0 {
		return errTokenMalformed
	}
	if !b64Alphabet(token[:d1]) || !b64Alphabet(token[d1+1:d2]) || !b64Alphabet(token[d2+1:]) {
		return errTokenMalformed
	}

	snap := ks.cur.Load()
	if snap == nil || len(snap.keys) == 0 {
		return errTokenNoKeys
	}

	// Header.
	var buf [2048]byte
	hseg := token[:d1]
	if len(hseg) > maxHeaderB64 {
		return errTokenHeader
	}
	hn, ok := b64Decode(buf[:], hseg)
	if !ok {
		return errTokenMalformed
	}
	hb := buf[:hn]
	h, herr := parseHeader(hb)
	if herr != nil {
		return herr
	}
	if !h.hasAlg {
		return errTokenAlg
	}
	alg := hb[h.alg.a:h.alg.b]
	if asciiEqualFold(alg, "none") {
		return errTokenAlg
	}
	var k *Key
	if h.hasKid {
		kid := hb[h.kid.a:h.kid.b]
		if len(kid) == 0 || len(kid) > MaxKeyIDLength {
			return errTokenKid
		}
		for _, ch := range kid {
			if !kidChar[ch] {
				return errTokenKid
			}
		}
		if k = snap.keys[string(kid)]; k == nil {
			return errTokenKid
		}
	} else if k = snap.sole; k == nil {
		return errTokenKid // no kid while several keys are active
	}
	if string(alg) != k.alg {
		return errTokenAlg
	}
	if !h.hasTyp {
		return errTokenTyp
	}
	if typ := hb[h.typ.a:h.typ.b]; !asciiEqualFold(typ, AccessTokenType) && !asciiEqualFold(typ, "application/"+AccessTokenType) {
		return errTokenTyp
	}

	// Signature, over the raw signing input.
	sseg := token[d2+1:]
	if len(sseg) != k.sigB64Len {
		return errTokenSignature
	}
	var sigBuf [512]byte
	sig := sigBuf[:]
	if k.sigLen > len(sigBuf) {
		sig = make([]byte, k.sigLen)
	}
	if _, ok := b64Decode(sig, sseg); !ok {
		return errTokenMalformed
	}
	if !k.verify(token[:d2], sig[:k.sigLen]) {
		return errTokenSignature
	}

	// Claims, now that they are authentic.
	pseg := token[d1+1 : d2]
	pb := buf[:]
	if pl := b64DecodedLen(len(pseg)); pl > len(buf) {
		pb = make([]byte, pl)
	}
	pn, ok := b64Decode(pb, pseg)
	if !ok {
		return errTokenMalformed
	}
	pb = pb[:pn]
	var listBuf [16]span
	cs, ok := parseClaims(pb, listBuf[:0])
	if !ok {
		if cs.seen&cCnf != 0 {
			return errTokenConfirmation
		}
		return errTokenClaims
	}
	if err := checkClaims(pb, &cs, o); err != nil {
		return err
	}
	if c == nil {
		return nil
	}

	// Success: one string for every claim, one slice for aud and roles.
	str := string(pb)
	list := make([]string, len(cs.list))
	for i, sp := range cs.list {
		list[i] = str[sp.a:sp.b]
	}
	*c = AccessClaims{
		Issuer:    str[cs.iss.a:cs.iss.b],
		Subject:   str[cs.sub.a:cs.sub.b],
		Audience:  list[cs.audAt : cs.audAt+cs.audN : cs.audAt+cs.audN],
		ExpiresAt: cs.exp,
		IssuedAt:  cs.iat,
		NotBefore: cs.nbf,
		AuthTime:  cs.authTime,
		ID:        str[cs.jti.a:cs.jti.b],
		SessionID: str[cs.sid.a:cs.sid.b],
		ClientID:  str[cs.cid.a:cs.cid.b],
	}
	if cs.seen&cRoles != 0 {
		c.Roles = list[cs.rolesAt : cs.rolesAt+cs.rolesN : cs.rolesAt+cs.rolesN]
	}
	return nil
}

// checkClaims applies the presence, issuer, audience and time rules.
func checkClaims(b []byte, cs *claimSpans, o *VerifyOptions) *Error {
	const required = cIss | cSub | cAud | cExp | cIat | cJti | cSid
	if cs.seen&required != required {
		switch {
		case cs.seen&cIss == 0:
			return errTokenIssuer
		case cs.seen&cAud == 0:
			return errTokenAudience
		}
		return errTokenClaims
	}
	if cs.sub.a == cs.sub.b || cs.jti.a == cs.jti.b || cs.sid.a == cs.sid.b {
		return errTokenClaims
	}
	if string(b[cs.iss.a:cs.iss.b]) != o.Issuer {
		return errTokenIssuer
	}
	found := false
	for _, a := range cs.list[cs.audAt : cs.audAt+cs.audN] {
		if string(b[a.a:a.b]) == o.Audience {
			found = true
			break
		}
	}
	if !found {
		return errTokenAudience
	}
	if cs.exp <= cs.iat {
		return errTokenLifetime
	}
	if o.MaxTTL > 0 && cs.exp-cs.iat > int64(o.MaxTTL/time.Second) {
		return errTokenLifetime
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	leeway := min(max(o.Leeway, 0), maxVerifyLeway)
	// With integer claim times t: now+leeway < t  <=>  floor(now+leeway) < t,
	// and now-leeway >= t  <=>  floor(now-leeway) >= t.
	late := now.Add(leeway).Unix()
	if cs.iat > late {
		return errTokenIatFuture
	}
	if cs.seen&cNbf != 0 && cs.nbf > late {
		return errTokenNotYetValid
	}
	if !o.IgnoreExpiry && now.Add(-leeway).Unix() >= cs.exp {
		return errTokenExpired
	}
	return nil
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
