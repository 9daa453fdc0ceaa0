package fiberauth

import (
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/gofiber/fiber/v2"
)

// Require authenticates the request with its access token (Authorization:
// Bearer, or the access cookie when the service enables one). Without a
// valid credential it answers 401 (400 for two credentials, 503 when the
// session store cannot be trusted) and stops; otherwise the principal is
// available to later handlers through PrincipalFrom and, from
// c.UserContext(), through core.PrincipalFromContext. A principal already
// stored by an outer guard is reused.
func Require(svc *core.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if _, resp := principal(c, svc, request{c}); resp != nil {
			return write(c, resp)
		}
		return c.Next()
	}
}

// Optional lets anonymous requests through without a principal and
// authenticates the others: a credential that is present but invalid is
// refused exactly as by Require. A principal already stored by an outer
// guard is reused.
func Optional(svc *core.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if _, ok := PrincipalFrom(c); ok {
			return c.Next()
		}
		p, resp := svc.GuardOptional(c.UserContext(), request{c})
		if resp != nil {
			return write(c, resp)
		}
		if p != nil {
			setPrincipal(c, p)
		}
		return c.Next()
	}
}

// RequireRole lets the request through when the principal has at least one
// of roles, and answers 403 insufficient_scope otherwise. It reuses the
// principal of an outer guard and authenticates the request itself (as
// Require) when there is none.
func RequireRole(svc *core.Service, roles ...string) fiber.Handler {
	roles = append([]string(nil), roles...)
	return func(c *fiber.Ctx) error {
		req := request{c}
		p, resp := principal(c, svc, req)
		if resp == nil {
			resp = svc.GuardRole(c.UserContext(), req, p, roles...)
		}
		if resp != nil {
			return write(c, resp)
		}
		return c.Next()
	}
}

// RequireRecentAuth is the step-up guard of sensitive operations (changing
// e-mail, password or MFA; deleting the account): the user must have logged
// in with a password within maxAge (the token's auth_time, which refreshes
// never move), else 403 insufficient_scope; the client's answer is a new
// login, not a refresh. The principal is reused or authenticated as by
// RequireRole.
func RequireRecentAuth(svc *core.Service, maxAge time.Duration) fiber.Handler {
	return func(c *fiber.Ctx) error {
		req := request{c}
		p, resp := principal(c, svc, req)
		if resp == nil {
			resp = svc.GuardRecentAuth(c.UserContext(), req, p, maxAge)
		}
		if resp != nil {
			return write(c, resp)
		}
		return c.Next()
	}
}

// RequirePermission asks the service's Authorizer whether the principal may
// perform action on object: 403 insufficient_scope when denied, 503 when the
// Authorizer fails. The principal is reused or authenticated as by
// RequireRole.
func RequirePermission(svc *core.Service, object, action string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		return permit(c, svc, object, action)
	}
}

// AuthorizeRoute is RequirePermission with the matched route pattern as the
// object (RoutePattern: "/api/reports/:id", never the raw path
// "/api/reports/42") and the request method as the action, the shape of a
// casbin RESTful (keyMatch) policy.
//
// Put it on the route itself, as in app.Delete("/api/reports/:id",
// fiberauth.AuthorizeRoute(svc), handler), also within a group. Not with
// app.Use or as a group's middleware: fiber runs those before it knows the
// final route, and there c.Route() is the middleware's own prefix. Used that
// way it refuses every request with 500 server_error (and logs the mistake
// once) rather than authorize the wrong object.
func AuthorizeRoute(svc *core.Service) fiber.Handler {
	var once sync.Once
	return func(c *fiber.Ctx) error {
		rt := c.Route()
		if isUse(rt) {
			once.Do(func() {
				svc.Config().Logger.Error("fiberauth: AuthorizeRoute is registered with Use or as group middleware, "+
					"where the matched route is unknown (or this fiber release is not supported); "+
					"put it on the routes themselves. Every request is refused.",
					slog.String("prefix", rt.Path))
			})
			return write(c, svc.ErrorResponse(errUseMiddleware))
		}
		// rt.Method, unlike c.Method(), is not a view of a pooled buffer.
		return permit(c, svc, rt.Path, rt.Method)
	}
}

// RoutePattern returns the full pattern of the route whose handler is
// running ("/api/reports/:id"), or "" in a handler registered with Use or as
// group middleware, which fiber runs before it has matched the final route.
func RoutePattern(c *fiber.Ctx) string {
	rt := c.Route()
	if isUse(rt) {
		return ""
	}
	return rt.Path
}

// useField is the index of fiber.Route's unexported "use" flag, which
// marks routes registered with Use or as group middleware (their Method is
// the request's method, so only this flag tells them apart); -1 if this
// fiber release has no such field.
var useField = func() int {
	f, ok := reflect.TypeFor[fiber.Route]().FieldByName("use")
	if !ok || f.Type.Kind() != reflect.Bool || len(f.Index) != 1 {
		return -1
	}
	return f.Index[0]
}()

// isUse reports whether rt was registered with Use (or as group
// middleware). When it cannot tell, it says yes: AuthorizeRoute then fails
// closed.
func isUse(rt *fiber.Route) bool {
	if useField < 0 {
		return true
	}
	return reflect.ValueOf(rt).Elem().Field(useField).Bool()
}

var errUseMiddleware = &core.Error{Kind: core.ErrInternal, Reason: "authorize_route_as_use_middleware"}

func permit(c *fiber.Ctx, svc *core.Service, object, action string) error {
	req := request{c}
	p, resp := principal(c, svc, req)
	if resp == nil {
		resp = svc.GuardPermission(c.UserContext(), req, p, object, action)
	}
	if resp != nil {
		return write(c, resp)
	}
	return c.Next()
}

// principal returns the principal of an outer guard or authenticates the
// request; on failure it returns the core's answer.
func principal(c *fiber.Ctx, svc *core.Service, req request) (*core.Principal, *core.Response) {
	if p, ok := PrincipalFrom(c); ok {
		return p, nil
	}
	p, resp := svc.Guard(c.UserContext(), req)
	if resp != nil {
		return nil, resp
	}
	setPrincipal(c, p)
	return p, nil
}
