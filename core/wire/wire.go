// Package wire is the HTTP contract of authguard as plain values: it reads
// a request through the small Request view an adapter fills in and decides
// every byte of the answer (status, error code, WWW-Authenticate, JSON body,
// cookies, CSRF checks) as a *Response, so that the chi, gin and fiber
// adapters only copy bytes and answer identically.
//
// It imports no net/http and no web framework. A Server wraps one
// *core.Service; its Guard is the one composition of every route guard
// (reuse an outer principal, authenticate, then the role, permission,
// recent-authentication and route checks).
package wire

import (
	"context"
	"net/netip"
	"time"

	"github.com/authguard/authguard/core"
)

// Request is the read-only view of one HTTP request that an adapter gives
// the contract. Implementations must return strings that stay valid after
// the handler returns (fasthttp adapters copy).
//
// The contract asks only for the headers named by the Header* constants of
// this package, which are in canonical form (textproto.CanonicalMIMEHeaderKey),
// so an adapter over http.Header may index the map with the name as given
// instead of canonicalizing it again on every request.
type Request interface {
	// Header returns the first value of the named header, or "". name is in
	// canonical form.
	Header(name string) string
	// HeaderValues returns every value of the named header (nil if none).
	// name is in canonical form.
	HeaderValues(name string) []string
	// Cookie returns the named cookie's value and whether it was sent. When a
	// cookie is sent more than once, the adapter returns the first.
	Cookie(name string) (string, bool)
	// CookieCount returns how many cookies with that name were sent.
	CookieCount(name string) int
	// RemoteAddr is the socket peer as "ip:port" (or just "ip").
	RemoteAddr() string
	// Body reads the request body, at most limit bytes. It returns
	// core.ErrBodyTooLarge (possibly wrapped) when the body is longer.
	Body(limit int64) ([]byte, error)
}

// HeaderPeeker is an optional interface of a Request over a server that
// keeps request bytes in buffers it reuses (fasthttp). PeekHeader returns
// the first value of the named header without copying it, and how many
// values were sent. The string is valid only until the handler returns.
//
// A route guard reads the Authorization header through it, when the
// Request has it, and keeps no part of the string after the call returns:
// the core copies the few things it keeps (the token it caches, the claims
// it decodes), so a guarded request that presents a token seen before
// costs no copy of the token. Everything else reads headers through
// Header and HeaderValues, whose strings stay valid.
type HeaderPeeker interface {
	PeekHeader(name string) (first string, n int)
}

// Response is a complete HTTP answer. Adapters add every header in order
// (Add, not Set: Set-Cookie may repeat), write Status, then Body.
type Response struct {
	// Status is the HTTP status code.
	Status int
	// Header holds the header lines, name and value, in order.
	Header [][2]string
	// Body is the response body (nil for none).
	Body []byte
}

// Endpoint names one prebuilt handler of the contract.
type Endpoint int

// The endpoints of the contract.
const (
	EndpointLogin Endpoint = iota + 1
	EndpointRefresh
	EndpointLogout
	EndpointMe
	EndpointSessions
	EndpointRevokeSession
	EndpointRevokeOtherSessions
	EndpointJWKS
)

// Route is one route an adapter registers. Param, when set, is the name of
// the single path parameter that ends Path (the adapter adds it in its own
// syntax: "{id}" for chi, ":id" for gin and fiber).
type Route struct {
	// Method is the HTTP method.
	Method string
	// Path is the full path, ending before the parameter when there is one.
	Path string
	// Param is the name of the path parameter ("" for none).
	Param string
	// Endpoint is what the route serves.
	Endpoint Endpoint
}

// MaxBodyBytes is the body limit of every JSON endpoint (64 KiB).
const MaxBodyBytes = 64 << 10

// MaxDeviceNameBytes bounds the device name a client may give at login.
const MaxDeviceNameBytes = 256

// RefreshCookieName is the cookie that carries the refresh token in cookie transport.
const RefreshCookieName = "__Secure-authguard-refresh"

// Header names the contract reads.
const (
	HeaderAuthorization = "Authorization"
	HeaderTransport     = "X-Auth-Transport"
	HeaderOrigin        = "Origin"
	HeaderSecFetchSite  = "Sec-Fetch-Site"
	HeaderUserAgent     = "User-Agent"
	HeaderRequestID     = "X-Request-Id"
	HeaderForwardedFor  = "X-Forwarded-For"
	HeaderContentType   = "Content-Type"
)

// Server answers the HTTP contract for one service. Its HTTP settings come
// from the service's configuration (MountPrefix, Realm, Cookie,
// TrustedProxies), read once by New. It is safe for concurrent use.
type Server struct {
	svc          *core.Service
	prefix       string
	realm        string
	sameSite     string
	accessCookie string
	proxies      []netip.Prefix
	origins      map[string]bool
	now          func() time.Time
}

// New returns the contract's server for svc.
func New(svc *core.Service) *Server {
	cfg := svc.Config()
	s := &Server{
		svc:          svc,
		prefix:       cfg.MountPrefix,
		realm:        cfg.Realm,
		sameSite:     cfg.Cookie.SameSite,
		accessCookie: cfg.Cookie.AccessCookie,
		proxies:      cfg.TrustedProxies,
		origins:      make(map[string]bool, len(cfg.Cookie.AllowedOrigins)),
		now:          cfg.Now,
	}
	for _, o := range cfg.Cookie.AllowedOrigins {
		s.origins[o] = true
	}
	return s
}

// Routes returns the routes of the contract under the configured mount
// prefix, plus the JWKS document at /.well-known/jwks.json.
func (s *Server) Routes() []Route {
	p := s.prefix
	return []Route{
		{Method: "POST", Path: p + "/login", Endpoint: EndpointLogin},
		{Method: "POST", Path: p + "/refresh", Endpoint: EndpointRefresh},
		{Method: "POST", Path: p + "/logout", Endpoint: EndpointLogout},
		{Method: "GET", Path: p + "/me", Endpoint: EndpointMe},
		{Method: "GET", Path: p + "/sessions", Endpoint: EndpointSessions},
		{Method: "DELETE", Path: p + "/sessions", Endpoint: EndpointRevokeOtherSessions},
		{Method: "DELETE", Path: p + "/sessions/", Param: "id", Endpoint: EndpointRevokeSession},
		{Method: "GET", Path: "/.well-known/jwks.json", Endpoint: EndpointJWKS},
	}
}

// Serve answers one endpoint of the contract. param is the value of the
// route's path parameter (the session id for EndpointRevokeSession).
func (s *Server) Serve(ctx context.Context, e Endpoint, r Request, param string) *Response {
	switch e {
	case EndpointLogin:
		return s.serveLogin(ctx, r)
	case EndpointRefresh:
		return s.serveRefresh(ctx, r)
	case EndpointLogout:
		return s.serveLogout(ctx, r)
	case EndpointJWKS:
		doc, ok := s.svc.Keys().JWKS()
		if !ok {
			return s.ErrorResponse(newError(core.ErrNotFound, "no_public_keys"))
		}
		return &Response{Status: 200, Header: [][2]string{
			{"Content-Type", "application/json"}, {"Cache-Control", "public, max-age=300"},
		}, Body: doc}
	}
	p, resp := s.authenticate(ctx, r, false)
	if resp != nil {
		return resp
	}
	switch e {
	case EndpointMe:
		return jsonResponse(200, meJSON{Sub: p.Subject, Roles: nonNil(p.Roles), SessionID: p.SessionID,
			ExpiresAt: rfc3339(p.ExpiresAt)})
	case EndpointSessions:
		return s.serveSessions(ctx, p)
	case EndpointRevokeSession:
		if param == "" {
			return s.ErrorResponse(newError(core.ErrNotFound, "empty_session_id"))
		}
		if err := s.svc.RevokeSession(ctx, p, param, s.ClientInfo(r)); err != nil {
			return s.ErrorResponse(err)
		}
		return noContent()
	case EndpointRevokeOtherSessions:
		if _, err := s.svc.RevokeOtherSessions(ctx, p, s.ClientInfo(r)); err != nil {
			return s.ErrorResponse(err)
		}
		return noContent()
	}
	return s.ErrorResponse(newError(core.ErrNotFound, "unknown_endpoint"))
}

func newError(kind error, reason string) *core.Error {
	return &core.Error{Kind: kind, Reason: reason}
}
