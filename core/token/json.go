package token

import (
	"unicode/utf16"
	"unicode/utf8"
)

// A small strict JSON scanner for JWT headers and claim sets (RFC 8259). It
// works in place on a decoded segment: strings are unescaped into the bytes
// they occupied (an escape never grows), so names and values are returned as
// spans of the same buffer and nothing is allocated. It rejects invalid
// UTF-8 (and lone surrogate escapes), unescaped control characters, leading
// zeros, trailing data and nesting deeper than maxJSONDepth.

const maxJSONDepth = 32

// span is a [a, b) byte range of the buffer being scanned.
type span struct{ a, b int }

// jsonPlain marks the bytes a string can hold as they are: printable ASCII
// other than the quote and the backslash.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

type jsonScanner struct {
	b []byte
	i int
}

func (s *jsonScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next byte, or 0 at the end.
func (s *jsonScanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// consume skips whitespace and then c, reporting whether c was there.
func (s *jsonScanner) consume(c byte) bool {
	s.ws()
	if s.peek() != c {
		return false
	}
	s.i++
	return true
}

// atEnd skips whitespace and reports whether the input is exhausted.
func (s *jsonScanner) atEnd() bool {
	s.ws()
	return s.i == len(s.b)
}

func hexVal(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// hex4 reads the four hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		v := hexVal(c)
		if v < 0 {
			return 0, false
		}
		r = r<<4 | v
	}
	return r, true
}

// str reads the string at s.i (which must be '"'), unescaping it in place,
// and returns the span of its decoded content.
func (s *jsonScanner) str() (span, bool) {
	b := s.b
	if s.i >= len(b) || b[s.i] != '"' {
		return span{}, false
	}
	start := s.i + 1
	i := start
	// Fast path: nothing to unescape.
	for i < len(b) {
		for i < len(b) && jsonPlain[b[i]] {
			i++
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		switch {
		case c == '"':
			s.i = i + 1
			return span{start, i}, true
		case c == '\\':
			return s.strEscaped(start, i)
		case c < 0x20:
			return span{}, false
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return span{}, false
			}
			i += size
		}
	}
	return span{}, false
}

// strEscaped goes on with str from b[i], the first backslash of the string
// whose content starts at start, unescaping in place.
func (s *jsonScanner) strEscaped(start, i int) (span, bool) {
	b := s.b
	w := i
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			s.i = i + 1
			return span{start, w}, true
		case c == '\\':
			var ok bool
			if i, w, ok = unescape(b, i, w); !ok {
				return span{}, false
			}
		case c < 0x20:
			return span{}, false
		case c < utf8.RuneSelf:
			b[w] = c
			w++
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return span{}, false
			}
			w += copy(b[w:], b[i:i+size])
			i += size
		}
	}
	return span{}, false
}

// unescape decodes the escape sequence at b[i] (a backslash), writes its
// UTF-8 encoding at b[w] (never past i) and returns the next read and write
// positions.
func unescape(b []byte, i, w int) (int, int, bool) {
	if i+1 >= len(b) {
		return i, w, false
	}
	var out byte
	switch b[i+1] {
	case '"', '\\', '/':
		out = b[i+1]
	case 'b':
		out = '\b'
	case 'f':
		out = '\f'
	case 'n':
		out = '\n'
	case 'r':
		out = '\r'
	case 't':
		out = '\t'
	case 'u':
		r, ok := hex4(b, i+2)
		if !ok {
			return i, w, false
		}
		i += 6
		if utf16.IsSurrogate(r) {
			if r >= 0xdc00 || i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' {
				return i, w, false // lone surrogate
			}
			r2, ok := hex4(b, i+2)
			if !ok || r2 < 0xdc00 || r2 > 0xdfff {
				return i, w, false
			}
			r = utf16.DecodeRune(r, r2)
			i += 6
		}
		return i, w + utf8.EncodeRune(b[w:], r), true
	default:
		return i, w, false
	}
	b[w] = out
	return i + 2, w + 1, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// number reads a JSON number at s.i and returns its span.
func (s *jsonScanner) number() (span, bool) {
	b := s.b
	start, i := s.i, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return span{}, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return span{}, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return span{}, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	s.i = i
	return span{start, i}, true
}

func (s *jsonScanner) literal(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

// skip reads and discards one value of any type at s.i (after whitespace).
func (s *jsonScanner) skip(depth int) bool {
	s.ws()
	switch s.peek() {
	case '"':
		_, ok := s.str()
		return ok
	case '{':
		if depth >= maxJSONDepth {
			return false
		}
		s.i++
		if s.consume('}') {
			return true
		}
		for {
			s.ws()
			if _, ok := s.str(); !ok || !s.consume(':') || !s.skip(depth+1) {
				return false
			}
			if s.consume(',') {
				continue
			}
			return s.consume('}')
		}
	case '[':
		if depth >= maxJSONDepth {
			return false
		}
		s.i++
		if s.consume(']') {
			return true
		}
		for {
			if !s.skip(depth + 1) {
				return false
			}
			if s.consume(',') {
				continue
			}
			return s.consume(']')
		}
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		_, ok := s.number()
		return ok
	}
}

// stringArray reads an array of strings at s.i (after whitespace) and
// appends the spans of its elements to list.
func (s *jsonScanner) stringArray(list []span) ([]span, bool) {
	if !s.consume('[') {
		return list, false
	}
	if s.consume(']') {
		return list, true
	}
	for {
		s.ws()
		v, ok := s.str()
		if !ok {
			return list, false
		}
		list = append(list, v)
		if s.consume(',') {
			continue
		}
		return list, s.consume(']')
	}
}

// object drives the member loop of an object: it must be called with
// s.i at the opening brace. For each member it reads the name and the colon
// and calls member with the name span and s.i at the value (after
// whitespace); member must consume the value. It fails on malformed input,
// on a false return from member, and on trailing data after the object.
func (s *jsonScanner) object(member func(name span) bool) bool {
	if !s.consume('{') {
		return false
	}
	if !s.consume('}') {
		for {
			s.ws()
			name, ok := s.str()
			if !ok || !s.consume(':') {
				return false
			}
			s.ws()
			if !member(name) {
				return false
			}
			if s.consume(',') {
				continue
			}
			if !s.consume('}') {
				return false
			}
			break
		}
	}
	return s.atEnd()
}

// validJSONObject reports whether b is one strict JSON object (used by tests
// and fuzzing as the reference for the scanner; it modifies b).
func validJSONObject(b []byte) bool {
	s := jsonScanner{b: b}
	return s.object(func(span) bool { return s.skip(1) })
}
