package wire_test

// Security checklist items of the HTTP contract (the R-numbers of
// SECURITY.md): each test name carries the item number; SECURITY.md maps
// every item to its tests.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/netip"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/wire"
)

// secRequest is a wire.Request built by hand, so that the contract's
// request handling can be tested without a transport.
type secRequest struct {
	remote  string
	headers map[string][]string
	cookies map[string][]string
	body    []byte
}

func newSecRequest(remote string) *secRequest {
	return &secRequest{remote: remote, headers: map[string][]string{}, cookies: map[string][]string{}}
}

func (r *secRequest) with(name, value string) *secRequest {
	k := textproto.CanonicalMIMEHeaderKey(name)
	r.headers[k] = append(r.headers[k], value)
	return r
}

func (r *secRequest) jsonBody(body string) *secRequest {
	r.body = []byte(body)
	return r.with("Content-Type", "application/json")
}

// Header and HeaderValues index the map with name as given: the contract
// passes canonical names (see wire.Request), and with stores them so.
func (r *secRequest) Header(name string) string {
	if v := r.headers[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (r *secRequest) HeaderValues(name string) []string {
	return r.headers[name]
}

func (r *secRequest) Cookie(name string) (string, bool) {
	if v := r.cookies[name]; len(v) > 0 {
		return v[0], true
	}
	return "", false
}

func (r *secRequest) CookieCount(name string) int { return len(r.cookies[name]) }

func (r *secRequest) RemoteAddr() string { return r.remote }

func (r *secRequest) Body(limit int64) ([]byte, error) {
	if int64(len(r.body)) > limit {
		return nil, core.ErrBodyTooLarge
	}
	return r.body, nil
}

func secLogin(t *testing.T, f *authtest.Fixture, email string, c core.ClientInfo) *core.TokenResponse {
	t.Helper()
	tr, err := f.Service.Login(context.Background(), core.LoginInput{Email: email, Password: authtest.Password, Client: c})
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	return tr
}

func secRefresh(t *testing.T, f *authtest.Fixture, rt string) *core.TokenResponse {
	t.Helper()
	tr, err := f.Service.Refresh(context.Background(), rt, core.ClientInfo{})
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	return tr
}

// R46: the step-up guard accepts only a recent password login (auth_time);
// a refresh does not renew it.
func TestR46_StepUpGuardWantsRecentPasswordLogin(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	ctx := context.Background()
	req := newSecRequest("192.0.2.1:1234")
	recent := wire.New(f.Service).RequireRecentAuth(5 * time.Minute)
	tr := secLogin(t, f, authtest.UserEmail, core.ClientInfo{})
	p, err := f.Service.Authenticate(ctx, tr.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, resp := recent.Check(ctx, req, p, nil); resp != nil {
		t.Fatalf("fresh login refused: %d", resp.Status)
	}
	f.Clock.Advance(6 * time.Minute)
	next := secRefresh(t, f, tr.RefreshToken)
	p, err = f.Service.Authenticate(ctx, next.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range []*core.Principal{p} {
		_, resp := recent.Check(ctx, req, pr, nil)
		if resp == nil || resp.Status != 403 || !bytes.Contains(resp.Body, []byte(`"insufficient_scope"`)) {
			t.Fatalf("stale authentication accepted: %+v", resp)
		}
	}
	if !strings.Contains(f.Logs.String(), `"reason":"reauthentication_required"`) {
		t.Fatal("the refused step-up is not logged")
	}
	again := secLogin(t, f, authtest.UserEmail, core.ClientInfo{})
	p, _ = f.Service.Authenticate(ctx, again.AccessToken)
	if _, resp := recent.Check(ctx, req, p, nil); resp != nil {
		t.Fatalf("new login refused: %d", resp.Status)
	}
}

// R56: the client IP is the socket peer; X-Forwarded-For, X-Real-IP and
// Forwarded count only from a configured trusted proxy, and then the
// right-most untrusted hop is used.
func TestR56_ClientIPFromSocketUnlessTrustedProxy(t *testing.T) {
	spoof := func(r *secRequest) *secRequest {
		return r.with("X-Forwarded-For", "203.0.113.9").with("X-Real-IP", "203.0.113.9").with("Forwarded", "for=203.0.113.9")
	}
	plain := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.LoginThrottle.IPLimit = 2 }})
	for remote, want := range map[string]string{
		"192.0.2.1:1234":          "192.0.2.1",
		"[::ffff:192.0.2.1]:1234": "192.0.2.1",
		"[2001:db8::1]:443":       "2001:db8::1",
	} {
		if got := wire.New(plain.Service).ClientInfo(spoof(newSecRequest(remote))).IP; got != want {
			t.Errorf("peer %s with forwarding headers: IP %q, want %q", remote, got, want)
		}
	}
	// The IP limit counts the socket peer, whatever the headers claim.
	login := func(svc *core.Service, r *secRequest, email string) int {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"email": email, "password": "a wrong password"})
		return wire.New(svc).Serve(context.Background(), wire.EndpointLogin, r.jsonBody(string(body)), "").Status
	}
	for i, xff := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
		want := 400
		if i == 2 {
			want = 429
		}
		r := newSecRequest("192.0.2.1:1234").with("X-Forwarded-For", xff).with("X-Real-IP", xff)
		if got := login(plain.Service, r, "nobody"+xff+"@example.com"); got != want {
			t.Fatalf("attempt %d: status %d, want %d", i+1, got, want)
		}
	}

	proxied := authtest.New(t, authtest.Options{Config: func(c *core.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	}})
	for _, tc := range []struct{ remote, xff, want string }{
		{"10.0.0.1:80", "198.51.100.7", "198.51.100.7"},
		{"10.0.0.1:80", "198.51.100.7, 10.0.0.2", "198.51.100.7"},
		{"10.0.0.1:80", "1.2.3.4, 198.51.100.7", "198.51.100.7"}, // a client-chosen left-most hop is not believed
		{"10.0.0.1:80", "not-an-ip", "10.0.0.1"},
		{"192.0.2.1:80", "198.51.100.7", "192.0.2.1"}, // not a trusted peer
	} {
		r := newSecRequest(tc.remote).with("X-Forwarded-For", tc.xff)
		if got := wire.New(proxied.Service).ClientInfo(r).IP; got != tc.want {
			t.Errorf("peer %s, X-Forwarded-For %q: IP %q, want %q", tc.remote, tc.xff, got, tc.want)
		}
	}
}

// secLogEvents parses the JSON log lines of a fixture.
func secLogEvents(t *testing.T, f *authtest.Fixture) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(f.Logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

// R63: every authentication decision is one structured event with the time,
// the client IP, user agent and request id, and the subject and session id
// when they are known: login success, failure (with its reason category) and
// throttling, refresh, reuse, revocation, logout, access-token refusal and
// authorisation denial.
func TestR63_EveryDecisionIsLogged(t *testing.T) {
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.LoginThrottle.AccountLimit = 1 }})
	ctx := context.Background()
	srv := wire.New(f.Service)
	client := core.ClientInfo{IP: "192.0.2.44", UserAgent: "r63-agent/1.0", RequestID: "req-r63"}
	req := newSecRequest("192.0.2.44:5555").with("User-Agent", client.UserAgent).with("X-Request-Id", client.RequestID)

	// Login failure, then the account is throttled.
	if _, err := f.Service.Login(ctx, core.LoginInput{Email: authtest.UserEmail, Password: "a wrong password", Client: client}); err == nil {
		t.Fatal("wrong password accepted")
	}
	if _, err := f.Service.Login(ctx, core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password, Client: client}); !errors.Is(err, core.ErrTooManyRequests) {
		t.Fatalf("throttled login: %v", err)
	}
	a := secLogin(t, f, authtest.AdminEmail, client)
	b := secLogin(t, f, authtest.AdminEmail, client)
	c := secLogin(t, f, authtest.AdminEmail, client)
	a1, err := f.Service.Refresh(ctx, a.RefreshToken, client)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Service.Refresh(ctx, a.RefreshToken, client); err != nil { // grace replay
		t.Fatal(err)
	}
	f.Clock.Advance(time.Minute)
	if _, err := f.Service.Refresh(ctx, a.RefreshToken, client); !errors.Is(err, core.ErrInvalidGrant) { // reuse
		t.Fatalf("reuse: %v", err)
	}
	unknown, _ := base64.RawURLEncoding.DecodeString(a.RefreshToken)
	copy(unknown[1:17], make([]byte, 16)) // a well-formed token of a session the store never had
	if _, err := f.Service.Refresh(ctx, base64.RawURLEncoding.EncodeToString(unknown), client); !errors.Is(err, core.ErrInvalidGrant) {
		t.Fatalf("unknown token: %v", err)
	}
	// Access-token refusal and authorisation denial at the guards.
	bad := newSecRequest("192.0.2.44:5555").with("User-Agent", client.UserAgent).with("X-Request-Id", client.RequestID).
		with("Authorization", "Bearer "+a1.AccessToken)
	if _, resp := srv.Require().Check(ctx, bad, nil, nil); resp == nil || resp.Status != 401 {
		t.Fatal("access token of a revoked session accepted")
	}
	pb, err := f.Service.Authenticate(ctx, b.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	pb.Roles = []string{"user"}
	if _, resp := srv.RequireRole("admin").Check(ctx, req, pb, nil); resp == nil || resp.Status != 403 {
		t.Fatal("missing role accepted")
	}
	if _, resp := srv.RequirePermission("reports", "delete").Check(ctx, req, pb, nil); resp == nil || resp.Status != 403 {
		t.Fatal("missing permission accepted")
	}
	// Revocations and logout.
	if err := f.Service.RevokeSession(ctx, pb, c.SessionID, client); err != nil {
		t.Fatal(err)
	}
	secLogin(t, f, authtest.AdminEmail, client) // one more session for "revoke others"
	if _, err := f.Service.RevokeOtherSessions(ctx, pb, client); err != nil {
		t.Fatal(err)
	}
	if err := f.Service.Logout(ctx, core.LogoutInput{RefreshToken: b.RefreshToken, Client: client}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Service.RevokeSubject(ctx, f.UserID); err != nil {
		t.Fatal(err)
	}

	type want struct {
		event, reason   string
		subject, sessID string // "" = not required
	}
	wants := []want{
		{"login_failed", "wrong_password", "", ""},
		{"login_throttled", "account_limit", "", ""},
		{"login_succeeded", "", f.AdminID, a.SessionID},
		{"refresh_succeeded", "", f.AdminID, a.SessionID},
		{"refresh_grace_replay", "", f.AdminID, a.SessionID},
		{"refresh_token_reuse", "reuse_detected", f.AdminID, a.SessionID},
		{"refresh_failed", "unknown_token", "", ""},
		{"access_denied", "session_revoked", "", ""},
		{"access_denied", "missing_role", f.AdminID, b.SessionID},
		{"access_denied", "permission_denied", f.AdminID, b.SessionID},
		{"session_revoked", "", f.AdminID, c.SessionID},
		{"sessions_revoked", "revoked_others", f.AdminID, b.SessionID},
		{"logout", "", f.AdminID, b.SessionID},
	}
	events := secLogEvents(t, f)
	for _, w := range wants {
		found := false
		for _, e := range events {
			if e["event"] != w.event || (w.reason != "" && e["reason"] != w.reason) ||
				(w.subject != "" && e["subject"] != w.subject) || (w.sessID != "" && e["session_id"] != w.sessID) {
				continue
			}
			found = true
			if _, err := time.Parse(time.RFC3339Nano, e["time"].(string)); err != nil {
				t.Errorf("%s: time %v", w.event, e["time"])
			}
			if e["ip"] != client.IP || e["user_agent"] != client.UserAgent || e["request_id"] != client.RequestID {
				t.Errorf("%s (%s): client fields %v %v %v", w.event, w.reason, e["ip"], e["user_agent"], e["request_id"])
			}
		}
		if !found {
			t.Errorf("no %s event (reason %q, subject %q, session %q) in the log", w.event, w.reason, w.subject, w.sessID)
		}
	}
	// An administrative revocation of a subject is logged too.
	found := false
	for _, e := range events {
		if e["event"] == "sessions_revoked" && e["reason"] == "subject" && e["subject"] == f.UserID {
			found = true
		}
	}
	if !found {
		t.Error("RevokeSubject is not logged")
	}
}

// R60: an access token carried by a cookie gets the CSRF defence of cookie
// transport: a cross-site request cannot use it.
func TestAccessCookieRefusesCrossSite(t *testing.T) {
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.Cookie.AccessCookie = "at" }})
	tr, err := f.Service.Login(context.Background(), core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"same_origin", map[string]string{"Origin": authtest.Origin, "Sec-Fetch-Site": "same-origin"}, 0},
		{"no_origin", nil, 0},
		{"cross_site", map[string]string{"Sec-Fetch-Site": "cross-site"}, 400},
		{"foreign_origin", map[string]string{"Origin": "https://evil.example"}, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &fakeRequest{headers: c.headers, cookies: map[string]string{"at": tr.AccessToken}}
			p, resp := wire.New(f.Service).Require().Check(context.Background(), r, nil, nil)
			switch {
			case c.status == 0 && (resp != nil || p == nil):
				t.Fatalf("refused: %+v", resp)
			case c.status != 0 && (resp == nil || resp.Status != c.status):
				t.Fatalf("got %+v, want %d", resp, c.status)
			}
		})
	}
}

type fakeRequest struct {
	headers map[string]string
	cookies map[string]string
}

func (r *fakeRequest) Header(name string) string { return r.headers[name] }
func (r *fakeRequest) HeaderValues(name string) []string {
	if v, ok := r.headers[name]; ok {
		return []string{v}
	}
	return nil
}
func (r *fakeRequest) Cookie(name string) (string, bool) { v, ok := r.cookies[name]; return v, ok }
func (r *fakeRequest) CookieCount(name string) int {
	if _, ok := r.cookies[name]; ok {
		return 1
	}
	return 0
}
func (r *fakeRequest) RemoteAddr() string         { return "192.0.2.1:1234" }
func (r *fakeRequest) Body(int64) ([]byte, error) { return nil, nil }
