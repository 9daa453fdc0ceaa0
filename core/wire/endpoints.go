package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"mime"
	"strconv"
	"strings"
	"time"

	"github.com/authguard/authguard/core"
)

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

func (s *Server) serveSessions(ctx context.Context, p *core.Principal) *Response {
	list, err := s.svc.Sessions(ctx, p)
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
}

func (s *Server) serveLogin(ctx context.Context, r Request) *Response {
	cookieMode, resp := s.transport(r)
	if resp != nil {
		return resp
	}
	var body loginBody
	if err := readJSON(r, &body, true); err != nil {
		return s.ErrorResponse(err)
	}
	if body.Email == nil || body.Password == nil {
		return s.ErrorResponse(newError(core.ErrInvalidRequest, "missing_credentials"))
	}
	in := core.LoginInput{Email: *body.Email, Password: *body.Password, Client: s.ClientInfo(r)}
	if body.Device != nil && body.Device.Name != nil {
		if len(*body.Device.Name) > MaxDeviceNameBytes {
			return s.ErrorResponse(newError(core.ErrInvalidRequest, "device_name_too_long"))
		}
		in.DeviceName = *body.Device.Name
	}
	tr, err := s.svc.Login(ctx, in)
	if err != nil {
		return s.ErrorResponse(err)
	}
	return s.tokenResponse(tr, cookieMode)
}

func (s *Server) serveRefresh(ctx context.Context, r Request) *Response {
	cookieMode, resp := s.transport(r)
	if resp != nil {
		return resp
	}
	tok, err := s.refreshCredential(r, cookieMode)
	if err != nil {
		return s.ErrorResponse(err)
	}
	if tok == "" {
		return s.ErrorResponse(newError(core.ErrInvalidRequest, "no_refresh_token"))
	}
	tr, err := s.svc.Refresh(ctx, tok, s.ClientInfo(r))
	if err != nil {
		out := s.ErrorResponse(err)
		if cookieMode && errors.Is(err, core.ErrInvalidGrant) {
			out.Header = append(out.Header, [2]string{"Set-Cookie", s.refreshCookie("", 0)})
		}
		return out
	}
	return s.tokenResponse(tr, cookieMode)
}

func (s *Server) serveLogout(ctx context.Context, r Request) *Response {
	cookieMode, resp := s.transport(r)
	if resp != nil {
		return resp
	}
	tok, err := s.refreshCredential(r, cookieMode)
	if err != nil {
		return s.ErrorResponse(err)
	}
	in := core.LogoutInput{RefreshToken: tok, Client: s.ClientInfo(r)}
	if tok == "" {
		bearer, err := s.bearer(r)
		if errors.Is(err, core.ErrInvalidToken) {
			// A malformed bearer is an invalid credential, not a missing one:
			// logout stays idempotent (204) and never answers 401.
			s.svc.Audit(ctx, "logout_noop", err, in.Client, "", "")
			return s.clearCookie(noContent())
		}
		if err != nil {
			return s.ErrorResponse(err)
		}
		in.AccessToken = bearer
	}
	if err := s.svc.Logout(ctx, in); err != nil {
		return s.ErrorResponse(err)
	}
	return s.clearCookie(noContent())
}

func (s *Server) clearCookie(out *Response) *Response {
	out.Header = append(out.Header, [2]string{"Set-Cookie", s.refreshCookie("", 0)})
	return out
}

// transport reports whether the request asked for cookie transport and, if
// so, applies the CSRF defence: a cross-site Sec-Fetch-Site or an Origin that
// is not allowed is refused.
func (s *Server) transport(r Request) (bool, *Response) {
	if !strings.EqualFold(strings.TrimSpace(r.Header(HeaderTransport)), "cookie") {
		return false, nil
	}
	if err := s.checkSameSite(r); err != nil {
		return true, s.ErrorResponse(err)
	}
	return true, nil
}

var (
	errCrossSite   = newError(core.ErrInvalidRequest, "csrf_cross_site")
	errCrossOrigin = newError(core.ErrInvalidRequest, "csrf_origin")
)

// checkSameSite is the CSRF defence of every cookie-carried credential: a
// request whose Sec-Fetch-Site is cross-site, or whose Origin (when sent) is
// not an allowed origin, is refused.
func (s *Server) checkSameSite(r Request) error {
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
func (s *Server) refreshCredential(r Request, cookieMode bool) (string, error) {
	var body refreshBody
	if err := readJSON(r, &body, false); err != nil {
		return "", err
	}
	if body.RefreshToken != nil {
		if *body.RefreshToken == "" {
			return "", newError(core.ErrInvalidRequest, "empty_refresh_token")
		}
		return *body.RefreshToken, nil
	}
	if cookieMode {
		if r.CookieCount(RefreshCookieName) > 1 {
			return "", newError(core.ErrInvalidRequest, "duplicate_cookie")
		}
		v, _ := r.Cookie(RefreshCookieName)
		return v, nil
	}
	return "", nil
}

// readJSON decodes a JSON object body. An empty body is an error only when
// required. A non-empty body must be declared application/json.
func readJSON(r Request, v any, required bool) error {
	raw, err := r.Body(MaxBodyBytes)
	if err != nil {
		if errors.Is(err, core.ErrBodyTooLarge) {
			return newError(core.ErrBodyTooLarge, "body_too_large")
		}
		return &core.Error{Kind: core.ErrInvalidRequest, Reason: "body_unreadable", Err: err}
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		if required {
			return newError(core.ErrInvalidRequest, "empty_body")
		}
		return nil
	}
	mt, _, err := mime.ParseMediaType(r.Header(HeaderContentType))
	if err != nil || mt != "application/json" {
		return newError(core.ErrInvalidRequest, "content_type")
	}
	raw = bytes.TrimSpace(raw)
	if raw[0] != '{' {
		return newError(core.ErrInvalidRequest, "not_an_object")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return newError(core.ErrInvalidRequest, "malformed_json")
	}
	return nil
}

// tokenResponse renders a token response; in cookie transport the refresh
// token moves from the body to the refresh cookie.
func (s *Server) tokenResponse(tr *core.TokenResponse, cookieMode bool) *Response {
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
func (s *Server) refreshCookie(value string, maxAge int64) string {
	var b strings.Builder
	b.WriteString(RefreshCookieName)
	b.WriteByte('=')
	b.WriteString(value)
	b.WriteString("; Path=")
	b.WriteString(s.prefix)
	b.WriteString("; Max-Age=")
	b.WriteString(strconv.FormatInt(max(maxAge, 0), 10))
	b.WriteString("; HttpOnly; Secure; SameSite=")
	b.WriteString(s.sameSite)
	return b.String()
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
