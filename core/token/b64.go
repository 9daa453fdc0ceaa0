package token

// A strict, allocation-free base64url decoder for JWS segments. It accepts
// what base64.RawURLEncoding.Strict() accepts, except that line breaks
// (which the stdlib skips) are refused too (FuzzBase64Decode checks the
// equivalence): the URL-safe alphabet, no padding, no whitespace, and zero
// bits after the last full byte.

const b64Invalid = 0xff

var b64Table = func() (t [256]byte) {
	for i := range t {
		t[i] = b64Invalid
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// b64DecodedLen is the decoded size of n unpadded base64url characters.
func b64DecodedLen(n int) int { return n/4*3 + n%4*3/4 }

// b64Decode decodes src into dst, which must hold b64DecodedLen(len(src))
// bytes, and returns the number of bytes written.
func b64Decode(dst []byte, src string) (int, bool) {
	n := 0
	i := 0
	for ; i+4 <= len(src); i += 4 {
		a, b, c, d := b64Table[src[i]], b64Table[src[i+1]], b64Table[src[i+2]], b64Table[src[i+3]]
		if (a|b|c|d)&0xc0 != 0 {
			return 0, false
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		d3 := dst[n : n+3 : n+3]
		d3[0], d3[1], d3[2] = byte(v>>16), byte(v>>8), byte(v)
		n += 3
	}
	switch len(src) - i {
	case 0:
	case 2:
		a, b := b64Table[src[i]], b64Table[src[i+1]]
		if (a|b)&0xc0 != 0 || b&0x0f != 0 {
			return 0, false
		}
		dst[n] = a<<2 | b>>4
		n++
	case 3:
		a, b, c := b64Table[src[i]], b64Table[src[i+1]], b64Table[src[i+2]]
		if (a|b|c)&0xc0 != 0 || c&0x03 != 0 {
			return 0, false
		}
		d2 := dst[n : n+2 : n+2]
		d2[0], d2[1] = a<<2|b>>4, b<<4|c>>2
		n += 2
	default:
		return 0, false
	}
	return n, true
}

// b64Alphabet reports whether s holds only base64url characters.
func b64Alphabet(s string) bool {
	var acc byte
	i := 0
	for ; i+4 <= len(s); i += 4 {
		acc |= b64Table[s[i]] | b64Table[s[i+1]] | b64Table[s[i+2]] | b64Table[s[i+3]]
	}
	for ; i < len(s); i++ {
		acc |= b64Table[s[i]]
	}
	return acc&0xc0 == 0
}
