package adaptertest

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/authguard/authguard/core/wire"
)

type tokenSet struct {
	Access           string
	Refresh          string // "" in cookie transport: see Cookie
	SessionID        string
	ExpiresIn        int64
	RefreshExpiresIn int64
	// Cookie is the refresh cookie set in cookie transport.
	Cookie *http.Cookie
}

var (
	refreshTokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43,}$`)
	b64urlRE       = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// Tokens asserts a 200 token response of the contract in JSON transport:
// Content-Type, Cache-Control: no-store, exactly the six fields with their
// JSON types, tokenType Bearer, a JWS access token, a base64url refresh token
// of at least 256 bits, expiresIn equal to the configured access TTL capped
// by the session's remaining life, and no cookie. It registers the secrets.
func (r *response) Tokens() tokenSet {
	r.h.t.Helper()
	return r.tokens(false)
}

// CookieTokens is tokenSet for cookie transport: no refreshToken in the body,
// the refresh token in the refresh cookie with Max-Age = refreshExpiresIn.
func (r *response) CookieTokens() tokenSet {
	r.h.t.Helper()
	return r.tokens(true)
}

func (r *response) tokens(cookieMode bool) tokenSet {
	r.h.t.Helper()
	h := r.h
	r.Want(200)
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		r.fatalf("Content-Type = %q, want application/json", ct)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		r.fatalf("Cache-Control = %q, want no-store", cc)
	}
	if !cookieMode {
		r.NoSetCookie()
	}
	keys := []string{"accessToken", "refreshToken", "tokenType", "expiresIn", "refreshExpiresIn", "sessionId"}
	if cookieMode {
		keys = []string{"accessToken", "tokenType", "expiresIn", "refreshExpiresIn", "sessionId"}
	}
	m := r.Object(keys...)
	str := func(k string) string {
		s, ok := m[k].(string)
		if !ok || s == "" {
			r.fatalf("%s is not a non-empty string", k)
		}
		return s
	}
	num := func(k string) int64 {
		n, ok := m[k].(json.Number)
		if !ok {
			r.fatalf("%s is not a number", k)
		}
		v, err := n.Int64()
		if err != nil || strconv.FormatInt(v, 10) != n.String() {
			r.fatalf("%s = %s is not an integer", k, n)
		}
		return v
	}
	var t tokenSet
	t.Access = str("accessToken")
	if tt := str("tokenType"); tt != "Bearer" {
		r.fatalf("tokenType = %q, want Bearer", tt)
	}
	t.SessionID = str("sessionId")
	t.ExpiresIn = num("expiresIn")
	t.RefreshExpiresIn = num("refreshExpiresIn")
	parts := strings.Split(t.Access, ".")
	if len(parts) != 3 || !b64urlRE.MatchString(parts[0]) || !b64urlRE.MatchString(parts[1]) || !b64urlRE.MatchString(parts[2]) {
		r.fatalf("accessToken is not a compact JWS")
	}
	h.secret(t.Access, "access")
	h.named(t.SessionID, "session")
	if t.RefreshExpiresIn <= 0 {
		r.fatalf("refreshExpiresIn = %d, want > 0", t.RefreshExpiresIn)
	}
	ttl := int64(h.svc.Config().AccessTTL / time.Second)
	if want := min(ttl, t.RefreshExpiresIn); t.ExpiresIn != want {
		r.fatalf("expiresIn = %d, want %d (access TTL capped by the session)", t.ExpiresIn, want)
	}
	if cookieMode {
		t.Cookie = r.RefreshCookie(t.RefreshExpiresIn)
		t.Refresh = ""
	} else {
		t.Refresh = str("refreshToken")
		if !refreshTokenRE.MatchString(t.Refresh) {
			r.fatalf("refreshToken is not base64url of at least 256 bits")
		}
		h.secret(t.Refresh, "refresh")
	}
	return t
}

// RefreshCookie asserts exactly one Set-Cookie: the refresh cookie with the
// contract's attributes and Max-Age maxAge (0: cleared, empty value).
func (r *response) RefreshCookie(maxAge int64) *http.Cookie {
	r.h.t.Helper()
	h := r.h
	vs := r.Header.Values("Set-Cookie")
	if len(vs) != 1 {
		r.fatalf("want exactly one Set-Cookie, got %q", vs)
	}
	raw := vs[0]
	c, err := http.ParseSetCookie(raw)
	if err != nil {
		r.fatalf("Set-Cookie %q does not parse: %v", raw, err)
	}
	cfg := h.svc.Config()
	wantSameSite := http.SameSiteStrictMode
	if cfg.Cookie.SameSite == "Lax" {
		wantSameSite = http.SameSiteLaxMode
	}
	switch {
	case c.Name != wire.RefreshCookieName:
		r.fatalf("cookie name %q, want %q", c.Name, wire.RefreshCookieName)
	case c.Path != cfg.MountPrefix:
		r.fatalf("cookie Path %q, want %q", c.Path, cfg.MountPrefix)
	case !c.HttpOnly || !c.Secure:
		r.fatalf("cookie must be HttpOnly and Secure")
	case c.SameSite != wantSameSite:
		r.fatalf("cookie SameSite %v, want %v", c.SameSite, wantSameSite)
	case c.Domain != "":
		r.fatalf("cookie must not set Domain")
	case !strings.Contains(raw, "Max-Age="+strconv.FormatInt(maxAge, 10)):
		r.fatalf("cookie Max-Age, want %d", maxAge)
	}
	if maxAge == 0 {
		if c.Value != "" {
			r.fatalf("a cleared cookie must have an empty value")
		}
		return c
	}
	if c.MaxAge != int(maxAge) {
		r.fatalf("cookie Max-Age %d, want %d", c.MaxAge, maxAge)
	}
	if !refreshTokenRE.MatchString(c.Value) {
		r.fatalf("cookie value is not a base64url refresh token")
	}
	h.secret(c.Value, "refresh")
	return c
}

// NoSetCookie asserts the answer sets no cookie.
func (r *response) NoSetCookie() *response {
	r.h.t.Helper()
	if vs := r.Header.Values("Set-Cookie"); len(vs) != 0 {
		r.fatalf("unexpected Set-Cookie %q", vs)
	}
	return r
}
