// Package fiberauth plugs authguard into a fiber server: route guards
// (Require, Optional, RequireRole, RequirePermission, AuthorizeRoute), the
// prebuilt token endpoints (Login, Refresh, Logout, Me, Sessions,
// RevokeSession, RevokeOtherSessions, JWKS) and Mount, which registers all of
// them at once.
//
// The adapter serves the contract (package wire) directly on fasthttp's
// request, without a net/http bridge. fasthttp reuses its buffers once a
// handler returns, so every string the adapter hands to package wire is a
// copy; the answer is written as raw header lines, so a fiber server answers
// with the same bytes as the chi and gin adapters.
package fiberauth

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"unsafe"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/wire"
	"github.com/gofiber/fiber/v2"
)

// principalKey is the c.Locals key of the authenticated principal.
type principalKey struct{}

// PrincipalFrom returns the principal a guard authenticated for this
// request. It looks in c.Locals first, then in the user context (where the
// guards also store it for code that only gets c.UserContext()).
func PrincipalFrom(c *fiber.Ctx) (*core.Principal, bool) {
	if p, ok := c.Locals(principalKey{}).(*core.Principal); ok && p != nil {
		return p, true
	}
	return core.PrincipalFromContext(c.UserContext())
}

// setPrincipal stores p in c.Locals and in the user context.
func setPrincipal(c *fiber.Ctx, p *core.Principal) {
	c.Locals(principalKey{}, p)
	c.SetUserContext(core.ContextWithPrincipal(c.UserContext(), p))
}

// request is the contract's read-only view of a fasthttp request. Every string
// and byte slice it returns is a copy: fasthttp's buffers (and the unsafe
// strings fiber builds on them) are reused by later requests.
type request struct{ c *fiber.Ctx }

func (q request) Header(name string) string { return string(q.c.Request().Header.Peek(name)) }

// PeekHeader is wire.HeaderPeeker: the first value of the named header as
// a string over fasthttp's own buffer (valid until the handler returns, as
// that interface requires), and how many values were sent. The guard reads
// the Authorization header through it, so a token seen before costs no
// copy.
func (q request) PeekHeader(name string) (string, int) {
	vs := q.c.Request().Header.PeekAll(name)
	if len(vs) == 0 {
		return "", 0
	}
	return unsafe.String(unsafe.SliceData(vs[0]), len(vs[0])), len(vs)
}

func (q request) HeaderValues(name string) []string {
	var out []string
	for _, v := range q.c.Request().Header.PeekAll(name) {
		out = append(out, string(v))
	}
	return out
}

// cookies parses the request's cookies named name with net/http's parser, so
// that exactly the cookies a net/http server (chi) accepts are seen, with the
// same unquoting and the same treatment of malformed pairs.
func (q request) cookies(name string) []*http.Cookie {
	lines := q.HeaderValues("Cookie")
	if len(lines) == 0 {
		return nil
	}
	r := http.Request{Header: http.Header{"Cookie": lines}}
	return r.CookiesNamed(name)
}

func (q request) Cookie(name string) (string, bool) {
	if cs := q.cookies(name); len(cs) > 0 {
		return cs[0].Value, true
	}
	return "", false
}

func (q request) CookieCount(name string) int { return len(q.cookies(name)) }

// RemoteAddr is the socket peer (fasthttp's RemoteAddr is never nil).
func (q request) RemoteAddr() string { return q.c.Context().RemoteAddr().String() }

// Body returns a copy of the raw request body, at most limit bytes; a longer
// body is an error wrapping core.ErrBodyTooLarge. The body is not decoded by
// Content-Encoding (c.Body() would inflate gzip or brotli without a bound, and
// a net/http server does not decode request bodies either). With fiber's
// StreamRequestBody the stream is read up to the limit only.
func (q request) Body(limit int64) ([]byte, error) {
	req := q.c.Request()
	if int64(req.Header.ContentLength()) > limit {
		return nil, tooLarge(limit)
	}
	var b []byte
	if !req.IsBodyStream() {
		b = req.Body() // never for a stream: Body would read all of it
	} else if s, err := io.ReadAll(io.LimitReader(req.BodyStream(), limit+1)); err != nil {
		return nil, fmt.Errorf("fiberauth: read request body: %w", err)
	} else {
		b = s
	}
	if int64(len(b)) > limit {
		return nil, tooLarge(limit)
	}
	return bytes.Clone(b), nil
}

func tooLarge(limit int64) error {
	return fmt.Errorf("fiberauth: request body over %d bytes: %w", limit, core.ErrBodyTooLarge)
}

// Write copies a contract response onto the wire: the status, every header
// added in order as a raw line (Set-Cookie values pass through fasthttp's
// Add untouched, never through its cookie API, which would re-render
// them), then the body. fasthttp copies the header values it is given,
// and the body too: a middleware may edit or append to the response body
// fasthttp holds, and resp may be shared by many requests (an answer built
// once), so fasthttp never gets resp.Body itself (c.Send would hand it over
// uncopied, and an append after it would drop it).
func Write(c *fiber.Ctx, resp *wire.Response) error {
	c.Status(resp.Status)
	h := &c.Response().Header
	for _, kv := range resp.Header {
		h.Add(kv[0], kv[1])
	}
	if len(resp.Body) == 0 {
		c.Response().ResetBody()
		return nil
	}
	c.Response().SetBody(resp.Body)
	return nil
}
