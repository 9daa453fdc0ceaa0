package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
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
	in, cookieMode, err := s.loginInput(r)
	if err != nil {
		return s.refuse(ctx, r, "login", err)
	}
	tr, err := s.svc.Login(ctx, in)
	if err != nil {
		return s.ErrorResponse(err)
	}
	return s.tokenResponse(tr, cookieMode)
}

// loginInput reads a login request: the transport, then the body.
func (s *Server) loginInput(r Request) (core.LoginInput, bool, error) {
	cookieMode, err := s.transport(r)
	if err != nil {
		return core.LoginInput{}, cookieMode, err
	}
	var body loginBody
	if err := readJSON(r, &body, true); err != nil {
		return core.LoginInput{}, cookieMode, err
	}
	switch {
	case body.Email == nil:
		return core.LoginInput{}, cookieMode, errMissingEmail
	case body.Password == nil:
		return core.LoginInput{}, cookieMode, errMissingPassword
	}
	in := core.LoginInput{Email: *body.Email, Password: *body.Password, Client: s.ClientInfo(r)}
	if body.Device != nil && body.Device.Name != nil {
		if len(*body.Device.Name) > MaxDeviceNameBytes {
			return core.LoginInput{}, cookieMode, errDeviceNameTooLong
		}
		in.DeviceName = *body.Device.Name
	}
	return in, cookieMode, nil
}

func (s *Server) serveRefresh(ctx context.Context, r Request) *Response {
	cookieMode, err := s.transport(r)
	var tok string
	if err == nil {
		tok, err = s.refreshCredential(r, cookieMode)
	}
	if err == nil && tok == "" {
		err = missingCredential(r, cookieMode, errNoRefreshToken)
	}
	if err != nil {
		return s.refuse(ctx, r, "refresh", err)
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
	cookieMode, err := s.transport(r)
	var tok string
	if err == nil {
		tok, err = s.refreshCredential(r, cookieMode)
	}
	if err != nil {
		return s.refuse(ctx, r, "logout", err)
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
		if err == nil && bearer == "" {
			err = missingCredential(r, cookieMode, errNoLogoutCredential)
		}
		if err != nil {
			return s.refuse(ctx, r, "logout", err)
		}
		in.AccessToken = bearer
	}
	if err := s.svc.Logout(ctx, in); err != nil {
		return s.ErrorResponse(err)
	}
	return s.clearCookie(noContent())
}

// refuse answers a request the contract refuses before the service sees
// it, and writes the refusal's one audit line (event "request_refused",
// with the reason and the endpoint).
func (s *Server) refuse(ctx context.Context, r Request, endpoint string, err error) *Response {
	s.svc.Audit(ctx, "request_refused", err, s.ClientInfo(r), "", "", slog.String("endpoint", endpoint))
	return s.ErrorResponse(err)
}

// missingCredential is the refusal of a token request that carries no
// credential: a refresh cookie sent without cookie transport is named as
// such, anything else is missing.
func missingCredential(r Request, cookieMode bool, missing error) error {
	if !cookieMode && r.CookieCount(RefreshCookieName) > 0 {
		return errCookieWithoutTransport
	}
	return missing
}

func (s *Server) clearCookie(out *Response) *Response {
	out.Header = append(out.Header, [2]string{"Set-Cookie", s.refreshCookie("", 0)})
	return out
}

// transport reports whether the request asked for cookie transport and, if
// so, applies the CSRF defence: a cross-site Sec-Fetch-Site or an Origin that
// is not allowed is refused.
func (s *Server) transport(r Request) (bool, error) {
	if !strings.EqualFold(strings.TrimSpace(r.Header(HeaderTransport)), "cookie") {
		return false, nil
	}
	return true, s.checkSameSite(r)
}

// The refusals of the token endpoints (descriptions: requestDescriptions).
var (
	errCrossSite              = newError(core.ErrInvalidRequest, "csrf_cross_site")
	errCrossOrigin            = newError(core.ErrInvalidRequest, "csrf_origin")
	errMissingEmail           = newError(core.ErrInvalidRequest, "missing_email")
	errMissingPassword        = newError(core.ErrInvalidRequest, "missing_password")
	errDeviceNameTooLong      = newError(core.ErrInvalidRequest, "device_name_too_long")
	errNoRefreshToken         = newError(core.ErrInvalidRequest, "no_refresh_token")
	errEmptyRefreshToken      = newError(core.ErrInvalidRequest, "empty_refresh_token")
	errNoLogoutCredential     = newError(core.ErrInvalidRequest, "no_credential")
	errCookieWithoutTransport = newError(core.ErrInvalidRequest, "cookie_without_transport")
	errDuplicateCookie        = newError(core.ErrInvalidRequest, "duplicate_cookie")
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
			return "", errEmptyRefreshToken
		}
		return *body.RefreshToken, nil
	}
	if cookieMode {
		if r.CookieCount(RefreshCookieName) > 1 {
			return "", errDuplicateCookie
		}
		v, _ := r.Cookie(RefreshCookieName)
		return v, nil
	}
	return "", nil
}

// typeReasons names the refusal of a JSON value of the wrong type, by the
// path of its field.
var typeReasons = map[string]string{
	"email":        "email_not_string",
	"password":     "password_not_string",
	"device":       "device_not_object",
	"device.name":  "device_name_not_string",
	"refreshToken": "refresh_token_not_string",
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
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && typeReasons[te.Field] != "" {
			return newError(core.ErrInvalidRequest, typeReasons[te.Field])
		}
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
