package core

// The wire layer: every HTTP decision of the contract (status, error code,
// WWW-Authenticate, JSON body, cookies, CSRF checks) is taken here once, as
// plain values, so the chi, gin and fiber adapters only copy bytes.

// HTTPRequest is the read-only view of one HTTP request that an adapter gives
// the core. Implementations must return strings that stay valid after the
// handler returns (fasthttp adapters copy).
type HTTPRequest interface {
	// Header returns the first value of the named header, or "".
	Header(name string) string
	// HeaderValues returns every value of the named header (nil if none).
	HeaderValues(name string) []string
	// Cookie returns the named cookie's value and whether it was sent. When a
	// cookie is sent more than once, the adapter returns the first.
	Cookie(name string) (string, bool)
	// CookieCount returns how many cookies with that name were sent.
	CookieCount(name string) int
	// RemoteAddr is the socket peer as "ip:port" (or just "ip").
	RemoteAddr() string
	// Body reads the request body, at most limit bytes. It returns
	// ErrBodyTooLarge (possibly wrapped) when the body is longer.
	Body(limit int64) ([]byte, error)
}

// Response is a complete HTTP answer decided by the core. Adapters add every
// header in order (Add, not Set: Set-Cookie may repeat), write Status, then Body.
type Response struct {
	Status int
	Header [][2]string
	Body   []byte
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
	Method   string
	Path     string
	Param    string
	Endpoint Endpoint
}

// MaxBodyBytes is the body limit of every JSON endpoint (64 KiB).
const MaxBodyBytes = 64 << 10

// Header names the core reads.
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
