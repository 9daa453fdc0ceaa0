package token

import (
	"strings"
	"time"
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
	// Tenant is the tenant the subject's account belongs to (the private
	// claim "tenant"), omitted when empty. Verify refuses a tenant claim
	// that is not a string, is empty or is longer than MaxTenantLength.
	Tenant string
}

// MaxTenantLength is the longest tenant claim Sign writes and Verify
// accepts, in bytes.
const MaxTenantLength = 256

// Claim names Verify knows. A member whose name equals one of them under
// Unicode case folding (as encoding/json matches names) without being equal
// is refused, so no other parser can read a different value.
var knownClaims = [...]string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid", "roles", "auth_time", "client_id", "cnf", "tenant"}

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
	cTenant
)

// claimSpans is the parsed claim set, as spans into the decoded payload.
type claimSpans struct {
	seen                    uint16
	iss, sub, jti, sid, cid span
	tenant                  span
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
		switch bit := claimBit(n); {
		case bit == cCnf:
			// A sender-constrained token (RFC 9449 cnf.jkt, RFC 8705
			// cnf.x5t#S256) is never a bearer token.
			cs.seen |= cCnf
			return cs, false
		case bit == 0:
			if !newUnknownClaim(b, n, unknown) {
				return cs, false
			}
			unknown = append(unknown, name)
			ok = s.skip(1)
		case cs.seen&bit != 0:
			return cs, false // duplicate member
		case bit == cAud:
			cs.seen |= bit
			cs.audAt = len(cs.list)
			cs.list, ok = s.audience(cs.list)
			cs.audN = len(cs.list) - cs.audAt
		case bit == cRoles:
			cs.seen |= bit
			cs.rolesAt = len(cs.list)
			cs.list, ok = s.stringArray(cs.list)
			cs.rolesN = len(cs.list) - cs.rolesAt
		default:
			cs.seen |= bit
			ok = cs.read(&s, bit)
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

// claimBit returns the bit of a known claim name, or 0.
func claimBit(n []byte) uint16 {
	switch string(n) {
	case "iss":
		return cIss
	case "sub":
		return cSub
	case "aud":
		return cAud
	case "exp":
		return cExp
	case "nbf":
		return cNbf
	case "iat":
		return cIat
	case "jti":
		return cJti
	case "sid":
		return cSid
	case "roles":
		return cRoles
	case "auth_time":
		return cAuthTime
	case "client_id":
		return cClientID
	case "cnf":
		return cCnf
	case "tenant":
		return cTenant
	}
	return 0
}

// newUnknownClaim reports whether n, the name of a claim Verify does not
// know, is acceptable: neither a case variant of a known claim nor a
// duplicate of an earlier unknown member (the spans in seen).
func newUnknownClaim(b, n []byte, seen []span) bool {
	if len(n) <= 3*len("client_id") {
		for _, k := range knownClaims {
			if strings.EqualFold(string(n), k) {
				return false // case variant of a known claim
			}
		}
	}
	for _, u := range seen {
		if string(b[u.a:u.b]) == string(n) {
			return false // duplicate member
		}
	}
	return true
}

// read reads the value of the known scalar claim bit at s.
func (cs *claimSpans) read(s *jsonScanner, bit uint16) (ok bool) {
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
	case cTenant:
		cs.tenant, ok = s.str()
		// Sign never writes an empty tenant: present means named.
		ok = ok && cs.tenant.a < cs.tenant.b && cs.tenant.b-cs.tenant.a <= MaxTenantLength
	case cExp:
		cs.exp, ok = s.numericDate()
	case cIat:
		cs.iat, ok = s.numericDate()
	case cNbf:
		cs.nbf, ok = s.numericDate()
	case cAuthTime:
		cs.authTime, ok = s.numericDate()
	}
	return ok
}

// audience reads aud, a string or an array of strings, appending the spans
// of its elements to list.
func (s *jsonScanner) audience(list []span) ([]span, bool) {
	if s.peek() != '"' {
		return s.stringArray(list)
	}
	v, ok := s.str()
	if ok {
		list = append(list, v)
	}
	return list, ok
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

// checkClaims applies the presence, issuer, audience and time rules.
func checkClaims(b []byte, cs *claimSpans, o *VerifyOptions) Reason {
	const required = cIss | cSub | cAud | cExp | cIat | cJti | cSid
	if cs.seen&required != required {
		switch {
		case cs.seen&cIss == 0:
			return ReasonIssuer
		case cs.seen&cAud == 0:
			return ReasonAudience
		}
		return ReasonClaims
	}
	if cs.sub.a == cs.sub.b || cs.jti.a == cs.jti.b || cs.sid.a == cs.sid.b {
		return ReasonClaims
	}
	if string(b[cs.iss.a:cs.iss.b]) != o.Issuer {
		return ReasonIssuer
	}
	found := false
	for _, a := range cs.list[cs.audAt : cs.audAt+cs.audN] {
		if string(b[a.a:a.b]) == o.Audience {
			found = true
			break
		}
	}
	if !found {
		return ReasonAudience
	}
	if cs.exp <= cs.iat {
		return ReasonLifetime
	}
	if o.MaxTTL > 0 && cs.exp-cs.iat > int64(o.MaxTTL/time.Second) {
		return ReasonLifetime
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
		return ReasonIatFuture
	}
	if cs.seen&cNbf != 0 && cs.nbf > late {
		return ReasonNotYetValid
	}
	if !o.IgnoreExpiry && now.Add(-leeway).Unix() >= cs.exp {
		return ReasonExpired
	}
	return ReasonNone
}

// fill sets c from the verified claim set in b. It allocates one string for
// every claim and one slice for aud and roles.
func (cs *claimSpans) fill(c *AccessClaims, b []byte) {
	str := string(b)
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
		Tenant:    str[cs.tenant.a:cs.tenant.b],
	}
	if cs.seen&cRoles != 0 {
		c.Roles = list[cs.rolesAt : cs.rolesAt+cs.rolesN : cs.rolesAt+cs.rolesN]
	}
}
