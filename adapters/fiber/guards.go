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
		p, resp := g.Check(c.UserContext(), request{c}, outer, func() (string, string, bool) { return matchedRoute(c) })
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
	pattern, _, _ := matchedRoute(c)
	return pattern
}

// matchedRoute returns the pattern and method of the route that serves the
// request (ok=false when none does): the running route when it is a route's own handler, else the
// first route registered for the method that matches the path, as fiber's
// router finds it. Both strings are the app's own, never views of the
// request's buffers.
func matchedRoute(c *fiber.Ctx) (pattern, method string, ok bool) {
	ix := routesOf(c.App())
	if rt := c.Route(); len(rt.Handlers) > 0 && ix.own[&rt.Handlers[0]] {
		return rt.Path, rt.Method, true
	}
	for _, e := range ix.byMethod[c.Method()] {
		if e.matches(c.Path(), ix.cfg) {
			return e.path, e.method, true
		}
	}
	return "", "", false
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
	// static: path has no parameter; literal is then the path as fiber
	// compares it, else a start every matching path has ("" if unknown).
	static  bool
	literal string
}

// matches reports whether fiber routes path to e, cheaply for static
// routes and for paths that cannot match.
func (e routeEntry) matches(path string, cfg fiber.Config) bool {
	if !cfg.StrictRouting && len(path) > 1 {
		path = strings.TrimRight(path, "/") // as fiber's router (RoutePatternMatch trims the pattern only)
	}
	if !e.static {
		return hasPrefix(path, e.literal, cfg.CaseSensitive) && fiber.RoutePatternMatch(path, e.path, cfg)
	}
	return len(path) == len(e.literal) && hasPrefix(path, e.literal, cfg.CaseSensitive)
}

// hasPrefix is strings.HasPrefix, ASCII case-insensitive (as fiber's
// routing) unless caseSensitive.
func hasPrefix(s, prefix string, caseSensitive bool) bool {
	if len(s) < len(prefix) || caseSensitive {
		return strings.HasPrefix(s, prefix)
	}
	for i := 0; i < len(prefix); i++ {
		if a, b := s[i]|0x20, prefix[i]|0x20; s[i] != prefix[i] && (a != b || a < 'a' || a > 'z') {
			return false
		}
	}
	return true
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
		if len(rt.Handlers) > 0 {
			ix.own[&rt.Handlers[0]] = true
			ix.byMethod[rt.Method] = append(ix.byMethod[rt.Method], newEntry(rt.Path, rt.Method, ix.cfg.StrictRouting))
		}
	}
	indexes.Store(app, ix)
	return ix
}

// newEntry prepares the match of one route. A pattern with a parameter,
// wildcard or escape gets as literal the part before the segment of its
// first one ("" for an escape).
func newEntry(path, method string, strict bool) routeEntry {
	e := routeEntry{path: path, method: method}
	switch i := strings.IndexAny(path, ":*+\\"); {
	case i < 0:
		e.static, e.literal = true, path
		if !strict && len(path) > 1 {
			e.literal = strings.TrimRight(path, "/")
		}
	case path[i] != '\\':
		e.literal = path[:max(strings.LastIndexByte(path[:i], '/'), 0)]
	}
	return e
}
