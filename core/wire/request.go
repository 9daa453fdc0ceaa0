package wire

import (
	"net/netip"
	"strings"

	"github.com/authguard/authguard/core"
)

var (
	errTwoCredentials = newError(core.ErrInvalidRequest, "multiple_credentials")
	errNotBearer      = newError(core.ErrInvalidToken, "malformed_authorization")
)

// bearer extracts the access token from exactly one place: the Authorization
// header (scheme Bearer, case-insensitive) or, when configured, the access
// cookie, which gets the same CSRF defence as cookie transport. Never the
// query string. Two credentials are ErrInvalidRequest. An
// Authorization header of another scheme counts as no bearer credential.
func (s *Server) bearer(r Request) (string, error) {
	tok, scan, err := s.bearerUnscanned(r, false)
	if err == nil && scan && !allToken68(tok) {
		return "", errNotBearer
	}
	return tok, err
}

// bearerUnscanned is bearer, except that a token from the Authorization
// header (scan true) is not yet checked for token68 characters: the caller
// does that with allToken68, unless the core accepted the token (a token it
// accepts passed strict verification, all base64url and dots, so the check
// cannot fail and a cache hit is spared a pass over every byte). When
// another error depends on the request's cookies, the header is judged
// first, as bearer does. With transient, a Request that is a HeaderPeeker
// gives the Authorization header without a copy, and tok is then valid
// only while the request is handled: only the guard, which keeps no part
// of it, asks for that.
func (s *Server) bearerUnscanned(r Request, transient bool) (tok string, scan bool, err error) {
	var first string
	var sent int // Authorization lines
	if pk, ok := r.(HeaderPeeker); ok && transient {
		first, sent = pk.PeekHeader(HeaderAuthorization)
	} else {
		hs := r.HeaderValues(HeaderAuthorization)
		if sent = len(hs); sent > 0 {
			first = hs[0]
		}
	}
	switch sent {
	case 0:
	case 1:
		t, ok, err := parseBearer(first)
		if err != nil {
			return "", false, err
		}
		tok, scan = t, ok
	default:
		return "", false, errTwoCredentials
	}
	if name := s.accessCookie; name != "" {
		n := r.CookieCount(name)
		if n > 0 && scan && !allToken68(tok) {
			return "", false, errNotBearer
		}
		switch {
		case n > 1, n == 1 && sent > 0:
			return "", false, errTwoCredentials
		case n == 1:
			if err := s.checkSameSite(r); err != nil {
				return "", false, err
			}
			v, _ := r.Cookie(name)
			return v, false, nil
		}
	}
	return tok, scan, nil
}

// ParseBearer parses an Authorization header value. It returns ok=false for
// another scheme, and an ErrInvalidToken error for a Bearer header without a
// well-formed token (RFC 6750 b64token: one space, then token68 characters).
func ParseBearer(h string) (token string, ok bool, err error) {
	t, ok, err := parseBearer(h)
	if ok && err == nil && !allToken68(t) {
		return "", true, errNotBearer
	}
	return t, ok, err
}

// parseBearer is ParseBearer without the check of the token's characters.
func parseBearer(h string) (token string, ok bool, err error) {
	const scheme = "bearer"
	if len(h) < len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false, nil
	}
	if len(h) == len(scheme) {
		return "", true, errNotBearer
	}
	if h[len(scheme)] != ' ' {
		return "", false, nil
	}
	t := strings.TrimLeft(h[len(scheme)+1:], " ")
	if t == "" {
		return "", true, errNotBearer
	}
	return t, true, nil
}

// token68 marks with 1 the characters of RFC 6750's b64token.
var token68 = func() (set [256]uint8) {
	for _, c := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/=") {
		set[c] = 1
	}
	return set
}()

// allToken68 reports whether every byte of t is a token68 character. It
// runs over every byte of every bearer token, cached or not, so it ANDs the
// marks of eight bytes at a time and branches once per eight.
func allToken68(t string) bool {
	ok := uint8(1)
	i := 0
	for ; i+8 <= len(t); i += 8 {
		b := t[i : i+8]
		ok &= token68[b[0]] & token68[b[1]] & token68[b[2]] & token68[b[3]] &
			token68[b[4]] & token68[b[5]] & token68[b[6]] & token68[b[7]]
		if ok == 0 {
			return false
		}
	}
	for ; i < len(t); i++ {
		ok &= token68[t[i]]
	}
	return ok == 1
}

// ClientInfo describes the caller: the socket peer's IP unless that peer is a
// trusted proxy, in which case the right-most untrusted X-Forwarded-For hop.
func (s *Server) ClientInfo(r Request) core.ClientInfo {
	return core.ClientInfo{
		IP:        s.clientIP(r),
		UserAgent: r.Header(HeaderUserAgent),
		RequestID: r.Header(HeaderRequestID),
	}
}

func (s *Server) clientIP(r Request) string {
	peer := hostOnly(r.RemoteAddr())
	if len(s.proxies) == 0 {
		return peer
	}
	addr, err := netip.ParseAddr(peer)
	if err != nil || !s.trusted(addr) {
		return peer
	}
	var hops []string
	for _, v := range r.HeaderValues(HeaderForwardedFor) {
		for _, h := range strings.Split(v, ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hostOnly(hops[i]))
		if err != nil {
			return peer
		}
		if !s.trusted(a) {
			return a.Unmap().String()
		}
	}
	return peer
}

func (s *Server) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func hostOnly(addr string) string {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return ap.Addr().Unmap().String()
	}
	if a, err := netip.ParseAddr(strings.Trim(addr, "[]")); err == nil {
		return a.Unmap().String()
	}
	return addr
}
