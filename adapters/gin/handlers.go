package ginauth

import (
	"fmt"
	"strings"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/httpauth"
	"github.com/authguard/authguard/core/wire"
	"github.com/gin-gonic/gin"
)

// Mount registers every endpoint of the wire contract on r, in gin's syntax,
// under the service's configured mount prefix (default /auth), plus
// GET /.well-known/jwks.json:
//
//	POST   /auth/login, /auth/refresh, /auth/logout
//	GET    /auth/me, /auth/sessions
//	DELETE /auth/sessions, /auth/sessions/:id
//
// r may be the engine or a group: on r.Group("/api/v1") the configured
// prefix must lie under the group's (core.Config.MountPrefix =
// "/api/v1/auth"), so that the routes and the refresh cookie's Path agree,
// and the JWKS route, outside the group, is left to the caller
// (r.GET("/.well-known/jwks.json", ginauth.JWKS(svc)) on the engine).
//
// Every path under DELETE {prefix}/sessions/ is served by the contract (one
// segment is a session id; none, as in "/auth/sessions/", or more, as in
// "/auth/sessions/./", are 404): gin's trailing-slash redirect would
// otherwise send some of them with 307 to DELETE {prefix}/sessions, which
// revokes every other session of a client that follows it.
//
// Mount panics, like http.ServeMux.Handle, on a setup that would serve the
// contract wrongly: a group whose prefix the configured mount prefix is not
// under (the error wraps core.ErrConfig and names the MountPrefix to set),
// or an engine with RedirectFixedPath on (it redirects DELETE /AUTH/SESSIONS
// and //auth/sessions to DELETE /auth/sessions).
func Mount(r gin.IRoutes, svc *core.Service) {
	srv := wire.New(svc)
	if e, ok := r.(*gin.Engine); ok && e.RedirectFixedPath {
		panic(fmt.Errorf("ginauth: Mount: %w: the engine's RedirectFixedPath redirects DELETE /AUTH/SESSIONS to DELETE %s/sessions "+
			"(revoking every other session): set engine.RedirectFixedPath = false", core.ErrConfig, svc.Config().MountPrefix))
	}
	var base string
	if g, ok := r.(interface{ BasePath() string }); ok {
		base = g.BasePath()
	}
	routes, err := srv.RoutesUnder(base)
	if err != nil {
		panic(fmt.Errorf("ginauth: Mount: %w", err))
	}
	for _, rt := range routes {
		if rt.Param != "" {
			// A catch-all, so that no path under {prefix}/sessions/ is left
			// to gin's redirects: one segment is the id, more are 404.
			r.Handle(rt.Method, rt.Path+"*"+rt.Param, serveRest(srv, rt.Endpoint, rt.Param))
			continue
		}
		r.Handle(rt.Method, rt.Path, serve(srv, rt.Endpoint, rt.Param))
	}
}

// MountRoleAdmin registers the role administration over a (the rbac
// module's *rbac.RoleAdmin, or any wire.RoleAdmin) on r, under the
// service's configured mount prefix:
//
//	GET    /auth/admin/roles/:subject        permission roles/read
//	PUT    /auth/admin/roles/:subject/:role  permission roles/write
//	DELETE /auth/admin/roles/:subject/:role  permission roles/write
//
// r may be the engine or a group, with the same rule as Mount (a group the
// configured prefix is not under panics with an error wrapping
// core.ErrConfig). The subject and the role are read from the path as
// sent, so gin's decoding and slash cleaning change nothing.
func MountRoleAdmin(r gin.IRoutes, svc *core.Service, a wire.RoleAdmin) {
	srv := wire.New(svc)
	var base string
	if g, ok := r.(interface{ BasePath() string }); ok {
		base = g.BasePath()
	}
	if _, err := srv.RoutesUnder(base); err != nil {
		panic(fmt.Errorf("ginauth: MountRoleAdmin: %w", err))
	}
	path := strings.TrimPrefix(srv.RoleAdminPath(), strings.TrimSuffix(base, "/")) + "*rest"
	h := func(c *gin.Context) {
		Write(c, srv.ServeRoleAdmin(c.Request.Context(), a, c.Request.Method, httpauth.Request(c.Request), c.Request.URL.EscapedPath()))
	}
	for _, m := range [...]string{"GET", "PUT", "DELETE"} {
		r.Handle(m, path, h)
	}
}

// endpoint serves one endpoint of the contract; param names the path
// parameter handed to the core ("" for none).
func endpoint(svc *core.Service, e wire.Endpoint, param string) gin.HandlerFunc {
	return serve(wire.New(svc), e, param)
}

func serve(srv *wire.Server, e wire.Endpoint, param string) gin.HandlerFunc {
	return func(c *gin.Context) {
		var arg string
		if param != "" {
			arg = c.Param(param)
		} else if c.Request.URL.EscapedPath() != c.FullPath() {
			// gin routes on the decoded, and with RemoveExtraSlash the
			// cleaned, path: /auth%2Fsessions or //auth/sessions must not
			// reach DELETE /auth/sessions.
			Write(c, srv.ErrorResponse(core.ErrNotFound))
			return
		}
		Write(c, srv.Serve(c.Request.Context(), e, httpauth.Request(c.Request), arg))
	}
}

// serveRest serves an endpoint whose parameter is the catch-all param: the
// rest of the path after the route's slash, which must be one segment.
func serveRest(srv *wire.Server, e wire.Endpoint, param string) gin.HandlerFunc {
	return func(c *gin.Context) {
		arg := strings.TrimPrefix(c.Param(param), "/")
		base := strings.TrimSuffix(c.FullPath(), "*"+param)
		if strings.Contains(arg, "/") || !strings.HasPrefix(c.Request.URL.EscapedPath(), base) {
			Write(c, srv.ErrorResponse(core.ErrNotFound))
			return
		}
		Write(c, srv.Serve(c.Request.Context(), e, httpauth.Request(c.Request), arg))
	}
}

// Login serves POST {prefix}/login: e-mail and password in, token response out.
func Login(svc *core.Service) gin.HandlerFunc { return endpoint(svc, wire.EndpointLogin, "") }

// Refresh serves POST {prefix}/refresh: rotates the refresh token.
func Refresh(svc *core.Service) gin.HandlerFunc { return endpoint(svc, wire.EndpointRefresh, "") }

// Logout serves POST {prefix}/logout: ends the session (idempotent, 204).
func Logout(svc *core.Service) gin.HandlerFunc { return endpoint(svc, wire.EndpointLogout, "") }

// Me serves GET {prefix}/me: the caller's subject, roles, session and expiry.
func Me(svc *core.Service) gin.HandlerFunc { return endpoint(svc, wire.EndpointMe, "") }

// Sessions serves GET {prefix}/sessions: the caller's sessions.
func Sessions(svc *core.Service) gin.HandlerFunc { return endpoint(svc, wire.EndpointSessions, "") }

// RevokeSession serves DELETE {prefix}/sessions/:id; the route must name its
// parameter "id".
func RevokeSession(svc *core.Service) gin.HandlerFunc {
	return endpoint(svc, wire.EndpointRevokeSession, "id")
}

// RevokeOtherSessions serves DELETE {prefix}/sessions: revokes every session
// of the caller except the current one.
func RevokeOtherSessions(svc *core.Service) gin.HandlerFunc {
	return endpoint(svc, wire.EndpointRevokeOtherSessions, "")
}

// JWKS serves GET /.well-known/jwks.json: the public verification keys (404
// when only a symmetric key is configured).
func JWKS(svc *core.Service) gin.HandlerFunc { return endpoint(svc, wire.EndpointJWKS, "") }

// NotFound answers the contract's 404 not_found JSON; install it with
// r.NoRoute(ginauth.NotFound(svc)) so paths no route matches (/auth//sessions,
// /AUTH/SESSIONS) get the contract's answer.
func NotFound(svc *core.Service) gin.HandlerFunc {
	resp := wire.New(svc).ErrorResponse(core.ErrNotFound)
	return func(c *gin.Context) { Write(c, resp) }
}
