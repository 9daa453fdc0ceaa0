package fiberauth

import (
	"errors"
	"fmt"
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
// r may be the app or a group: on app.Group("/api/v1") the configured
// prefix must lie under the group's (core.Config.MountPrefix =
// "/api/v1/auth"), so that the routes and the refresh cookie's Path agree,
// and the JWKS route, outside the group, is left to the caller
// (app.Get("/.well-known/jwks.json", fiberauth.JWKS(svc))). Like
// http.ServeMux.Handle, Mount panics (with an error wrapping core.ErrConfig
// that names the MountPrefix to set) on a group the prefix is not under.
func Mount(r fiber.Router, svc *core.Service) {
	var base string
	if g, ok := r.(*fiber.Group); ok {
		base = g.Prefix
	}
	routes, err := wire.New(svc).RoutesUnder(base)
	if err != nil {
		panic(fmt.Errorf("fiberauth: Mount: %w", err))
	}
	for _, rt := range routes {
		if rt.Param != "" {
			rt.Path += ":" + rt.Param
		}
		r.Add(rt.Method, rt.Path, endpoint(svc, rt.Endpoint, rt.Param))
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
// r may be the app or a group, with the same rule as Mount (a group the
// configured prefix is not under panics with an error wrapping
// core.ErrConfig). The subject and the role are read from the path as
// sent, so fiber's case-insensitive, slash-tolerant routing changes nothing.
func MountRoleAdmin(r fiber.Router, svc *core.Service, a wire.RoleAdmin) {
	srv := wire.New(svc)
	var base string
	if g, ok := r.(*fiber.Group); ok {
		base = g.Prefix
	}
	if _, err := srv.RoutesUnder(base); err != nil {
		panic(fmt.Errorf("fiberauth: MountRoleAdmin: %w", err))
	}
	path := strings.TrimPrefix(srv.RoleAdminPath(), strings.TrimSuffix(base, "/")) + "*"
	h := func(c *fiber.Ctx) error {
		// string() copies: the path aliases fasthttp's request buffer.
		raw := string(c.Request().URI().PathOriginal())
		return Write(c, srv.ServeRoleAdmin(c.UserContext(), a, c.Method(), request{c}, raw))
	}
	for _, m := range [...]string{"GET", "PUT", "DELETE"} {
		r.Add(m, path, h)
	}
}

// ErrorHandler returns a fiber.Config.ErrorHandler that answers
// fiber.ErrRequestEntityTooLarge with the contract's 413 JSON and hands every
// other error to next (fiber.DefaultErrorHandler when nil). fasthttp refuses
// a body over fiber.Config.BodyLimit (default 4 MiB) itself, before any
// handler runs (for a chunked body, after dropping the request's path), and
// fiber's default handler answers that in plain text; the endpoints answer a
// body over 64 KiB themselves.
//
//	app := fiber.New(fiber.Config{ErrorHandler: fiberauth.ErrorHandler(svc, nil)})
func ErrorHandler(svc *core.Service, next fiber.ErrorHandler) fiber.ErrorHandler {
	srv := wire.New(svc)
	if next == nil {
		next = fiber.DefaultErrorHandler
	}
	return func(c *fiber.Ctx, err error) error {
		if errors.Is(err, fiber.ErrRequestEntityTooLarge) {
			return Write(c, srv.ErrorResponse(core.ErrBodyTooLarge))
		}
		return next(c, err)
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
		// c.Params aliases the request buffer unless the app is Immutable
		// ("" for no parameter).
		return Write(c, srv.Serve(c.UserContext(), e, request{c}, strings.Clone(c.Params(param))))
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

// NotFound answers the contract's 404 not_found JSON; register it last, with
// app.Use(fiberauth.NotFound(svc)), so paths no route matches get the
// contract's answer.
func NotFound(svc *core.Service) fiber.Handler {
	return func(c *fiber.Ctx) error { return Write(c, wire.New(svc).ErrorResponse(core.ErrNotFound)) }
}
