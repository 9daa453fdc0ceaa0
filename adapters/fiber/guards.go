package fiberauth

import (
	"strings"
	"sync"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/wire"
	"github.com/gofiber/fiber/v2"
)

// guard runs g on every request: the principal of an outer guard is
// reused, a freshly authenticated one is stored (see PrincipalFrom), and a
// refusal is answered without calling the next handler.
func guard(g *wire.Guard) fiber.Handler {
	return func(c *fiber.Ctx) error {
		outer, _ := PrincipalFrom(c)
		route := func() (string, string, bool) {
			pattern, method := matchedRoute(c)
			return pattern, method, pattern != ""
		}
		p, resp := g.Check(c.UserContext(), request{c}, outer, route)
		if resp != nil {
			return Write(c, resp)
		}
		if p != nil && p != outer {
			setPrincipal(c, p)
		}
		return c.Next()
	}
}

// Require authenticates the request with its access token (Authorization:
// Bearer, or the access cookie when the service enables one). Without a
// valid credential it answers 401 (400 for two credentials, 503 when the
// session store cannot be trusted) and stops; otherwise the principal is
// available to later handlers through PrincipalFrom and, from
// c.UserContext(), through core.PrincipalFromContext. A principal already
// stored by an outer guard is reused.
func Require(svc *core.Service) fiber.Handler { return guard(wire.New(svc).Require()) }

// Optional lets anonymous requests through without a principal and
// authenticates the others: a credential that is present but invalid is
// refused exactly as by Require. A principal already stored by an outer
// guard is reused.
func Optional(svc *core.Service) fiber.Handler { return guard(wire.New(svc).Optional()) }

// RequireRole lets the request through when the principal has at least one
// of roles, and answers 403 insufficient_scope otherwise. It reuses the
// principal of an outer guard and authenticates the request itself (as
// Require) when there is none.
func RequireRole(svc *core.Service, roles ...string) fiber.Handler {
	return guard(wire.New(svc).RequireRole(roles...))
}

// RequireRecentAuth is the step-up guard of sensitive operations (changing
// e-mail, password or MFA; deleting the account): the user must have logged
// in with a password within maxAge (the token's auth_time, which refreshes
// never move), else 403 insufficient_scope; the client's answer is a new
// login, not a refresh. The principal is reused or authenticated as by
// RequireRole.
func RequireRecentAuth(svc *core.Service, maxAge time.Duration) fiber.Handler {
	return guard(wire.New(svc).RequireRecentAuth(maxAge))
}

// RequirePermission asks the service's Authorizer whether the principal may
// perform action on object: 403 insufficient_scope when denied, 503 when the
// Authorizer fails. The principal is reused or authenticated as by
// RequireRole.
func RequirePermission(svc *core.Service, object, action string) fiber.Handler {
	return guard(wire.New(svc).RequirePermission(object, action))
}

// AuthorizeRoute is RequirePermission with the matched route pattern as the
// object (RoutePattern: "/api/reports/:id", never the raw path
// "/api/reports/42") and the request method as the action, the shape of a
// casbin RESTful (keyMatch) policy. It works on a route, as a group's
// middleware and with app.Use alike: there, where fiber has not reached the
// final route yet, the route the request will match is looked up. A request
// that matches no route is refused with 403 (fail closed).
func AuthorizeRoute(svc *core.Service) fiber.Handler { return guard(wire.New(svc).AuthorizeRoute()) }

// RoutePattern returns the full pattern of the route that serves the
// request ("/api/reports/:id"), also from Use and group middleware, which
// fiber runs before it reaches that route; "" when no route matches.
func RoutePattern(c *fiber.Ctx) string {
	pattern, _ := matchedRoute(c)
	return pattern
}

// matchedRoute returns the pattern and method of the route that serves the
// request: the running route when it is a route's own handler, else the
// first route registered for the method whose pattern matches the path, as
// fiber's router finds it. Both strings are the app's own, never views of
// the request's buffers.
func matchedRoute(c *fiber.Ctx) (pattern, method string) {
	ix := routesOf(c.App())
	if rt := c.Route(); len(rt.Handlers) > 0 && ix.own[&rt.Handlers[0]] {
		return rt.Path, rt.Method
	}
	path := c.Path()
	for _, e := range ix.byMethod[c.Method()] {
		if e.prefixMatch(path, ix.cfg.CaseSensitive) && fiber.RoutePatternMatch(path, e.path, ix.cfg) {
			return e.path, e.method
		}
	}
	return "", ""
}

// routeIndex lists an app's routes, without Use and group middleware.
type routeIndex struct {
	count    uint32
	cfg      fiber.Config
	own      map[*fiber.Handler]bool // first handler of each route
	byMethod map[string][]routeEntry // in registration order
}

type routeEntry struct {
	path, method string
	// prefix is a literal start every matching path has ("" if unknown).
	prefix string
}

func (e routeEntry) prefixMatch(path string, caseSensitive bool) bool {
	if len(path) < len(e.prefix) {
		return false
	}
	if caseSensitive {
		return path[:len(e.prefix)] == e.prefix
	}
	return strings.EqualFold(path[:len(e.prefix)], e.prefix)
}

// indexes caches one routeIndex per app, rebuilt when the number of
// registered handlers changes.
var indexes sync.Map // *fiber.App -> *routeIndex

func routesOf(app *fiber.App) *routeIndex {
	n := app.HandlersCount()
	if v, ok := indexes.Load(app); ok && v.(*routeIndex).count == n {
		return v.(*routeIndex)
	}
	ix := &routeIndex{count: n, cfg: app.Config(), own: map[*fiber.Handler]bool{}, byMethod: map[string][]routeEntry{}}
	for _, rt := range app.GetRoutes(true) {
		if len(rt.Handlers) == 0 {
			continue
		}
		ix.own[&rt.Handlers[0]] = true
		ix.byMethod[rt.Method] = append(ix.byMethod[rt.Method], routeEntry{path: rt.Path, method: rt.Method, prefix: literalPrefix(rt.Path)})
	}
	indexes.Store(app, ix)
	return ix
}

// literalPrefix is the part of pattern before the segment of its first
// parameter or wildcard, which every matching path starts with; "" when
// the pattern escapes characters or has no such segment.
func literalPrefix(pattern string) string {
	if strings.ContainsRune(pattern, '\\') {
		return ""
	}
	i := strings.IndexAny(pattern, ":*+")
	if i < 0 {
		i = len(pattern)
	}
	return pattern[:max(strings.LastIndexByte(pattern[:i], '/'), 0)]
}
