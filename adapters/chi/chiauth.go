// Package chiauth plugs authguard into go-chi/chi v5 routers: guards as chi
// middleware, the prebuilt token endpoints mounted in chi's path syntax, and
// AuthorizeRoute, which authorises the matched route pattern (not the raw
// path) for casbin-style policies.
//
// chiauth is a thin layer over the net/http adapter
// github.com/authguard/authguard/core/httpauth: the core decides every byte
// of every answer, so a chi server serves exactly what the gin and fiber
// adapters serve.
package chiauth

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/httpauth"
	"github.com/authguard/authguard/core/wire"
)

// Require is the guard of routes that need a valid access token
// (Authorization: Bearer, or the access cookie when the service enables one;
// never the query string). It answers 401 without a valid one, 400 for two
// credentials and 503 when the revocation feed is stale. The principal is
// then in the request context (PrincipalFrom).
//
//	r.With(chiauth.Require(svc)).Get("/api/profile", profile)
func Require(svc *core.Service) func(http.Handler) http.Handler { return httpauth.Require(svc) }

// Optional is the guard of routes that also serve anonymous callers: no
// credential passes with no principal; an invalid credential is still 401.
func Optional(svc *core.Service) func(http.Handler) http.Handler { return httpauth.Optional(svc) }

// RequireRole is Require plus a role check: the principal must carry at
// least one of roles, else 403 insufficient_scope. It reuses the principal
// of an outer guard.
func RequireRole(svc *core.Service, roles ...string) func(http.Handler) http.Handler {
	return httpauth.RequireRole(svc, roles...)
}

// RequirePermission is Require plus a check through the service's
// Authorizer that the principal may perform action on object: 403
// insufficient_scope when denied, 503 when the Authorizer fails.
func RequirePermission(svc *core.Service, object, action string) func(http.Handler) http.Handler {
	return httpauth.RequirePermission(svc, object, action)
}

// RequireRecentAuth is the step-up guard of sensitive operations: Require
// plus a password login within maxAge, else 403 insufficient_scope (see
// httpauth.RequireRecentAuth).
func RequireRecentAuth(svc *core.Service, maxAge time.Duration) func(http.Handler) http.Handler {
	return httpauth.RequireRecentAuth(svc, maxAge)
}

// AuthorizeRoute is Require plus a permission check whose object is the
// pattern of the chi route that matches the request ("/api/reports/{id}",
// never the raw path "/api/reports/42") and whose action is the HTTP method,
// the shape of a casbin RESTful (keyMatch) policy. It works wherever it is
// installed: Use on the root router or a sub-router (before chi has finished
// routing, the pattern is looked up in the routing tree) or With on a route.
// A request that matches no route is refused with 403 (fail closed).
//
//	r.Use(chiauth.AuthorizeRoute(svc))
func AuthorizeRoute(svc *core.Service) func(http.Handler) http.Handler {
	return httpauth.Authorize(svc, routeObject)
}

func routeObject(r *http.Request) (string, string, bool) {
	p := RoutePattern(r)
	return p, r.Method, p != ""
}

// RoutePattern returns the full pattern of the chi route that serves r
// ("/api/reports/{id}"), also from middleware that runs before chi has
// finished routing; "" when no route matches or r was not routed by chi.
func RoutePattern(r *http.Request) string {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil {
		return ""
	}
	// Routing is complete once the last pattern is an endpoint, not the
	// "/*" of a sub-router on the way down.
	if n := len(rctx.RoutePatterns); n > 0 && !strings.HasSuffix(rctx.RoutePatterns[n-1], "/*") {
		return rctx.RoutePattern()
	}
	if rctx.Routes == nil {
		return ""
	}
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	if path == "" {
		path = "/"
	}
	return rctx.Routes.Find(chi.NewRouteContext(), r.Method, path)
}

// Login serves POST {prefix}/login.
func Login(svc *core.Service) http.Handler { return httpauth.Login(svc) }

// Refresh serves POST {prefix}/refresh.
func Refresh(svc *core.Service) http.Handler { return httpauth.Refresh(svc) }

// Logout serves POST {prefix}/logout (204, idempotent).
func Logout(svc *core.Service) http.Handler { return httpauth.Logout(svc) }

// Me serves GET {prefix}/me (it authenticates the request itself).
func Me(svc *core.Service) http.Handler { return httpauth.Me(svc) }

// Sessions serves GET {prefix}/sessions (it authenticates the request itself).
func Sessions(svc *core.Service) http.Handler { return httpauth.Sessions(svc) }

// RevokeSession serves DELETE {prefix}/sessions/{id}; the session id is the
// chi URL parameter "id".
func RevokeSession(svc *core.Service) http.Handler {
	return httpauth.RevokeSession(svc, func(r *http.Request) string { return chi.URLParam(r, "id") })
}

// RevokeOtherSessions serves DELETE {prefix}/sessions.
func RevokeOtherSessions(svc *core.Service) http.Handler { return httpauth.RevokeOtherSessions(svc) }

// JWKS serves GET /.well-known/jwks.json (404 with only a symmetric key).
func JWKS(svc *core.Service) http.Handler { return httpauth.JWKS(svc) }

// NotFound answers the contract's 404 not_found JSON; install it with
// r.NotFound(chiauth.NotFound(svc)) so paths no route matches (DELETE
// /auth/sessions/, /AUTH/SESSIONS) get the contract's answer.
func NotFound(svc *core.Service) http.HandlerFunc { return httpauth.NotFound(svc).ServeHTTP }

// Mount registers every route of the contract (wire.Server.Routes) on r, in chi's syntax, under
// the service's configured mount prefix (default /auth), plus
// GET /.well-known/jwks.json:
//
//	POST   /auth/login, /auth/refresh, /auth/logout
//	GET    /auth/me, /auth/sessions
//	DELETE /auth/sessions, /auth/sessions/{id}
//
// Call it on the root router, not under a Route, Mount or Group prefix: chi
// does not expose a sub-router's prefix, so the routes would move while the
// refresh cookie's Path stays the configured prefix, and browsers would
// never send the cookie to the refresh endpoint. To serve the endpoints
// under /api/v1, set core.Config.MountPrefix = "/api/v1/auth" and call
// Mount on the root router.
func Mount(r chi.Router, svc *core.Service) {
	for _, rt := range wire.New(svc).Routes() {
		path := rt.Path
		var param func(*http.Request) string
		if rt.Param != "" {
			name := rt.Param
			path += "{" + name + "}"
			param = func(r *http.Request) string { return chi.URLParam(r, name) }
		}
		h := httpauth.Handler(svc, rt.Endpoint, param)
		if param == nil {
			h = exact(svc, h)
		}
		r.Method(rt.Method, path, h)
	}
}

// exact answers 404 unless the request's path, as sent, is the pattern of the
// route that serves it: a middleware that rewrites the routing path
// (middleware.StripSlashes, CleanPath) must not turn DELETE /auth/sessions/
// into DELETE /auth/sessions, which revokes every other session.
func exact(svc *core.Service, next http.Handler) http.Handler {
	notFound := httpauth.NotFound(svc)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rctx := chi.RouteContext(r.Context()); rctx != nil && r.URL.EscapedPath() != rctx.RoutePattern() {
			notFound.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// PrincipalFrom returns the principal a guard stored in ctx.
func PrincipalFrom(ctx context.Context) (*core.Principal, bool) { return httpauth.PrincipalFrom(ctx) }

// MountRoleAdmin registers the role administration over a (the rbac
// module's *rbac.RoleAdmin, or any wire.RoleAdmin) on r, the root router,
// under the service's configured mount prefix:
//
//	GET    /auth/admin/roles/{subject}         permission roles/read
//	PUT    /auth/admin/roles/{subject}/{role}  permission roles/write
//	DELETE /auth/admin/roles/{subject}/{role}  permission roles/write
//
// The subject and the role are read from the path as sent, so a routing
// middleware that cleans or decodes the path changes nothing.
func MountRoleAdmin(r chi.Router, svc *core.Service, a wire.RoleAdmin) {
	h := httpauth.RoleAdmin(svc, a)
	base := wire.New(svc).RoleAdminPath()
	for _, m := range [...]string{"GET", "PUT", "DELETE"} {
		r.Method(m, base+"*", h)
	}
	// chi answers a method a pattern has no route for with its own bare 405;
	// the contract answers any other method here with its JSON 404, which
	// the handler gives.
	for _, m := range [...]string{"POST", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE"} {
		r.Method(m, base+"*", h)
	}
}
