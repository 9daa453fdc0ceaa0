package wire

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/authguard/authguard/core"
)

// Guard is one route guard: the single composition every adapter runs for
// Require, Optional, RequireRole, RequirePermission, RequireRecentAuth and
// AuthorizeRoute. Build it with the Server's methods of those names; it is
// immutable and safe for concurrent use.
type Guard struct {
	s        *Server
	optional bool
	roles    []string
	perm     bool
	object   string
	action   string
	recent   bool
	maxAge   time.Duration
	route    bool
}

// Require is the guard of routes that need a valid access token
// (Authorization: Bearer, or the access cookie when the service enables one;
// never the query string): 401 without one, 400 for two credentials, 503
// when the revocation feed is stale.
func (s *Server) Require() *Guard { return &Guard{s: s} }

// Optional is the guard of routes that also serve anonymous callers: no
// credential passes with no principal; a bad credential is still refused.
func (s *Server) Optional() *Guard { return &Guard{s: s, optional: true} }

// RequireRole is Require plus a role check through core.Service.CheckRole:
// the principal must hold at least one of roles, else 403
// insufficient_scope. The roles are the policy's when the Authorizer is a
// core.RoleChecker (a role taken away there is refused on the next request,
// whatever the token says), else the token's roles claim; a failing policy
// engine is 503.
func (s *Server) RequireRole(roles ...string) *Guard {
	return &Guard{s: s, roles: append([]string{}, roles...)}
}

// RequirePermission is Require plus a check through the service's
// Authorizer that the principal may perform action on object: 403
// insufficient_scope when denied, 503 when the Authorizer fails.
func (s *Server) RequirePermission(object, action string) *Guard {
	return &Guard{s: s, perm: true, object: object, action: action}
}

// RequireRecentAuth is the step-up guard of sensitive operations (changing
// e-mail, password or MFA; deleting the account): Require plus a password
// login within maxAge (auth_time, which refreshes never move), else 403
// insufficient_scope. The client's answer is a new login, not a refresh.
func (s *Server) RequireRecentAuth(maxAge time.Duration) *Guard {
	return &Guard{s: s, recent: true, maxAge: maxAge}
}

// AuthorizeRoute is Require plus a permission check whose object and action
// the adapter reads from the router (the matched route pattern and the
// method) through the route function given to Check. A request that matched
// no route is refused with 403 insufficient_scope (fail closed).
func (s *Server) AuthorizeRoute() *Guard { return &Guard{s: s, route: true} }

// RouteFunc names the object and action of a request for AuthorizeRoute:
// typically the matched route pattern and the method; ok=false when no route
// matched.
type RouteFunc func() (object, action string, ok bool)

var errNoRoute = newError(core.ErrInsufficientScope, "no_authorization_object")

// Check runs the guard on one request. outer is the principal an outer
// guard already stored for the request (nil if none): it is reused, else the
// request is authenticated. Then come the checks, in order: role,
// permission, recent authentication, route (route is called only by an
// AuthorizeRoute guard, after authentication; it may be nil otherwise).
//
// On success Check returns the principal (nil for an anonymous request
// through Optional) and a nil response; the adapter stores the principal
// when it is not outer. Otherwise it returns the complete answer to send.
func (g *Guard) Check(ctx context.Context, r Request, outer *core.Principal, route RouteFunc) (*core.Principal, *Response) {
	p := outer
	if p == nil {
		var resp *Response
		if p, resp = g.s.authenticate(ctx, r, g.optional); p == nil {
			return nil, resp
		}
	}
	if object, action, err := g.authorize(ctx, p, route); err != nil {
		var attrs []slog.Attr
		if object != "" || action != "" {
			attrs = []slog.Attr{slog.String("object", object), slog.String("action", action)}
		}
		g.s.svc.Audit(ctx, "access_denied", err, g.s.ClientInfo(r), p.Subject, p.SessionID, attrs...)
		g.s.svc.RecordGuard(ctx, err)
		return nil, g.s.ErrorResponse(err)
	}
	g.s.svc.RecordGuard(ctx, nil)
	return p, nil
}

// authorize runs the checks of the guard on an authenticated principal. On
// a refusal it names the object and action that were refused, if any.
func (g *Guard) authorize(ctx context.Context, p *core.Principal, route RouteFunc) (object, action string, err error) {
	if g.roles != nil {
		if err := g.s.svc.CheckRole(ctx, p, g.roles...); err != nil {
			return "", "", err
		}
	}
	if g.perm {
		if err := g.s.svc.Authorize(ctx, p, g.object, g.action); err != nil {
			return g.object, g.action, err
		}
	}
	if g.recent && g.s.now().Sub(p.AuthTime) > g.maxAge {
		return "", "", errReauthenticate
	}
	if g.route {
		ok := route != nil
		if ok {
			object, action, ok = route()
		}
		if !ok {
			return "", "", errNoRoute
		}
		if err := g.s.svc.Authorize(ctx, p, object, action); err != nil {
			return object, action, err
		}
	}
	return "", "", nil
}

var (
	errReauthenticate = newError(core.ErrInsufficientScope, "reauthentication_required")
	errNoCredential   = newError(core.ErrNoCredential, "no_credential")
)

// authenticate authenticates the request's access token. With optional, no
// credential yields (nil, nil); otherwise it is 401. A refusal is audited,
// except for a plain missing credential.
func (s *Server) authenticate(ctx context.Context, r Request, optional bool) (*core.Principal, *Response) {
	// The token is read for this call only (see HeaderPeeker): the core
	// copies what it keeps.
	tok, scan, err := s.bearerUnscanned(r, true)
	if err == nil && tok == "" {
		if optional {
			s.svc.RecordGuard(ctx, nil)
			return nil, nil
		}
		err = errNoCredential
	}
	if err == nil {
		var p *core.Principal
		if p, err = s.svc.Authenticate(ctx, tok); err == nil {
			return p, nil // a token the core accepts is token68: see bearerUnscanned
		}
		if scan && !allToken68(tok) {
			err = errNotBearer
		}
	}
	if !errors.Is(err, core.ErrNoCredential) {
		s.svc.Audit(ctx, "access_denied", err, s.ClientInfo(r), "", "")
	}
	s.svc.RecordGuard(ctx, err)
	return nil, s.ErrorResponse(err)
}
