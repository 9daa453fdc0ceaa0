// Package ginauth plugs authguard into a gin server: route guards
// (Require, Optional, RequireRole, RequirePermission, AuthorizeRoute), the
// prebuilt token endpoints (Login, Refresh, Logout, Me, Sessions,
// RevokeSession, RevokeOtherSessions, JWKS) and Mount, which registers all of
// them at once.
//
// Every HTTP decision (status, error code, WWW-Authenticate, JSON body,
// cookies) is taken by package wire; this package only reads the request and
// copies the core's answer onto the wire, so a gin server answers with the
// same bytes as the chi and fiber adapters.
package ginauth

import (
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/wire"
	"github.com/gin-gonic/gin"
)

// principalKey is the gin context key of the authenticated principal.
type principalKey struct{}

// PrincipalFrom returns the principal a guard authenticated for this
// request. It looks in the gin context first, then in the request's
// context (where the guards also store it, and where a net/http middleware
// wrapped around gin may have put it).
func PrincipalFrom(c *gin.Context) (*core.Principal, bool) {
	if v, ok := c.Get(principalKey{}); ok {
		if p, ok := v.(*core.Principal); ok && p != nil {
			return p, true
		}
	}
	if c.Request == nil {
		return nil, false
	}
	return core.PrincipalFromContext(c.Request.Context())
}

// setPrincipal stores p in the gin context and on the request's context, so
// that plain net/http helpers further down the chain see it through
// core.PrincipalFromContext.
func setPrincipal(c *gin.Context, p *core.Principal) {
	c.Set(principalKey{}, p)
	c.Request = c.Request.WithContext(core.ContextWithPrincipal(c.Request.Context(), p))
}

// Write copies a contract response onto the wire: every header added in
// order (Set-Cookie may repeat), then the status, then the body. Nothing is
// added: gin's renderers (which append "; charset=utf-8") are not used.
func Write(c *gin.Context, resp *wire.Response) {
	h := c.Writer.Header()
	for _, kv := range resp.Header {
		h.Add(kv[0], kv[1])
	}
	c.Writer.WriteHeader(resp.Status)
	if len(resp.Body) == 0 {
		c.Writer.WriteHeaderNow()
		return
	}
	_, _ = c.Writer.Write(resp.Body)
}
