package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Routes returns the routes of the contract under the configured mount
// prefix, plus the JWKS document at /.well-known/jwks.json.
func (s *Service) Routes() []Route {
	p := s.cfg.MountPrefix
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
func (s *Service) Serve(ctx context.Context, e Endpoint, r HTTPRequest, param string) *Response {
	switch e {
	case EndpointLogin:
		return s.serveLogin(ctx, r)
	case EndpointRefresh:
		return s.serveRefresh(ctx, r)
	case EndpointLogout:
		return s.serveLogout(ctx, r)
	case EndpointJWKS:
		doc, ok := s.keys.JWKS()
		if !ok {
			return s.ErrorResponse(newError(ErrNotFound, "no_public_keys", nil))
		}
		return &Response{Status: 200, Header: [][2]string{
			{"Content-Type", "application/json"}, {"Cache-Control", "public, max-age=300"},
		}, Body: doc}
	}
	p, resp := s.Guard(ctx, r)
	if resp != nil {
		return resp
	}
	switch e {
	case EndpointMe:
		return jsonResponse(200, meJSON{Sub: p.Subject, Roles: nonNil(p.Roles), SessionID: p.SessionID,
			ExpiresAt: rfc3339(p.ExpiresAt)})
	case EndpointSessions:
		list, err := s.Sessions(ctx, p)
		if err != nil {
			return s.ErrorResponse(err)
		}
		out := sessionsJSON{Sessions: make([]sessionJSON, 0, len(list))}
		for _, si := range list {
			out.Sessions = append(out.Sessions, sessionJSON{
				ID: si.ID, Device: deviceJSON{Name: si.DeviceName}, IP: si.IP, UserAgent: si.UserAgent,
				CreatedAt: rfc3339(si.CreatedAt), LastUsedAt: rfc3339(si.LastUsedAt),
				ExpiresAt: rfc3339(si.ExpiresAt), Current: si.Current,
			})
		}
		return jsonResponse(200, out)
	case EndpointRevokeSession:
		if param == "" {
			return s.ErrorResponse(newError(ErrNotFound, "empty_session_id", nil))
		}
		if err := s.RevokeSession(ctx, p, param, s.ClientInfo(r)); err != nil {
			return s.ErrorResponse(err)
		}
		return noContent()
	case EndpointRevokeOtherSessions:
		if _, err := s.RevokeOtherSessions(ctx, p, s.ClientInfo(r)); err != nil {
			return s.ErrorResponse(err)
		}
		return noContent()
	}
	return s.ErrorResponse(newError(ErrNotFound, "unknown_endpoint", nil))
}

type meJSON struct {
	Sub       string   `json:"sub"`
	Roles     []string `json:"roles"`
	SessionID string   `json:"sessionId"`
	ExpiresAt string   `json:"expiresAt"`
}

type deviceJSON struct {
	Name string `json:"name"`
}

type sessionJSON struct {
	ID         string     `json:"id"`
	Device     deviceJSON `json:"device"`
	IP         string     `json:"ip"`
	UserAgent  string     `json:"userAgent"`
	CreatedAt  string     `json:"createdAt"`
	LastUsedAt string     `json:"lastUsedAt"`
	ExpiresAt  string     `json:"expiresAt"`
	Current    bool       `json:"current"`
}

type sessionsJSON struct {
	Sessions []sessionJSON `json:"sessions"`
}

type loginBody struct {
	Email    *string `json:"email"`
	Password *string `json:"password"`
	Device   *struct {
		Name *string `json:"name"`
	} `json:"device"`
}

type refreshBody struct {
	RefreshToken *string `json:"refreshToken"`
}

// MaxDeviceNameBytes bounds the device name a client may give at login.
const MaxDeviceNameBytes = 256

func (s *Service) serveLogin(ctx context.Context, r HTTPRequest) *Response {
	cookieMode, resp := s.transport(r)
	if resp != nil {
		return resp
	}
	var body loginBody
	if err := readJSON(r, &body, true); err != nil {
		return s.ErrorResponse(err)
	}
	if body.Email == nil || body.Password == nil {
		return s.ErrorResponse(newError(ErrInvalidRequest, "missing_credentials", nil))
	}
	in := LoginInput{Email: *body.Email, Password: *body.Password, Client: s.ClientInfo(r)}
	if body.Device != nil && body.Device.Name != nil {
		if len(*body.Device.Name) > MaxDeviceNameBytes {
			return s.ErrorResponse(newError(ErrInvalidRequest, "device_name_too_long", nil))
		}
		in.DeviceName = *body.Device.Name
	}
	tr, err := s.Login(ctx, in)
	if err != nil {
		return s.ErrorResponse(err)
	}
	return s.tokenResponse(tr, cookieMode)
}

func (s *Service) serveRefresh(ctx context.Context, r HTTPRequest) *Response {
	cookieMode, resp := s.transport(r)
	if resp != nil {
		return resp
	}
	tok, err := s.refreshCredential(r, cookieMode)
	if err != nil {
		return s.ErrorResponse(err)
	}
	if tok == "" {
		return s.ErrorResponse(newError(ErrInvalidRequest, "no_refresh_token", nil))
	}
	tr, err := s.Refresh(ctx, tok, s.ClientInfo(r))
	if err != nil {
		out := s.ErrorResponse(err)
		if cookieMode && errors.Is(err, ErrInvalidGrant) {
			out.Header = append(out.Header, [2]string{"Set-Cookie", s.refreshCookie("", 0)})
		}
		return out
	}
	return s.tokenResponse(tr, cookieMode)
}

func (s *Service) serveLogout(ctx context.Context, r HTTPRequest) *Response {
	cookieMode, resp := s.transport(r)
	if resp != nil {
		return resp
	}
	tok, err := s.refreshCredential(r, cookieMode)
	if err != nil {
		return s.ErrorResponse(err)
	}
	in := LogoutInput{RefreshToken: tok, Client: s.ClientInfo(r)}
	if tok == "" {
		bearer, err := s.bearer(r)
		if errors.Is(err, ErrInvalidToken) {
			// A malformed bearer is an invalid credential, not a missing one:
			// logout stays idempotent (204) and never answers 401.
			s.audit(ctx, slog.LevelInfo, "logout_noop", in.Client, "", "", ReasonOf(err))
			out := noContent()
			out.Header = append(out.Header, [2]string{"Set-Cookie", s.refreshCookie("", 0)})
			return out
		}
		if err != nil {
			return s.ErrorResponse(err)
		}
		in.AccessToken = bearer
	}
	if err := s.Logout(ctx, in); err != nil {
		return s.ErrorResponse(err)
	}
	out := noContent()
	out.Header = append(out.Header, [2]string{"Set-Cookie", s.refreshCookie("", 0)})
	return out
}

// transport reports whether the request asked for cookie transport and, if
// so, applies the CSRF defence: a cross-site Sec-Fetch-Site or an Origin that
// is not allowed is refused.
func (s *Service) transport(r HTTPRequest) (bool, *Response) {
	if !strings.EqualFold(strings.TrimSpace(r.Header(HeaderTransport)), "cookie") {
		return false, nil
	}
	if err := s.checkSameSite(r); err != nil {
		return true, s.ErrorResponse(err)
	}
	return true, nil
}

var (
	errCrossSite   = &Error{Kind: ErrInvalidRequest, Reason: "csrf_cross_site"}
	errCrossOrigin = &Error{Kind: ErrInvalidRequest, Reason: "csrf_origin"}
)

// checkSameSite is the CSRF defence of every cookie-carried credential: a
// request whose Sec-Fetch-Site is cross-site, or whose Origin (when sent) is
// not an allowed origin, is refused.
func (s *Service) checkSameSite(r HTTPRequest) error {
	if strings.EqualFold(strings.TrimSpace(r.Header(HeaderSecFetchSite)), "cross-site") {
		return errCrossSite
	}
	if origins := r.HeaderValues(HeaderOrigin); len(origins) > 0 {
		if len(origins) > 1 || !s.origins[strings.TrimRight(origins[0], "/")] {
			return errCrossOrigin
		}
	}
	return nil
}

// refreshCredential reads the refresh token from the JSON body, or (cookie
// transport only, when the body is empty) from the refresh cookie.
func (s *Service) refreshCredential(r HTTPRequest, cookieMode bool) (string, error) {
	var body refreshBody
	if err := readJSON(r, &body, false); err != nil {
		return "", err
	}
	if body.RefreshToken != nil {
		if *body.RefreshToken == "" {
			return "", newError(ErrInvalidRequest, "empty_refresh_token", nil)
		}
		return *body.RefreshToken, nil
	}
	if cookieMode {
		if r.CookieCount(RefreshCookieName) > 1 {
			return "", newError(ErrInvalidRequest, "duplicate_cookie", nil)
		}
		v, _ := r.Cookie(RefreshCookieName)
		return v, nil
	}
	return "", nil
}

// readJSON decodes a JSON object body. An empty body is an error only when
// required. A non-empty body must be declared application/json.
func readJSON(r HTTPRequest, v any, required bool) error {
	raw, err := r.Body(MaxBodyBytes)
	if err != nil {
		if errors.Is(err, ErrBodyTooLarge) {
			return newError(ErrBodyTooLarge, "body_too_large", nil)
		}
		return newError(ErrInvalidRequest, "body_unreadable", err)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		if required {
			return newError(ErrInvalidRequest, "empty_body", nil)
		}
		return nil
	}
	mt, _, err := mime.ParseMediaType(r.Header(HeaderContentType))
	if err != nil || mt != "application/json" {
		return newError(ErrInvalidRequest, "content_type", nil)
	}
	raw = bytes.TrimSpace(raw)
	if raw[0] != '{' {
		return newError(ErrInvalidRequest, "not_an_object", nil)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return newError(ErrInvalidRequest, "malformed_json", nil)
	}
	return nil
}

// tokenResponse renders a token response; in cookie transport the refresh
// token moves from the body to the refresh cookie.
func (s *Service) tokenResponse(tr *TokenResponse, cookieMode bool) *Response {
	var cookie string
	if cookieMode {
		cookie = s.refreshCookie(tr.RefreshToken, tr.RefreshExpiresIn)
		cp := *tr
		cp.RefreshToken = ""
		tr = &cp
	}
	out := jsonResponse(200, tr)
	if cookieMode {
		out.Header = append(out.Header, [2]string{"Set-Cookie", cookie})
	}
	return out
}

// refreshCookie renders the Set-Cookie value of the refresh cookie; an empty
// value with maxAge 0 clears it.
func (s *Service) refreshCookie(value string, maxAge int64) string {
	var b strings.Builder
	b.WriteString(RefreshCookieName)
	b.WriteByte('=')
	b.WriteString(value)
	b.WriteString("; Path=")
	b.WriteString(s.cfg.MountPrefix)
	b.WriteString("; Max-Age=")
	b.WriteString(strconv.FormatInt(max(maxAge, 0), 10))
	b.WriteString("; HttpOnly; Secure; SameSite=")
	b.WriteString(s.cfg.Cookie.SameSite)
	return b.String()
}

// Guard authenticates a request for a guarded route (Require). On failure it
// returns the complete response to send.
func (s *Service) Guard(ctx context.Context, r HTTPRequest) (*Principal, *Response) {
	tok, err := s.bearer(r)
	if err == nil && tok == "" {
		err = errNoCredential
	}
	if err == nil {
		var p *Principal
		if p, err = s.Authenticate(ctx, tok); err == nil {
			return p, nil
		}
	}
	return nil, s.guardFailure(ctx, r, err)
}

// GuardOptional is Guard for routes that also serve anonymous callers: no
// credential yields (nil, nil); a bad credential is still refused.
func (s *Service) GuardOptional(ctx context.Context, r HTTPRequest) (*Principal, *Response) {
	tok, err := s.bearer(r)
	if err == nil && tok == "" {
		return nil, nil
	}
	if err == nil {
		var p *Principal
		if p, err = s.Authenticate(ctx, tok); err == nil {
			return p, nil
		}
	}
	return nil, s.guardFailure(ctx, r, err)
}

func (s *Service) guardFailure(ctx context.Context, r HTTPRequest, err error) *Response {
	if !errors.Is(err, ErrNoCredential) {
		s.audit(ctx, levelFor(err), "access_denied", s.ClientInfo(r), "", "", ReasonOf(err))
	}
	return s.ErrorResponse(err)
}

// GuardRole refuses with 403 unless p has at least one of roles.
func (s *Service) GuardRole(ctx context.Context, r HTTPRequest, p *Principal, roles ...string) *Response {
	for _, role := range roles {
		if p.HasRole(role) {
			return nil
		}
	}
	s.audit(ctx, levelFor(ErrInsufficientScope), "access_denied", s.ClientInfo(r), p.Subject, p.SessionID, "missing_role")
	return s.ErrorResponse(newError(ErrInsufficientScope, "missing_role", nil))
}

// GuardPermission refuses with 403 unless the Authorizer allows p to perform
// action on object, and with 503 when the Authorizer fails.
func (s *Service) GuardPermission(ctx context.Context, r HTTPRequest, p *Principal, object, action string) *Response {
	if err := s.Authorize(ctx, p, object, action); err != nil {
		s.audit(ctx, levelFor(err), "access_denied", s.ClientInfo(r), p.Subject, p.SessionID, ReasonOf(err),
			slogString("object", object), slogString("action", action))
		return s.ErrorResponse(err)
	}
	return nil
}

var errNoCredential = &Error{Kind: ErrNoCredential, Reason: "no_credential"}
var errTwoCredentials = &Error{Kind: ErrInvalidRequest, Reason: "multiple_credentials"}
var errNotBearer = &Error{Kind: ErrInvalidToken, Reason: "malformed_authorization"}

// bearer extracts the access token from exactly one place: the Authorization
// header (scheme Bearer, case-insensitive) or, when configured, the access
// cookie, which gets the same CSRF defence as cookie transport. Never the
// query string. Two credentials are ErrInvalidRequest. An
// Authorization header of another scheme counts as no bearer credential.
func (s *Service) bearer(r HTTPRequest) (string, error) {
	hs := r.HeaderValues(HeaderAuthorization)
	var tok string
	switch len(hs) {
	case 0:
	case 1:
		t, ok, err := ParseBearer(hs[0])
		if err != nil {
			return "", err
		}
		if ok {
			tok = t
		}
	default:
		return "", errTwoCredentials
	}
	if name := s.cfg.Cookie.AccessCookie; name != "" {
		switch n := r.CookieCount(name); {
		case n > 1, n == 1 && len(hs) > 0:
			return "", errTwoCredentials
		case n == 1:
			if err := s.checkSameSite(r); err != nil {
				return "", err
			}
			v, _ := r.Cookie(name)
			return v, nil
		}
	}
	return tok, nil
}

// ParseBearer parses an Authorization header value. It returns ok=false for
// another scheme, and an ErrInvalidToken error for a Bearer header without a
// well-formed token (RFC 6750 b64token: one space, then token68 characters).
func ParseBearer(h string) (token string, ok bool, err error) {
	const scheme = "bearer"
	if len(h) < len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false, nil
	}
	if len(h) == len(scheme) {
		return "", true, errNotBearer
	}
	if h[len(scheme)] != ' ' {
		return "", false, nil
	}
	t := strings.TrimLeft(h[len(scheme)+1:], " ")
	if t == "" {
		return "", true, errNotBearer
	}
	for i := 0; i < len(t); i++ {
		if !token68[t[i]] {
			return "", true, errNotBearer
		}
	}
	return t, true, nil
}

// token68 marks the characters of RFC 6750's b64token.
var token68 = func() (set [256]bool) {
	for _, c := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/=") {
		set[c] = true
	}
	return set
}()

// ClientInfo describes the caller: the socket peer's IP unless that peer is a
// trusted proxy, in which case the right-most untrusted X-Forwarded-For hop.
func (s *Service) ClientInfo(r HTTPRequest) ClientInfo {
	return ClientInfo{
		IP:        s.clientIP(r),
		UserAgent: r.Header(HeaderUserAgent),
		RequestID: r.Header(HeaderRequestID),
	}
}

func (s *Service) clientIP(r HTTPRequest) string {
	peer := hostOnly(r.RemoteAddr())
	if len(s.cfg.TrustedProxies) == 0 {
		return peer
	}
	addr, err := netip.ParseAddr(peer)
	if err != nil || !s.trusted(addr) {
		return peer
	}
	var hops []string
	for _, v := range r.HeaderValues(HeaderForwardedFor) {
		for _, h := range strings.Split(v, ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hostOnly(hops[i]))
		if err != nil {
			return peer
		}
		if !s.trusted(a) {
			return a.Unmap().String()
		}
	}
	return peer
}

func (s *Service) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func hostOnly(addr string) string {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return ap.Addr().Unmap().String()
	}
	if a, err := netip.ParseAddr(strings.Trim(addr, "[]")); err == nil {
		return a.Unmap().String()
	}
	return addr
}

// ErrorResponse renders err as the contract's error response: the JSON error
// body, Cache-Control: no-store, WWW-Authenticate for 401 and 403, and
// Retry-After for 429. The fixed guard answers are rendered once and shared.
func (s *Service) ErrorResponse(err error) *Response {
	pr := ProblemFor(err)
	h := make([][2]string, 0, 4)
	h = append(h, [2]string{"Content-Type", "application/json"}, [2]string{"Cache-Control", "no-store"})
	switch pr.Challenge {
	case "":
	case "-":
		h = append(h, [2]string{"WWW-Authenticate", `Bearer realm="` + s.cfg.Realm + `"`})
	default:
		h = append(h, [2]string{"WWW-Authenticate", `Bearer realm="` + s.cfg.Realm + `", error="` + pr.Challenge + `"`})
	}
	if pr.Status == 429 {
		h = append(h, [2]string{"Retry-After", retryAfterSeconds(pr.RetryAfter)})
	}
	body, _ := json.Marshal(errorJSON{Error: pr.Code, Description: pr.Description})
	return &Response{Status: pr.Status, Header: h, Body: body}
}

type errorJSON struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func jsonResponse(status int, v any) *Response {
	body, err := json.Marshal(v)
	if err != nil {
		return &Response{Status: 500, Header: [][2]string{{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}},
			Body: []byte(`{"error":"server_error","error_description":"internal server error"}`)}
	}
	return &Response{Status: status, Header: [][2]string{{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}}, Body: body}
}

func noContent() *Response {
	return &Response{Status: 204, Header: [][2]string{{"Cache-Control", "no-store"}}}
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// GuardRecentAuth is the step-up guard for sensitive operations (changing
// e-mail, password or MFA; deleting the account): it refuses with 403
// insufficient_scope unless the user authenticated with a password within
// maxAge (auth_time, which refreshes never move). The client's answer is a
// new login, not a refresh.
func (s *Service) GuardRecentAuth(ctx context.Context, r HTTPRequest, p *Principal, maxAge time.Duration) *Response {
	if p != nil && s.now().Sub(p.AuthTime) <= maxAge {
		return nil
	}
	var subject, sid string
	if p != nil {
		subject, sid = p.Subject, p.SessionID
	}
	s.audit(ctx, levelFor(ErrInsufficientScope), "access_denied", s.ClientInfo(r), subject, sid, "reauthentication_required")
	return s.ErrorResponse(newError(ErrInsufficientScope, "reauthentication_required", nil))
}
