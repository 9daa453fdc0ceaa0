// Package httpauth adapts authguard to net/http: guards (middleware) and the
// prebuilt token endpoints for http.ServeMux and every router built on
// http.Handler (chi included).
//
// The adapter is deliberately thin. The core (package core) decides every
// HTTP detail of the wire contract (status, headers, body, cookies) as a
// *wire.Response; this package only reads the request for the core and
// copies the answer onto the wire.
//
// Guards put the authenticated *core.Principal into the request context;
// handlers read it back with PrincipalFrom.
package httpauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/wire"
)

// request is the wire.Request view of an *http.Request. It is one
// pointer wide, so converting it to the interface does not allocate.
type request struct{ r *http.Request }

var _ wire.Request = request{}

// Request returns the contract's read-only view of r (wire.Request), for
// adapters of routers built on net/http, such as gin. It does not allocate.
func Request(r *http.Request) wire.Request { return request{r} }

// Header and HeaderValues index the header map with name as it is: the
// contract passes canonical names (see wire.Request), which net/http's
// server uses as the keys of every header it parsed. Header.Get would
// canonicalize the name again on each call, about a quarter of a warm
// guard's instructions.
func (q request) Header(name string) string {
	if v := q.r.Header[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (q request) HeaderValues(name string) []string { return q.r.Header[name] }

func (q request) CookieCount(name string) int       { return len(q.r.CookiesNamed(name)) }
func (q request) RemoteAddr() string                { return q.r.RemoteAddr }
func (q request) Cookie(name string) (string, bool) { return cookie(q.r, name) }

func cookie(r *http.Request, name string) (string, bool) {
	c, err := r.Cookie(name)
	if err != nil {
		return "", false
	}
	return c.Value, true
}

// Body reads at most limit+1 bytes of the body and reports an error wrapping
// core.ErrBodyTooLarge when the body is longer than limit (or when an outer
// http.MaxBytesReader already refused it).
func (q request) Body(limit int64) ([]byte, error) {
	r := q.r
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > limit {
		return nil, fmt.Errorf("%w: Content-Length %d exceeds %d", core.ErrBodyTooLarge, r.ContentLength, limit)
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("%w: %w", core.ErrBodyTooLarge, err)
		}
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: body exceeds %d bytes", core.ErrBodyTooLarge, limit)
	}
	return b, nil
}

// Write copies a core response onto w: every header in order (added, not
// set, so Set-Cookie may repeat), then the status, then the body.
func Write(w http.ResponseWriter, resp *wire.Response) {
	h := w.Header()
	for _, kv := range resp.Header {
		h.Add(kv[0], kv[1])
	}
	w.WriteHeader(resp.Status)
	if len(resp.Body) > 0 {
		_, _ = w.Write(resp.Body)
	}
}

// PrincipalFrom returns the principal a guard of this package (or of any
// authguard adapter built on net/http) stored in ctx.
func PrincipalFrom(ctx context.Context) (*core.Principal, bool) {
	return core.PrincipalFromContext(ctx)
}

// guard runs g on every request: the principal of an outer guard is
// reused, a freshly authenticated one is stored in the request context, and
// a refusal is written as it is. route, when not nil, names the object and
// action of an Authorize guard.
func guard(g *wire.Guard, route func(*http.Request) (object, action string, ok bool)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			outer, _ := core.PrincipalFromContext(ctx)
			var rf wire.RouteFunc
			if route != nil {
				req := r
				rf = func() (string, string, bool) { return route(req) }
			}
			p, resp := g.Check(ctx, request{r}, outer, rf)
			if resp != nil {
				Write(w, resp)
				return
			}
			if p != nil && p != outer {
				r = r.WithContext(core.ContextWithPrincipal(ctx, p))
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Require is the guard of routes that need a valid access token
// (Authorization: Bearer, or the access cookie when the service enables one;
// never the query string). Without one it answers 401 with the contract's
// WWW-Authenticate challenge; two credentials are 400 and an unreachable
// revocation feed is 503. On success the principal is in the request context
// (see PrincipalFrom). A principal already stored by an outer guard is reused.
func Require(svc *core.Service) func(http.Handler) http.Handler {
	return guard(wire.New(svc).Require(), nil)
}

// Optional is the guard of routes that serve anonymous callers too: without
// a credential the request passes with no principal in its context; a
// credential that is present but invalid is still refused (401), as are two
// credentials (400).
func Optional(svc *core.Service) func(http.Handler) http.Handler {
	return guard(wire.New(svc).Optional(), nil)
}

// RequireRole is Require plus a role check: the principal must carry at
// least one of roles, else 403 insufficient_scope. It reuses the principal of
// an outer guard when there is one.
func RequireRole(svc *core.Service, roles ...string) func(http.Handler) http.Handler {
	return guard(wire.New(svc).RequireRole(roles...), nil)
}

// RequirePermission is Require plus a permission check through the service's
// Authorizer: the principal must be allowed action on object, else 403
// insufficient_scope; an Authorizer failure is 503 (fail closed). It reuses
// the principal of an outer guard when there is one.
func RequirePermission(svc *core.Service, object, action string) func(http.Handler) http.Handler {
	return guard(wire.New(svc).RequirePermission(object, action), nil)
}

// RequireRecentAuth is the step-up guard of sensitive operations (changing
// e-mail, password or MFA; deleting the account): Require plus a check that
// the user logged in with a password within maxAge (the token's auth_time,
// which refreshes never move), else 403 insufficient_scope. The client's
// answer is a new login, not a refresh.
func RequireRecentAuth(svc *core.Service, maxAge time.Duration) func(http.Handler) http.Handler {
	return guard(wire.New(svc).RequireRecentAuth(maxAge), nil)
}

// Authorize is RequirePermission with the object and action computed from
// each request (for example from the matched route pattern and the method):
// the building block of router-specific conveniences. When objectAction
// reports ok=false (no object can be named, e.g. no route matched) the
// request is refused with 403 insufficient_scope without asking the
// Authorizer: it fails closed.
func Authorize(svc *core.Service, objectAction func(*http.Request) (object, action string, ok bool)) func(http.Handler) http.Handler {
	return guard(wire.New(svc).AuthorizeRoute(), objectAction)
}

// Handler returns the handler of one endpoint of the contract. param, when
// not nil, extracts the route's path parameter (the session id of
// wire.EndpointRevokeSession). Mount and the per-endpoint constructors below
// are built on it; router adapters use it to mount the contract's routes in their own
// path syntax.
func Handler(svc *core.Service, e wire.Endpoint, param func(*http.Request) string) http.Handler {
	srv := wire.New(svc)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p string
		if param != nil {
			p = param(r)
		}
		Write(w, srv.Serve(r.Context(), e, request{r}, p))
	})
}

// Login serves POST {prefix}/login: JSON {"email","password","device"} to a
// token response (or, with X-Auth-Transport: cookie, the refresh token in
// the refresh cookie).
func Login(svc *core.Service) http.Handler { return Handler(svc, wire.EndpointLogin, nil) }

// Refresh serves POST {prefix}/refresh: rotates a refresh token taken from
// the JSON body or, in cookie transport, from the refresh cookie.
func Refresh(svc *core.Service) http.Handler { return Handler(svc, wire.EndpointRefresh, nil) }

// Logout serves POST {prefix}/logout: revokes the session named by a refresh
// token (body or cookie) or, failing that, by the bearer access token. It
// answers 204 even for unknown tokens.
func Logout(svc *core.Service) http.Handler { return Handler(svc, wire.EndpointLogout, nil) }

// Me serves GET {prefix}/me: the caller's subject, roles, session id and
// access-token expiry. It authenticates the request itself.
func Me(svc *core.Service) http.Handler { return Handler(svc, wire.EndpointMe, nil) }

// Sessions serves GET {prefix}/sessions: the caller's active sessions, the
// current one marked. It authenticates the request itself.
func Sessions(svc *core.Service) http.Handler { return Handler(svc, wire.EndpointSessions, nil) }

// RevokeSession serves DELETE {prefix}/sessions/{id}: revokes one of the
// caller's sessions (404 not_found for a session that is not the caller's).
// idFromRequest extracts the id; nil means r.PathValue("id") (the Go 1.22
// ServeMux pattern "DELETE /auth/sessions/{id}").
func RevokeSession(svc *core.Service, idFromRequest func(*http.Request) string) http.Handler {
	if idFromRequest == nil {
		idFromRequest = func(r *http.Request) string { return r.PathValue("id") }
	}
	return Handler(svc, wire.EndpointRevokeSession, idFromRequest)
}

// RevokeOtherSessions serves DELETE {prefix}/sessions: revokes every session
// of the caller except the current one.
func RevokeOtherSessions(svc *core.Service) http.Handler {
	return Handler(svc, wire.EndpointRevokeOtherSessions, nil)
}

// JWKS serves GET /.well-known/jwks.json: the public verification keys, or
// 404 when only a symmetric key is configured.
func JWKS(svc *core.Service) http.Handler { return Handler(svc, wire.EndpointJWKS, nil) }

// NotFound answers the contract's 404 not_found JSON. Install it as the
// handler of paths no route matches (a ServeMux "/" pattern, chi's NotFound,
// ...), so that a malformed auth path, such as DELETE /auth/sessions/ or
// /AUTH/SESSIONS, gets the contract's answer rather than a plain-text one.
func NotFound(svc *core.Service) http.Handler {
	resp := wire.New(svc).ErrorResponse(core.ErrNotFound)
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { Write(w, resp) })
}

// Mount registers every route of the contract (wire.Server.Routes) on mux with Go 1.22 method
// patterns ("POST /auth/login", "DELETE /auth/sessions/{id}", ...), under
// the service's configured mount prefix, plus GET /.well-known/jwks.json.
// Like http.ServeMux.Handle it panics if a pattern conflicts with one already
// registered.
//
// Serve the mux through ExactPaths: a ServeMux answers an unclean path such
// as DELETE //auth/sessions with a redirect to DELETE /auth/sessions.
//
// Mount the contract on the mux that serves the root of the site: the
// routes and the refresh cookie's Path both come from
// core.Config.MountPrefix (to serve the endpoints under /api/v1, set it to
// "/api/v1/auth"; behind http.StripPrefix the cookie's Path would be wrong).
func Mount(mux *http.ServeMux, svc *core.Service) {
	for _, rt := range wire.New(svc).Routes() {
		pattern := rt.Method + " " + rt.Path
		var param func(*http.Request) string
		if rt.Param != "" {
			name := rt.Param
			pattern += "{" + name + "}"
			param = func(r *http.Request) string { return r.PathValue(name) }
		}
		mux.Handle(pattern, Handler(svc, rt.Endpoint, param))
	}
}

// ExactPaths wraps next (the http.ServeMux the contract is mounted on) so
// that a request whose path is not clean (a doubled slash or a dot segment:
// "//auth/sessions", "/auth//sessions", "/auth/sessions/.") and that falls,
// once cleaned, under the service's mount prefix gets the contract's 404.
// A ServeMux answers such a path with 301 to the cleaned one, and browsers'
// fetch, curl -L and Go's http.Client follow it keeping the method DELETE and
// the Authorization header: DELETE //auth/sessions would revoke every other
// session. Every other request passes to next untouched.
//
//	http.ListenAndServe(addr, httpauth.ExactPaths(svc, mux))
func ExactPaths(svc *core.Service, next http.Handler) http.Handler {
	srv := wire.New(svc)
	prefix := svc.Config().MountPrefix
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Both forms: the mux cleans the escaped path, which decoding can
		// move outside the prefix (/x%2Fy/../auth/sessions).
		for _, p := range [2]string{r.URL.Path, r.URL.EscapedPath()} {
			if c := cleanPath(p); c != p && (c == prefix || strings.HasPrefix(c, prefix+"/")) {
				Write(w, srv.ErrorResponse(core.ErrNotFound))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// cleanPath is the path http.ServeMux redirects p to: path.Clean, rooted,
// keeping a trailing slash.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	c := path.Clean("/" + p)
	if p[len(p)-1] == '/' && c != "/" {
		c += "/"
	}
	return c
}

// RoleAdmin returns the handler of the role administration (see
// wire.Server.RoleAdminPath) over a: it serves every request under
// {prefix}/admin/roles/, reading the subject and the role from the path as
// sent, guarded by the permissions roles/read and roles/write.
func RoleAdmin(svc *core.Service, a wire.RoleAdmin) http.Handler {
	srv := wire.New(svc)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Write(w, srv.ServeRoleAdmin(r.Context(), a, r.Method, request{r}, r.URL.EscapedPath()))
	})
}

// MountRoleAdmin registers the role administration over a on mux, under
// the service's configured mount prefix:
//
//	GET    /auth/admin/roles/{subject}         -> 200 {"subject":"...","roles":[...]}
//	PUT    /auth/admin/roles/{subject}/{role}  -> 204
//	DELETE /auth/admin/roles/{subject}/{role}  -> 204
//
// Mount it next to Mount, on the same mux, and serve the mux through
// ExactPaths. Like http.ServeMux.Handle it panics on a conflicting pattern.
func MountRoleAdmin(mux *http.ServeMux, svc *core.Service, a wire.RoleAdmin) {
	h := RoleAdmin(svc, a)
	base := wire.New(svc).RoleAdminPath()
	for _, m := range [...]string{"GET", "PUT", "DELETE"} {
		mux.Handle(m+" "+base+"{rest...}", h)
	}
}
