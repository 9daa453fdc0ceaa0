package fiberauth

import (
	"strings"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/wire"
	"github.com/gofiber/fiber/v2"
)

// Mount registers every endpoint of the wire contract on r, in fiber's
// syntax, under the service's configured mount prefix (default /auth), plus
// GET /.well-known/jwks.json:
//
//	POST   /auth/login, /auth/refresh, /auth/logout
//	GET    /auth/me, /auth/sessions
//	DELETE /auth/sessions, /auth/sessions/:id
//
// Call it on the app (not on a group with a prefix), so the paths and the
// refresh cookie's Path agree with the configuration; to serve the endpoints
// elsewhere, set core.Config.MountPrefix ("/v1/auth").
func Mount(r fiber.Router, svc *core.Service) {
	for _, rt := range wire.New(svc).Routes() {
		path := rt.Path
		if rt.Param != "" {
			path += ":" + rt.Param
		}
		r.Add(rt.Method, path, endpoint(svc, rt.Endpoint, rt.Param))
	}
}

// endpoint serves one endpoint of the contract; param names the path
// parameter handed to the core ("" for none).
func endpoint(svc *core.Service, e wire.Endpoint, param string) fiber.Handler {
	srv := wire.New(svc)
	return func(c *fiber.Ctx) error {
		if param == "" && c.Path() != c.Route().Path {
			// fiber's default routing is case-insensitive and ignores a
			// trailing slash; the contract's paths are exact, as on chi and
			// gin ("DELETE /auth/sessions/" must never revoke every session).
			return Write(c, srv.ErrorResponse(core.ErrNotFound))
		}
		var arg string
		if param != "" {
			// c.Params aliases the request buffer unless the app is Immutable.
			arg = strings.Clone(c.Params(param))
		}
		return Write(c, srv.Serve(c.UserContext(), e, request{c}, arg))
	}
}

// Login serves POST {prefix}/login: e-mail and password in, token response out.
func Login(svc *core.Service) fiber.Handler { return endpoint(svc, wire.EndpointLogin, "") }

// Refresh serves POST {prefix}/refresh: rotates the refresh token.
func Refresh(svc *core.Service) fiber.Handler { return endpoint(svc, wire.EndpointRefresh, "") }

// Logout serves POST {prefix}/logout: ends the session (idempotent, 204).
func Logout(svc *core.Service) fiber.Handler { return endpoint(svc, wire.EndpointLogout, "") }

// Me serves GET {prefix}/me: the caller's subject, roles, session and expiry.
func Me(svc *core.Service) fiber.Handler { return endpoint(svc, wire.EndpointMe, "") }

// Sessions serves GET {prefix}/sessions: the caller's sessions.
func Sessions(svc *core.Service) fiber.Handler { return endpoint(svc, wire.EndpointSessions, "") }

// RevokeSession serves DELETE {prefix}/sessions/:id; the route must name its
// parameter "id".
func RevokeSession(svc *core.Service) fiber.Handler {
	return endpoint(svc, wire.EndpointRevokeSession, "id")
}

// RevokeOtherSessions serves DELETE {prefix}/sessions: revokes every session
// of the caller except the current one.
func RevokeOtherSessions(svc *core.Service) fiber.Handler {
	return endpoint(svc, wire.EndpointRevokeOtherSessions, "")
}

// JWKS serves GET /.well-known/jwks.json: the public verification keys (404
// when only a symmetric key is configured).
func JWKS(svc *core.Service) fiber.Handler { return endpoint(svc, wire.EndpointJWKS, "") }
