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

// PrincipalFrom returns the principal a guard authenticated for this
// request: the guards store it in the request's context (c.Request), where
// a net/http middleware wrapped around gin may also have put it, and where
// core.PrincipalFromContext(c.Request.Context()) finds it too.
func PrincipalFrom(c *gin.Context) (*core.Principal, bool) {
	if c.Request == nil {
		return nil, false
	}
	return core.PrincipalFromContext(c.Request.Context())
}

// setPrincipal stores p on the request's context, so that PrincipalFrom and
// plain net/http helpers further down the chain (core.PrincipalFromContext)
// see it. It does not use c.Set: gin would make the context's Keys map for
// it on every request.
func setPrincipal(c *gin.Context, p *core.Principal) {
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
