package ginauth

import (
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/httpauth"
	"github.com/authguard/authguard/core/wire"
	"github.com/gin-gonic/gin"
)

// guard runs g on every request: the principal of an outer guard is
// reused, a freshly authenticated one is stored (see PrincipalFrom), and a
// refusal aborts the chain with the contract's answer.
func guard(g *wire.Guard) gin.HandlerFunc {
	return func(c *gin.Context) {
		outer, _ := PrincipalFrom(c)
		route := func() (string, string, bool) {
			p := RoutePattern(c)
			return p, c.Request.Method, p != ""
		}
		p, resp := g.Check(c.Request.Context(), httpauth.Request(c.Request), outer, route)
		if resp != nil {
			c.Abort()
			Write(c, resp)
			return
		}
		if p != nil && p != outer {
			setPrincipal(c, p)
		}
	}
}

// Require authenticates the request with its access token (Authorization:
// Bearer, or the access cookie when the service enables one). Without a
// valid credential it aborts with 401 (400 for two credentials, 503 when the
// session store cannot be trusted); otherwise the principal is available to
// later handlers through PrincipalFrom and core.PrincipalFromContext. A
// principal already stored by an outer guard is reused.
func Require(svc *core.Service) gin.HandlerFunc { return guard(wire.New(svc).Require()) }

// Optional lets anonymous requests through without a principal and
// authenticates the others: a credential that is present but invalid is
// refused exactly as by Require. A principal already stored by an outer
// guard is reused.
func Optional(svc *core.Service) gin.HandlerFunc { return guard(wire.New(svc).Optional()) }

// RequireRole lets the request through when the principal has at least one
// of roles, and aborts with 403 insufficient_scope otherwise. It reuses the
// principal of an outer guard and authenticates the request itself (as
// Require) when there is none.
func RequireRole(svc *core.Service, roles ...string) gin.HandlerFunc {
	return guard(wire.New(svc).RequireRole(roles...))
}

// RequireRecentAuth is the step-up guard of sensitive operations (changing
// e-mail, password or MFA; deleting the account): the user must have logged
// in with a password within maxAge (the token's auth_time, which refreshes
// never move), else 403 insufficient_scope; the client's answer is a new
// login, not a refresh. The principal is reused or authenticated as by
// RequireRole.
func RequireRecentAuth(svc *core.Service, maxAge time.Duration) gin.HandlerFunc {
	return guard(wire.New(svc).RequireRecentAuth(maxAge))
}

// RequirePermission asks the service's Authorizer whether the principal may
// perform action on object: 403 insufficient_scope when denied, 503 when the
// Authorizer fails. The principal is reused or authenticated as by
// RequireRole.
func RequirePermission(svc *core.Service, object, action string) gin.HandlerFunc {
	return guard(wire.New(svc).RequirePermission(object, action))
}

// AuthorizeRoute is RequirePermission with the matched route pattern as the
// object (RoutePattern: "/api/reports/:id", never the raw path
// "/api/reports/42") and the request method as the action, the shape of a
// casbin RESTful (keyMatch) policy. gin matches the route before any handler
// runs, so it works with Use on the engine or a group as well as on a route.
// A request that matched no route (gin's NoRoute and NoMethod handlers) has
// no pattern and is refused with 403 (fail closed).
func AuthorizeRoute(svc *core.Service) gin.HandlerFunc { return guard(wire.New(svc).AuthorizeRoute()) }

// RoutePattern returns the full pattern of the gin route that serves the
// request ("/api/reports/:id"), or "" when no route matched.
func RoutePattern(c *gin.Context) string { return c.FullPath() }
