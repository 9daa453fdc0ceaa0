package ginauth

import (
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
// Call it on the engine (not on a group with a prefix), so the paths and the
// refresh cookie's Path agree with the configuration; to serve the endpoints
// elsewhere, set core.Config.MountPrefix ("/v1/auth").
func Mount(r gin.IRoutes, svc *core.Service) {
	srv := wire.New(svc)
	for _, rt := range srv.Routes() {
		path := rt.Path
		if rt.Param != "" {
			path += ":" + rt.Param
		}
		r.Handle(rt.Method, path, serve(srv, rt.Endpoint, rt.Param))
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
