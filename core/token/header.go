package token

// header is the parsed JOSE header: spans into the decoded header bytes.
type header struct {
	alg, kid, typ          span
	hasAlg, hasKid, hasTyp bool
}

// parseHeader accepts exactly the members alg, kid and typ, each a string
// and each at most once; anything else is refused.
func parseHeader(b []byte) (header, Reason) {
	var h header
	fail := ReasonHeader
	s := jsonScanner{b: b}
	ok := s.object(func(name span) bool {
		var dst *span
		var seen *bool
		switch string(b[name.a:name.b]) {
		case "alg":
			dst, seen, fail = &h.alg, &h.hasAlg, ReasonAlg
		case "kid":
			dst, seen, fail = &h.kid, &h.hasKid, ReasonKid
		case "typ":
			dst, seen, fail = &h.typ, &h.hasTyp, ReasonTyp
		default:
			// crit, jku, jwk, x5u, x5c, x5t, x5t#S256, cty, zip, b64, case
			// variants of alg/kid/typ and anything else.
			fail = ReasonHeader
			return false
		}
		if *seen {
			fail = ReasonHeader // duplicate member
			return false
		}
		v, ok := s.str()
		if !ok {
			return false // a non-string (or malformed) value
		}
		*dst, *seen = v, true
		fail = ReasonHeader
		return true
	})
	if !ok {
		return h, fail
	}
	return h, ReasonNone
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
