// Package goclient is a Go client for an authguard server (the HTTP contract
// of docs/contract.md): it logs in, keeps the tokens in a TokenStore,
// attaches the access token to API requests and refreshes it shortly before
// it expires (in Do, or in the background with KeepFresh) and when the server
// refuses it. A FileStore keeps a session across restarts of the program.
//
// It is the Go counterpart of the mobile client architecture users run
// (secure storage, an access token on every request, a refresh on 401), with
// three differences that matter in production:
//
//   - A network error, a timeout, a 5xx or a 429 during a refresh does not log
//     the user out. The tokens are kept and the caller gets a *TemporaryError
//     (errors.Is(err, ErrTemporary)), so it can retry once the network is
//     back. Only the server's 400 invalid_grant ends the session
//     (ErrLoggedOut).
//   - The refresh request is sent with the plain *http.Client, never through
//     Do, so a failed refresh can never trigger another refresh.
//   - Refresh is single-flight: when many requests find the access token
//     stale at once, or KeepFresh's timer fires while a request is being
//     refused, exactly one refresh request is sent and every caller shares
//     its result.
//
// Typical use:
//
//	store, err := goclient.NewFileStore(filepath.Join(configDir, "myapp", "tokens.json"))
//	c, err := goclient.New("https://api.example.com", goclient.WithTokenStore(store))
//	err = c.Login(ctx, email, password, "Pixel 9")
//	req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.example.com/api/profile", nil)
//	resp, err := c.Do(req)
//	switch {
//	case errors.Is(err, goclient.ErrLoggedOut): // show the login screen
//	case errors.Is(err, goclient.ErrTemporary): // offline: keep the session, retry later
//	}
package goclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrLoggedOut means there is no session: the client never logged in, logged
// out, or the server refused the refresh token with 400 invalid_grant (the
// session was revoked, expired or ended by reuse detection). The tokens are
// cleared; the user has to log in again. Test with errors.Is.
var ErrLoggedOut = errors.New("goclient: logged out")

// ErrTemporary matches every *TemporaryError with errors.Is: the server could
// not be reached or asked to try again later. The session is kept.
var ErrTemporary = errors.New("goclient: temporary failure")

// TemporaryError is a failure that says nothing about the session: a network
// error, a timeout, a 5xx or a 429. The tokens are kept; retry later.
type TemporaryError struct {
	// Op is the operation that failed: "login", "refresh" or "logout".
	Op string
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration
	// Err is the cause: a transport error or an *APIError.
	Err error
}

// Error describes the failure.
func (e *TemporaryError) Error() string {
	return fmt.Sprintf("goclient: %s: temporary failure: %v", e.Op, e.Err)
}

// Unwrap returns the cause.
func (e *TemporaryError) Unwrap() error { return e.Err }

// Is reports whether target is ErrTemporary.
func (e *TemporaryError) Is(target error) bool { return target == ErrTemporary }

// APIError is an error answer of the server: the HTTP status and the
// contract's error body {"error", "error_description"}. Code is empty when
// the body was not a contract error body.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Code is the body's "error" ("invalid_grant", "invalid_request", ...).
	Code string
	// Description is the body's "error_description".
	Description string
}

// Error describes the answer.
func (e *APIError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("goclient: HTTP %d", e.Status)
	}
	if e.Description == "" {
		return fmt.Sprintf("goclient: HTTP %d %s", e.Status, e.Code)
	}
	return fmt.Sprintf("goclient: HTTP %d %s: %s", e.Status, e.Code, e.Description)
}

// Tokens is what the client keeps of a session.
type Tokens struct {
	// AccessToken is the JWT sent as the bearer.
	AccessToken string
	// RefreshToken is the opaque, rotating refresh token: the long-lived
	// secret of the session.
	RefreshToken string
	// SessionID is the server's session id (as listed by /auth/sessions).
	SessionID string
	// AccessExpiresAt is when the access token expires, computed from the
	// token response's expiresIn with the client's clock.
	AccessExpiresAt time.Time
	// AccessIssuedAt is when the client received the access token, by its
	// clock; with AccessExpiresAt it gives the token's lifetime, of which
	// the default refresh margin is a tenth. Zero when unknown.
	AccessIssuedAt time.Time
}

// TokenStore keeps the tokens of one session between requests and, for a
// persistent implementation, between runs of the application.
//
// A mobile app keeps at least the refresh token in the platform keystore
// (iOS Keychain, Android Keystore; expo-secure-store in an Expo app), never
// in plain preferences or files: it is the long-lived credential of the
// session. The access token is short-lived and may live in memory only.
//
// A Go program that runs on a desktop or server uses a FileStore (one file,
// mode 0600); tests and short-lived programs use a MemoryStore.
//
// The client calls the store with its own lock held, so an implementation
// needs no locking of its own for one client, and should be quick. An error
// of the store is returned to the caller as it is; it never ends the session.
// The client calls Clear only when the session is over (the server answered
// the refresh with invalid_grant, or Logout succeeded).
type TokenStore interface {
	// Load returns the saved tokens; the zero Tokens when there are none.
	Load(ctx context.Context) (Tokens, error)
	// Save replaces the saved tokens.
	Save(ctx context.Context, t Tokens) error
	// Clear removes the saved tokens.
	Clear(ctx context.Context) error
}

// MemoryStore is the default TokenStore: the tokens live in memory only, so
// the session ends with the process. It is safe for concurrent use.
type MemoryStore struct {
	mu sync.Mutex
	t  Tokens
}

// Load returns the tokens, the zero Tokens when there are none.
func (m *MemoryStore) Load(context.Context) (Tokens, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.t, nil
}

// Save replaces the tokens.
func (m *MemoryStore) Save(_ context.Context, t Tokens) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.t = t
	return nil
}

// Clear removes the tokens.
func (m *MemoryStore) Clear(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.t = Tokens{}
	return nil
}

// Option configures a Client in New.
type Option func(*Client) error

// WithHTTPClient sets the *http.Client for every request, the token
// endpoints included (default http.DefaultClient). Its Timeout also bounds
// each refresh.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("goclient: WithHTTPClient: nil client")
		}
		c.hc = hc
		return nil
	}
}

// WithTokenStore sets where the tokens are kept (default a MemoryStore). A
// program that should stay logged in across restarts passes a FileStore; a
// mobile app, a store backed by the platform keystore. See TokenStore.
func WithTokenStore(s TokenStore) Option {
	return func(c *Client) error {
		if s == nil {
			return errors.New("goclient: WithTokenStore: nil store")
		}
		c.store = s
		return nil
	}
}

// WithMountPrefix sets the path under which the server mounts its token
// endpoints (default "/auth").
func WithMountPrefix(prefix string) Option {
	return func(c *Client) error {
		p := "/" + strings.Trim(prefix, "/")
		if p == "/" {
			p = ""
		}
		c.prefix = p
		return nil
	}
}

// WithRefreshSkew sets the refresh margin: Do refreshes the access token
// before sending a request, and KeepFresh refreshes it, when the token
// expires within d, so that a request does not fail on a token that expires
// on its way. The default is the smaller of DefaultRefreshSkew and a tenth of
// the token's lifetime (6s for a 60s token, 30s for a 10m one). Zero makes Do
// refresh only on a 401 and KeepFresh refresh at the expiry.
func WithRefreshSkew(d time.Duration) Option {
	return func(c *Client) error {
		if d < 0 {
			return errors.New("goclient: WithRefreshSkew: negative duration")
		}
		c.skew, c.skewSet = d, true
		return nil
	}
}

// DefaultRefreshSkew is the longest default refresh margin; see
// WithRefreshSkew.
const DefaultRefreshSkew = 30 * time.Second

// retryMin and retryMax bound the wait of KeepFresh after a failed refresh:
// it doubles from retryMin up to retryMax, or is the server's Retry-After
// when that is longer.
const (
	retryMin = time.Second
	retryMax = time.Minute
)

// refreshTimeout bounds one refresh request. The request runs detached from
// the context of the caller that started it (the other callers wait for its
// result too), so it gets its own deadline.
const refreshTimeout = 30 * time.Second

// maxBody bounds what is read of an answer of a token endpoint.
const maxBody = 1 << 20

// Client is a session with one authguard server. It is safe for concurrent
// use by many goroutines.
type Client struct {
	base    string
	prefix  string
	skew    time.Duration
	skewSet bool // WithRefreshSkew was given
	hc      *http.Client
	store   TokenStore
	now     func() time.Time

	mu       sync.Mutex
	loaded   bool          // cur was read from the store
	cur      Tokens        // the tokens of the store
	gen      uint64        // incremented whenever cur changes
	changed  chan struct{} // closed and replaced whenever cur changes
	inflight *refreshCall  // the refresh under way, if any
}

// refreshCall is one refresh request, shared by every caller that needs it.
type refreshCall struct {
	done chan struct{}
	tok  Tokens
	err  error
}

// New returns a client of the server at baseURL ("https://api.example.com").
func New(baseURL string, opts ...Option) (*Client, error) {
	if !strings.HasPrefix(baseURL, "http://") && !strings.HasPrefix(baseURL, "https://") {
		return nil, fmt.Errorf("goclient: base URL %q: want http:// or https://", baseURL)
	}
	c := &Client{
		base:    strings.TrimRight(baseURL, "/"),
		prefix:  "/auth",
		skew:    DefaultRefreshSkew,
		hc:      http.DefaultClient,
		store:   &MemoryStore{},
		now:     time.Now,
		changed: make(chan struct{}),
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// tokenResponse is the contract's token response.
type tokenResponse struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	TokenType    string `json:"tokenType"`
	ExpiresIn    int64  `json:"expiresIn"`
	SessionID    string `json:"sessionId"`
}

// Login logs in with a password and saves the session's tokens. deviceName
// ("Pixel 9") names the session in the server's session list; "" sends none.
// Bad credentials are an *APIError with Code "invalid_grant"; a network
// error, 5xx or 429 is a *TemporaryError.
func (c *Client) Login(ctx context.Context, email, password, deviceName string) error {
	body := map[string]any{"email": email, "password": password}
	if deviceName != "" {
		body["device"] = map[string]string{"name": deviceName}
	}
	resp, err := c.post(ctx, "/login", body)
	if err != nil {
		return &TemporaryError{Op: "login", Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return classify("login", resp)
	}
	t, err := c.decodeTokens(resp)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.store.Save(ctx, t); err != nil {
		return fmt.Errorf("goclient: saving tokens: %w", err)
	}
	c.cur, c.loaded = t, true
	c.bumpLocked()
	return nil
}

// Logout ends the session on the server and then forgets the tokens. The
// tokens are cleared only once the server answered 204, or 400
// invalid_request / invalid_grant (it holds nothing to revoke); then Logout
// returns nil. On a network error, a 5xx or a 429 nothing was revoked: the
// tokens are kept and the *TemporaryError returned, so the caller can retry.
// Without a session Logout does nothing and returns nil.
func (c *Client) Logout(ctx context.Context) error {
	// A refresh under way would rotate the refresh token: wait for it, so
	// the logout names the current token.
	var t Tokens
	var gen uint64
	for {
		c.mu.Lock()
		if err := c.loadLocked(ctx); err != nil {
			c.mu.Unlock()
			return err
		}
		call := c.inflight
		if call == nil {
			t, gen = c.cur, c.gen
			c.mu.Unlock()
			break
		}
		c.mu.Unlock()
		select {
		case <-call.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if t.RefreshToken == "" && t.AccessToken == "" {
		return nil
	}
	var resp *http.Response
	var err error
	if t.RefreshToken != "" {
		resp, err = c.post(ctx, "/logout", map[string]string{"refreshToken": t.RefreshToken})
	} else {
		var req *http.Request
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, c.base+c.prefix+"/logout", nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+t.AccessToken)
			resp, err = c.hc.Do(req)
		}
	}
	if err != nil {
		return &TemporaryError{Op: "logout", Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		err := classify("logout", resp)
		var ae *APIError
		if !errors.As(err, &ae) || errors.Is(err, ErrTemporary) || ae.Status != http.StatusBadRequest ||
			(ae.Code != "invalid_request" && ae.Code != "invalid_grant") {
			return err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return nil // a login in the meantime started another session: keep it
	}
	return c.clearLocked(ctx)
}

// Tokens returns the current tokens, the zero Tokens without a session.
func (c *Client) Tokens(ctx context.Context) (Tokens, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.loadLocked(ctx); err != nil {
		return Tokens{}, err
	}
	return c.cur, nil
}

// Do sends req with the session's access token as the bearer and returns the
// answer, as http.Client.Do does; req itself is not modified.
//
// When the access token expires within the refresh margin (see
// WithRefreshSkew), Do refreshes it first. When the server answers 401 with WWW-Authenticate error="invalid_token"
// (an expired or revoked access token), Do refreshes once and sends the
// request once more. A request with a body is sent again only when
// req.GetBody can replay it (http.NewRequest sets it for bytes.Buffer,
// bytes.Reader and strings.Reader bodies); otherwise the 401 is returned.
//
// Without a session Do sends nothing and returns ErrLoggedOut; when the
// refresh ends the session it returns ErrLoggedOut (the tokens are cleared);
// when the refresh fails for a passing reason it returns the *TemporaryError
// and keeps the session.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	c.mu.Lock()
	if err := c.loadLocked(ctx); err != nil {
		c.mu.Unlock()
		return nil, err
	}
	t, gen := c.cur, c.gen
	c.mu.Unlock()
	if t.AccessToken == "" && t.RefreshToken == "" {
		return nil, ErrLoggedOut
	}

	if t.AccessToken == "" || (c.margin(t) > 0 && !t.AccessExpiresAt.IsZero() && !c.now().Before(c.refreshAt(t))) {
		nt, ngen, err := c.refresh(ctx, gen)
		switch {
		case err == nil:
			t, gen = nt, ngen
		case errors.Is(err, ErrTemporary) && t.AccessToken != "" && c.now().Before(t.AccessExpiresAt):
			// The token is still valid: send it rather than fail.
		default:
			return nil, err
		}
	}

	resp, err := c.hc.Do(withBearer(req, req.Body, t.AccessToken))
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !invalidToken(resp.Header) {
		return resp, err
	}
	body := req.Body
	if body != nil && body != http.NoBody {
		if req.GetBody == nil {
			return resp, nil // not replayable
		}
		if body, err = req.GetBody(); err != nil {
			return resp, nil
		}
	}
	nt, _, err := c.refresh(ctx, gen)
	if err != nil {
		if body != nil {
			body.Close()
		}
		drain(resp)
		return nil, err
	}
	drain(resp)
	return c.hc.Do(withBearer(req, body, nt.AccessToken))
}

// withBearer returns a copy of req with body and the bearer.
func withBearer(req *http.Request, body io.ReadCloser, access string) *http.Request {
	r := req.Clone(req.Context())
	r.Body = body
	r.Header.Set("Authorization", "Bearer "+access)
	return r
}

// invalidToken reports whether a 401 says the access token was refused (and
// not, say, that none was sent).
func invalidToken(h http.Header) bool {
	for _, v := range h.Values("WWW-Authenticate") {
		if strings.Contains(v, `error="invalid_token"`) {
			return true
		}
	}
	return false
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
}

// Refresh refreshes the tokens now, as Do does when they are stale: nil on
// success, ErrLoggedOut when the session is over (tokens cleared), a
// *TemporaryError when the server could not answer (tokens kept).
func (c *Client) Refresh(ctx context.Context) error {
	c.mu.Lock()
	if err := c.loadLocked(ctx); err != nil {
		c.mu.Unlock()
		return err
	}
	gen := c.gen
	c.mu.Unlock()
	_, _, err := c.refresh(ctx, gen)
	return err
}

// refresh returns tokens newer than generation seen. When the tokens changed
// since the caller read them (another caller refreshed, or a login), it
// returns those without a request. Otherwise it joins the refresh under way
// or starts one: at most one refresh request is in flight per client.
func (c *Client) refresh(ctx context.Context, seen uint64) (Tokens, uint64, error) {
	c.mu.Lock()
	if c.gen != seen {
		t, gen := c.cur, c.gen
		c.mu.Unlock()
		if t.RefreshToken == "" && t.AccessToken == "" {
			return t, gen, ErrLoggedOut
		}
		return t, gen, nil
	}
	call := c.inflight
	if call == nil {
		call = &refreshCall{done: make(chan struct{})}
		c.inflight = call
		rt := c.cur.RefreshToken
		// Detached from ctx: other callers share the result, so one caller
		// giving up must not fail them all.
		go c.runRefresh(context.WithoutCancel(ctx), call, rt, seen)
	}
	c.mu.Unlock()
	select {
	case <-call.done:
		c.mu.Lock()
		gen := c.gen
		c.mu.Unlock()
		return call.tok, gen, call.err
	case <-ctx.Done():
		return Tokens{}, 0, ctx.Err()
	}
}

// runRefresh sends the refresh request with the plain http.Client (never
// through Do) and records the outcome.
func (c *Client) runRefresh(ctx context.Context, call *refreshCall, refreshToken string, gen uint64) {
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	t, err := c.sendRefresh(ctx, refreshToken)

	c.mu.Lock()
	defer c.mu.Unlock()
	defer close(call.done)
	c.inflight = nil
	if c.gen != gen {
		// A login or logout happened meanwhile: the outcome is stale.
		call.tok, call.err = c.cur, nil
		if c.cur.RefreshToken == "" && c.cur.AccessToken == "" {
			call.err = ErrLoggedOut
		}
		return
	}
	switch {
	case err == nil:
		// The server rotated the refresh token: the new tokens are the
		// session now, kept in memory even when the store fails to save
		// them (the caller gets that error).
		c.cur = t
		c.bumpLocked()
		call.tok = t
		if serr := c.store.Save(ctx, t); serr != nil {
			call.err = fmt.Errorf("goclient: saving tokens: %w", serr)
		}
	case errors.Is(err, ErrLoggedOut):
		if cerr := c.clearLocked(ctx); cerr != nil {
			err = errors.Join(err, cerr)
		}
		call.err = err
	default:
		call.err = err
	}
}

// sendRefresh is one POST {prefix}/refresh.
func (c *Client) sendRefresh(ctx context.Context, refreshToken string) (Tokens, error) {
	if refreshToken == "" {
		return Tokens{}, ErrLoggedOut
	}
	resp, err := c.post(ctx, "/refresh", map[string]string{"refreshToken": refreshToken})
	if err != nil {
		return Tokens{}, &TemporaryError{Op: "refresh", Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err := classify("refresh", resp)
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusBadRequest && ae.Code == "invalid_grant" {
			return Tokens{}, fmt.Errorf("%w: %w", ErrLoggedOut, ae)
		}
		return Tokens{}, err
	}
	t, err := c.decodeTokens(resp)
	if err != nil {
		return Tokens{}, err
	}
	if t.RefreshToken == "" {
		t.RefreshToken = refreshToken
	}
	return t, nil
}

// loadLocked reads the store once. c.mu is held.
func (c *Client) loadLocked(ctx context.Context) error {
	if c.loaded {
		return nil
	}
	t, err := c.store.Load(ctx)
	if err != nil {
		return fmt.Errorf("goclient: loading tokens: %w", err)
	}
	c.cur, c.loaded = t, true
	return nil
}

// clearLocked forgets the session. c.mu is held.
func (c *Client) clearLocked(ctx context.Context) error {
	c.cur, c.loaded = Tokens{}, true
	c.bumpLocked()
	if err := c.store.Clear(ctx); err != nil {
		return fmt.Errorf("goclient: clearing tokens: %w", err)
	}
	return nil
}

// post sends a JSON body to a token endpoint with the plain http.Client.
func (c *Client) post(ctx context.Context, endpoint string, body any) (*http.Response, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+c.prefix+endpoint, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	return c.hc.Do(req)
}

// decodeTokens reads a 200 token response.
func (c *Client) decodeTokens(resp *http.Response) (Tokens, error) {
	var tr tokenResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(&tr); err != nil {
		return Tokens{}, fmt.Errorf("goclient: token response: %w", err)
	}
	if tr.AccessToken == "" {
		return Tokens{}, errors.New("goclient: token response without accessToken")
	}
	t := Tokens{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, SessionID: tr.SessionID}
	if tr.ExpiresIn > 0 {
		now := c.now().Round(0)
		t.AccessIssuedAt = now
		t.AccessExpiresAt = now.Add(time.Duration(tr.ExpiresIn) * time.Second)
	}
	return t, nil
}

// classify turns an error answer into an *APIError, wrapped in a
// *TemporaryError for a 5xx or 429.
func classify(op string, resp *http.Response) error {
	ae := &APIError{Status: resp.StatusCode}
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody)); err == nil && json.Unmarshal(b, &body) == nil {
		ae.Code, ae.Description = body.Error, body.Description
	}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		te := &TemporaryError{Op: op, Err: ae}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			te.RetryAfter = time.Duration(s) * time.Second
		}
		return te
	}
	return ae
}
