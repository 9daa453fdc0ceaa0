package adaptertest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/token"
	"github.com/authguard/authguard/core/wire"
)

// Values the cases send.
const (
	wrongPassword  = "Wr0ng-Pa55word-adaptertest"
	wrongPassword2 = "An0ther-Wr0ng-Pa55word"
	ghostEmail     = "ghost@example.com"
	evilOrigin     = "https://evil.example"
	// unknownRefresh is a well-formed refresh token (43 base64url characters,
	// 32 zero bytes) that no session has.
	unknownRefresh = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
)

// cases is the suite: the contract, row by row.
func cases() []testCase {
	var cs []testCase
	cs = append(cs, loginCases()...)
	cs = append(cs, throttleCases()...)
	cs = append(cs, refreshCases()...)
	cs = append(cs, logoutCases()...)
	cs = append(cs, sessionCases()...)
	cs = append(cs, jwksCases()...)
	cs = append(cs, guardCases()...)
	cs = append(cs, cookieCases()...)
	cs = append(cs, outageCases()...)
	cs = append(cs, logCases()...)
	cs = append(cs, errorCases()...)
	cs = append(cs, roleCases()...)
	cs = append(cs, pathTrickCases()...)
	return cs
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// auth returns path under the configured mount prefix.
func (h *harness) auth(path string) string { return h.svc.Config().MountPrefix + path }

func (h *harness) fatalf(format string, args ...any) {
	h.t.Helper()
	h.t.Fatalf(format, args...)
}

func (h *harness) check(ok bool, format string, args ...any) {
	h.t.Helper()
	if !ok {
		h.t.Fatalf(format, args...)
	}
}

// loginReq is a login request for email with the fixture password.
func (h *harness) loginReq(email string) *request {
	return h.req("POST", h.auth("/login")).JSON(loginJSON(email, authtest.Password))
}

// cookieLogin logs in with cookie transport.
func (h *harness) cookieLogin(email string) tokenSet {
	h.t.Helper()
	return h.loginReq(email).CookieMode().Send().CookieTokens()
}

// cookieRefresh is a bodiless cookie-transport refresh with the cookie value.
func (h *harness) cookieRefresh(value string) *request {
	return h.req("POST", h.auth("/refresh")).CookieMode().Cookie(wire.RefreshCookieName, value)
}

func (h *harness) cookieLogout(value string) *request {
	return h.req("POST", h.auth("/logout")).CookieMode().Cookie(wire.RefreshCookieName, value)
}

// padJSON pads a JSON object with spaces to exactly n bytes.
func padJSON(obj string, n int) string {
	return obj[:len(obj)-1] + strings.Repeat(" ", n-len(obj)) + "}"
}

// malformedLogin is a login request the contract refuses with 400
// invalid_request, and the error_description that names its cause.
type malformedLogin struct{ name, contentType, body, desc string }

func malformedLogins() []malformedLogin {
	pw := authtest.Password
	u := authtest.UserEmail
	const (
		notObject   = "request body must be a JSON object"
		badJSON     = "malformed JSON"
		needEmail   = "email is required"
		needPass    = "password is required"
		emailString = "email must be a string"
		passString  = "password must be a string"
		contentType = "Content-Type must be application/json"
	)
	return []malformedLogin{
		{"truncated_json", "application/json", `{"email":"` + u + `","password":`, badJSON},
		{"not_json", "application/json", `email=` + u + `&password=` + pw, notObject},
		{"array_body", "application/json", `[` + loginJSON(u, pw) + `]`, notObject},
		{"string_body", "application/json", `"` + u + `"`, notObject},
		{"null_body", "application/json", `null`, notObject},
		{"empty_body", "application/json", ``, "request body is required"},
		{"empty_object", "application/json", `{}`, needEmail},
		{"missing_email", "application/json", `{"password":"` + pw + `"}`, needEmail},
		{"missing_password", "application/json", `{"email":"` + u + `"}`, needPass},
		{"null_email", "application/json", `{"email":null,"password":"` + pw + `"}`, needEmail},
		{"null_password", "application/json", `{"email":"` + u + `","password":null}`, needPass},
		{"number_email", "application/json", `{"email":42,"password":"` + pw + `"}`, emailString},
		{"number_password", "application/json", `{"email":"` + u + `","password":42}`, passString},
		{"bool_password", "application/json", `{"email":"` + u + `","password":true}`, passString},
		{"object_password", "application/json", `{"email":"` + u + `","password":{"v":"` + pw + `"}}`, passString},
		{"array_email", "application/json", `{"email":["` + u + `"],"password":"` + pw + `"}`, emailString},
		{"empty_email", "application/json", `{"email":"","password":"` + pw + `"}`, needEmail},
		{"empty_password", "application/json", `{"email":"` + u + `","password":""}`, needPass},
		{"trailing_data", "application/json", loginJSON(u, pw) + ` {}`, badJSON},
		{"device_not_object", "application/json", `{"email":"` + u + `","password":"` + pw + `","device":"Pixel"}`, "device must be a JSON object"},
		{"device_name_not_string", "application/json", `{"email":"` + u + `","password":"` + pw + `","device":{"name":5}}`, "device name must be a string"},
		{"device_name_too_long", "application/json", `{"email":"` + u + `","password":"` + pw + `","device":{"name":"` + strings.Repeat("d", wire.MaxDeviceNameBytes+1) + `"}}`, "device name too long"},
		{"text_plain_content_type", "text/plain", loginJSON(u, pw), contentType},
		{"no_content_type", "", loginJSON(u, pw), contentType},
	}
}

func (h *harness) sendMalformedLogin(m malformedLogin) *response {
	q := h.req("POST", h.auth("/login")).Raw([]byte(m.body))
	if m.contentType != "" {
		q.H("Content-Type", m.contentType)
	}
	return q.Send()
}

func loginCases() []testCase {
	cs := []testCase{
		{name: "login/ok", run: func(h *harness) {
			res := h.loginReq(authtest.UserEmail).Send()
			tk := res.Tokens()
			h.check(tk.ExpiresIn == 600, "expiresIn = %d, want 600", tk.ExpiresIn)
			h.check(tk.RefreshExpiresIn == 1209600, "refreshExpiresIn = %d, want 1209600 (min(idle 336h, absolute 720h))", tk.RefreshExpiresIn)
			h.live(tk.Access, h.f.UserID)
		}},
		{name: "login/access_token_claims", run: func(h *harness) {
			tk := h.login(authtest.UserEmail)
			hdr := jwtPart(h, tk.Access, 0)
			h.check(hdr["typ"] == "at+jwt", "typ = %v, want at+jwt", hdr["typ"])
			h.check(hdr["alg"] == token.AlgEdDSA, "alg = %v, want EdDSA", hdr["alg"])
			h.check(hdr["kid"] == h.svc.Keys().SigningKey().ID(), "kid = %v, want the signing key's", hdr["kid"])
			cl := jwtPart(h, tk.Access, 1)
			for _, k := range []string{"iss", "aud", "sub", "exp", "iat", "jti", "sid", "roles", "auth_time"} {
				h.check(cl[k] != nil, "claim %s missing", k)
			}
			for k, v := range cl {
				h.check(slices.Contains([]string{"iss", "aud", "sub", "exp", "iat", "nbf", "jti", "sid", "roles", "auth_time", "client_id"}, k),
					"unexpected claim %q (no personal data in access tokens)", k)
				h.check(!strings.Contains(fmt.Sprint(v), "@"), "claim %s carries an e-mail address", k)
			}
			h.check(cl["iss"] == authtest.Issuer, "iss = %v", cl["iss"])
			h.check(fmt.Sprint(cl["aud"]) == authtest.Audience || fmt.Sprint(cl["aud"]) == "["+authtest.Audience+"]", "aud = %v", cl["aud"])
			h.check(cl["sub"] == h.f.UserID, "sub is not the user id")
			h.check(cl["sid"] == tk.SessionID, "sid is not the sessionId")
			h.check(fmt.Sprint(cl["roles"]) == "[user]", "roles = %v", cl["roles"])
			epoch := fmt.Sprint(authtest.Epoch.Unix())
			h.check(fmt.Sprint(cl["iat"]) == epoch && fmt.Sprint(cl["auth_time"]) == epoch, "iat/auth_time = %v/%v, want %s", cl["iat"], cl["auth_time"], epoch)
			h.check(fmt.Sprint(cl["exp"]) == fmt.Sprint(authtest.Epoch.Add(10*time.Minute).Unix()), "exp = %v, want iat+600", cl["exp"])
		}},
		{name: "login/invalid_grant_same_bytes(wrong password, unknown user, disabled, locked)", run: func(h *harness) {
			wrong := h.loginAttempt(authtest.UserEmail, wrongPassword).Err(core.ErrInvalidGrant)
			unknown := h.loginAttempt(ghostEmail, wrongPassword).Err(core.ErrInvalidGrant)
			sameAnswer(wrong, unknown)
			unknownRight := h.loginReq(ghostEmail).Send().Err(core.ErrInvalidGrant)
			sameAnswer(wrong, unknownRight)
			ctx := context.Background()
			u, err := h.f.Store.UserByEmail(ctx, authtest.AdminEmail)
			h.check(err == nil, "UserByEmail: %v", err)
			u.Disabled = true
			h.check(h.f.Store.UpdateUser(ctx, u) == nil, "UpdateUser failed")
			disabled := h.loginReq(authtest.AdminEmail).Send().Err(core.ErrInvalidGrant)
			sameAnswer(wrong, disabled)
			u.Disabled, u.Locked = false, true
			h.check(h.f.Store.UpdateUser(ctx, u) == nil, "UpdateUser failed")
			locked := h.loginReq(authtest.AdminEmail).Send().Err(core.ErrInvalidGrant)
			sameAnswer(wrong, locked)
		}},
		{name: "login/body_exactly_64KiB_accepted", run: func(h *harness) {
			body := padJSON(loginJSON(authtest.UserEmail, authtest.Password), wire.MaxBodyBytes)
			h.req("POST", h.auth("/login")).JSON(body).Send().Tokens()
			h.req("POST", h.auth("/login")).JSON(body).Chunked().Send().Tokens()
		}},
		{name: "login/body_over_64KiB_413", run: func(h *harness) {
			body := padJSON(loginJSON(authtest.UserEmail, authtest.Password), wire.MaxBodyBytes+1)
			h.req("POST", h.auth("/login")).JSON(body).Send().Err(core.ErrBodyTooLarge)
			h.req("POST", h.auth("/login")).JSON(body).Chunked().Send().Err(core.ErrBodyTooLarge)
			big := `{"email":"` + authtest.UserEmail + `","password":"` + strings.Repeat("p", 1<<20) + `"}`
			h.req("POST", h.auth("/login")).JSON(big).Send().Err(core.ErrBodyTooLarge)
		}},
		{name: "login/password_over_1KiB_400", run: func(h *harness) {
			long := strings.Repeat("p", core.MaxPasswordBytes+1)
			h.loginAttempt(authtest.UserEmail, long).Err(core.ErrInvalidRequest)
			// exactly 1 KiB is a credential check (and wrong)
			h.loginAttempt(authtest.UserEmail, strings.Repeat("p", core.MaxPasswordBytes)).Err(core.ErrInvalidGrant)
		}},
		{name: "login/authorization_header_ignored", run: func(h *harness) {
			h.loginReq(authtest.UserEmail).H("Authorization", "Bearer not-a-token").Send().Tokens()
			h.loginReq(authtest.UserEmail).H("Authorization", "Bearer a").H("Authorization", "Bearer b").Send().Tokens()
			h.loginReq(authtest.UserEmail).H("Authorization", "Basic dXNlcjpwYXNz").Send().Tokens()
		}},
		{name: "login/device_optional", run: func(h *harness) {
			body := `{"email":"` + authtest.UserEmail + `","password":"` + authtest.Password + `","device":{"name":"Pixel 8"}}`
			h.req("POST", h.auth("/login")).JSON(body).Send().Tokens()
			body = `{"email":"` + authtest.UserEmail + `","password":"` + authtest.Password + `","device":null}`
			h.req("POST", h.auth("/login")).JSON(body).Send().Tokens()
			body = `{"email":"` + authtest.UserEmail + `","password":"` + authtest.Password + `","device":{}}`
			h.req("POST", h.auth("/login")).JSON(body).Send().Tokens()
		}},
	}
	for _, m := range malformedLogins() {
		cs = append(cs, testCase{name: "login/malformed_400/" + m.name, run: func(h *harness) {
			h.sendMalformedLogin(m).Err(core.ErrInvalidRequest).Says(m.desc)
		}})
	}
	return cs
}

func throttleCases() []testCase {
	return []testCase{
		{name: "throttle/account_limit_10(known and unknown address alike)", run: func(h *harness) {
			limit := h.svc.Config().LoginThrottle.AccountLimit
			h.check(limit == 10, "default account limit = %d, want 10", limit)
			for range limit {
				h.loginAttempt(authtest.UserEmail, wrongPassword).Err(core.ErrInvalidGrant)
			}
			known := h.loginReq(authtest.UserEmail).Send().Err(core.ErrTooManyRequests)
			h.check(known.RetryAfter() == 900, "Retry-After = %d, want 900 (the 15 min window, clock not moved)", known.RetryAfter())
			// another address is not affected
			h.login(authtest.AdminEmail)
			for range limit {
				h.loginAttempt(ghostEmail, wrongPassword).Err(core.ErrInvalidGrant)
			}
			unknown := h.loginAttempt(ghostEmail, wrongPassword).Err(core.ErrTooManyRequests)
			sameAnswer(known, unknown)
			// 429 answers do not count and do not extend the window
			h.f.Clock.Advance(14 * time.Minute)
			late := h.loginReq(authtest.UserEmail).Send().Err(core.ErrTooManyRequests)
			h.check(late.RetryAfter() == 60, "Retry-After = %d, want 60", late.RetryAfter())
			h.f.Clock.Advance(time.Minute)
			h.login(authtest.UserEmail)
		}},
		{name: "throttle/ip_limit(configured 5; default 100)", config: func(c *core.Config) { c.LoginThrottle.IPLimit = 5 }, run: func(h *harness) {
			for i := range 5 {
				h.loginAttempt(fmt.Sprintf("nobody%d@example.net", i), wrongPassword).Err(core.ErrInvalidGrant)
			}
			r := h.loginReq(authtest.AdminEmail).Send().Err(core.ErrTooManyRequests)
			h.check(r.RetryAfter() == 900, "Retry-After = %d, want 900", r.RetryAfter())
			h.loginAttempt("fresh@example.net", wrongPassword).Err(core.ErrTooManyRequests)
			h.f.Clock.Advance(15 * time.Minute)
			h.login(authtest.AdminEmail)
		}},
		{name: "throttle/success_resets_address_not_ip(configured account 3, ip 5)", config: func(c *core.Config) {
			c.LoginThrottle.AccountLimit, c.LoginThrottle.IPLimit = 3, 5
		}, run: func(h *harness) {
			h.loginAttempt(authtest.UserEmail, wrongPassword).Err(core.ErrInvalidGrant)
			h.loginAttempt(authtest.UserEmail, wrongPassword2).Err(core.ErrInvalidGrant)
			h.login(authtest.UserEmail)
			h.loginAttempt(authtest.UserEmail, wrongPassword).Err(core.ErrInvalidGrant)
			h.loginAttempt(authtest.UserEmail, wrongPassword2).Err(core.ErrInvalidGrant)
			h.login(authtest.UserEmail) // 4 failures in the window, but the success reset the address
			h.loginAttempt(ghostEmail, wrongPassword).Err(core.ErrInvalidGrant)
			h.loginReq(authtest.UserEmail).Send().Err(core.ErrTooManyRequests) // the IP's 5 failures were not reset
		}},
		{name: "throttle/successes_not_counted_against_ip(configured ip 3)", config: func(c *core.Config) {
			c.LoginThrottle.IPLimit = 3
		}, run: func(h *harness) {
			for range 5 {
				h.login(authtest.UserEmail)
				h.login(authtest.AdminEmail)
			}
		}},
		{name: "throttle/malformed_requests_not_counted", run: func(h *harness) {
			for _, m := range malformedLogins() {
				h.sendMalformedLogin(m).Err(core.ErrInvalidRequest).Says(m.desc)
			}
			for range 3 {
				h.loginAttempt(authtest.UserEmail, strings.Repeat("p", core.MaxPasswordBytes+1)).Err(core.ErrInvalidRequest)
			}
			h.login(authtest.UserEmail)
		}},
	}
}

func refreshCases() []testCase {
	return []testCase{
		{name: "refresh/ok_rotates", run: func(h *harness) {
			t0 := h.login(authtest.UserEmail)
			h.f.Clock.Advance(time.Minute)
			t1 := h.refresh(t0.Refresh).Tokens()
			h.check(t1.Refresh != t0.Refresh, "refresh token not rotated")
			h.check(t1.Access != t0.Access, "access token not renewed")
			h.check(t1.SessionID == t0.SessionID, "sessionId changed on refresh")
			h.check(t1.ExpiresIn == 600 && t1.RefreshExpiresIn == 1209600, "expiresIn/refreshExpiresIn = %d/%d, want 600/1209600", t1.ExpiresIn, t1.RefreshExpiresIn)
			h.live(t1.Access, h.f.UserID)
			t2 := h.refresh(t1.Refresh).Tokens()
			h.check(t2.Refresh != t1.Refresh, "successor not rotated")
		}},
		{name: "refresh/grace_replay_returns_same_successor", run: func(h *harness) {
			t0 := h.login(authtest.UserEmail)
			t1 := h.refresh(t0.Refresh).Tokens()
			h.f.Clock.Advance(5 * time.Second)
			r := h.refresh(t0.Refresh).Tokens()
			h.check(r.Refresh == t1.Refresh, "a replay in the grace window must return the same successor")
			h.check(r.SessionID == t0.SessionID, "sessionId changed")
			h.live(r.Access, h.f.UserID)
			t2 := h.refresh(t1.Refresh).Tokens()
			h.check(t2.Refresh != t1.Refresh, "successor not rotated")
		}},
		{name: "refresh/grace_replays_bounded(10; excess 400, nothing revoked)", run: func(h *harness) {
			t0 := h.login(authtest.UserEmail)
			t1 := h.refresh(t0.Refresh).Tokens()
			n := h.svc.Config().RefreshGraceReplays
			h.check(n == 10, "default replay bound = %d, want 10", n)
			for range n {
				r := h.refresh(t0.Refresh).Tokens()
				h.check(r.Refresh == t1.Refresh, "replay did not return the successor")
			}
			h.refresh(t0.Refresh).Err(core.ErrInvalidGrant)
			h.live(t0.Access, h.f.UserID)
			h.live(t1.Access, h.f.UserID)
			h.refresh(t1.Refresh).Tokens()
		}},
		{name: "refresh/reuse_after_grace_revokes_session", run: func(h *harness) {
			t0 := h.login(authtest.UserEmail)
			t1 := h.refresh(t0.Refresh).Tokens()
			h.f.Clock.Advance(h.svc.Config().RefreshGrace + time.Second)
			reuse := h.refresh(t0.Refresh).Err(core.ErrInvalidGrant)
			h.dead(t0.Access)
			h.dead(t1.Access)
			h.refresh(t1.Refresh).Err(core.ErrInvalidGrant)
			sameAnswer(reuse, h.refresh(unknownRefresh).Err(core.ErrInvalidGrant))
			h.req("GET", h.auth("/me")).Bearer(t1.Access).Send().Err(core.ErrInvalidToken)
		}},
		{name: "refresh/reuse_of_older_token_revokes_session", run: func(h *harness) {
			t0 := h.login(authtest.UserEmail)
			t1 := h.refresh(t0.Refresh).Tokens()
			t2 := h.refresh(t1.Refresh).Tokens()
			h.refresh(t0.Refresh).Err(core.ErrInvalidGrant)
			h.dead(t2.Access)
			h.refresh(t2.Refresh).Err(core.ErrInvalidGrant)
		}},
		{name: "refresh/invalid_grant_one_body(unknown, garbage, revoked, access token)", run: func(h *harness) {
			base := h.refresh(unknownRefresh).Err(core.ErrInvalidGrant)
			sameAnswer(base, h.refresh("not-a-refresh-token").Err(core.ErrInvalidGrant))
			sameAnswer(base, h.refresh(strings.Repeat("x", 300)).Err(core.ErrInvalidGrant))
			t0 := h.login(authtest.UserEmail)
			sameAnswer(base, h.refresh(t0.Access).Err(core.ErrInvalidGrant))
			h.logout(t0.Refresh).Want(204)
			sameAnswer(base, h.refresh(t0.Refresh).Err(core.ErrInvalidGrant))
		}},
		{name: "refresh/malformed_400", run: func(h *harness) {
			for _, body := range []string{`{}`, `{"refreshToken":5}`, `{"refreshToken":null}`, `{"refreshToken":""}`, `[]`, `{"refreshToken":`} {
				h.req("POST", h.auth("/refresh")).JSON(body).Send().Err(core.ErrInvalidRequest)
			}
			h.req("POST", h.auth("/refresh")).Send().Err(core.ErrInvalidRequest)
			h.req("POST", h.auth("/refresh")).Raw([]byte(refreshJSON(unknownRefresh))).H("Content-Type", "text/plain").Send().Err(core.ErrInvalidRequest)
		}},
		{name: "refresh/authorization_header_ignored", run: func(h *harness) {
			t0 := h.login(authtest.UserEmail)
			t1 := h.req("POST", h.auth("/refresh")).JSON(refreshJSON(t0.Refresh)).Bearer("stale.access.token").Send().Tokens()
			h.req("POST", h.auth("/refresh")).JSON(refreshJSON(t1.Refresh)).Bearer("a").Bearer("b").Send().Tokens()
			// a bearer alone is not a refresh credential
			h.req("POST", h.auth("/refresh")).Bearer(t1.Access).Send().Err(core.ErrInvalidRequest)
		}},
		{name: "refresh/body_over_64KiB_413", run: func(h *harness) {
			t0 := h.login(authtest.UserEmail)
			h.req("POST", h.auth("/refresh")).JSON(padJSON(refreshJSON(t0.Refresh), wire.MaxBodyBytes+1)).Send().Err(core.ErrBodyTooLarge)
			h.req("POST", h.auth("/refresh")).JSON(padJSON(refreshJSON(t0.Refresh), wire.MaxBodyBytes+1)).Chunked().Send().Err(core.ErrBodyTooLarge)
			h.req("POST", h.auth("/refresh")).JSON(padJSON(refreshJSON(t0.Refresh), wire.MaxBodyBytes)).Send().Tokens()
		}},
		{name: "refresh/idle_expiry", run: func(h *harness) {
			a := h.login(authtest.UserEmail)
			b := h.login(authtest.UserEmail)
			idle := h.svc.Config().RefreshIdleTTL
			h.check(idle == 336*time.Hour, "default idle TTL = %s, want 336h", idle)
			h.f.Clock.Advance(idle - time.Second)
			a2 := h.refresh(a.Refresh).Tokens()
			h.check(a2.RefreshExpiresIn == int64(idle/time.Second), "refreshExpiresIn = %d, want the full idle TTL again", a2.RefreshExpiresIn)
			h.f.Clock.Advance(time.Second)
			h.refresh(b.Refresh).Err(core.ErrInvalidGrant)
			res := h.req("GET", h.auth("/sessions")).Bearer(a2.Access).Send().Want(200)
			list, _ := res.Object("sessions")["sessions"].([]any)
			h.check(len(list) == 1, "sessions lists %d, want 1 (the idle one ended)", len(list))
		}},
		{name: "refresh/absolute_expiry_not_extended_by_rotation", run: func(h *harness) {
			abs := h.svc.Config().RefreshAbsoluteTTL
			h.check(abs == 720*time.Hour, "default absolute TTL = %s, want 720h", abs)
			t := h.login(authtest.UserEmail)
			h.f.Clock.Advance(300 * time.Hour)
			t = h.refresh(t.Refresh).Tokens()
			h.check(t.RefreshExpiresIn == 336*3600, "refreshExpiresIn = %d, want 1209600", t.RefreshExpiresIn)
			h.f.Clock.Advance(300 * time.Hour)
			t = h.refresh(t.Refresh).Tokens()
			h.check(t.RefreshExpiresIn == 120*3600, "refreshExpiresIn = %d, want 432000 (absolute deadline)", t.RefreshExpiresIn)
			h.f.Clock.Advance(120*time.Hour - time.Second)
			t = h.refresh(t.Refresh).Tokens()
			h.check(t.RefreshExpiresIn == 1 && t.ExpiresIn == 1, "refreshExpiresIn/expiresIn = %d/%d, want 1/1", t.RefreshExpiresIn, t.ExpiresIn)
			h.f.Clock.Advance(time.Second)
			h.refresh(t.Refresh).Err(core.ErrInvalidGrant)
		}},
		{name: "refresh/refresh_expires_in_min_idle_absolute(configured idle 2h, absolute 3h)", config: func(c *core.Config) {
			c.RefreshIdleTTL, c.RefreshAbsoluteTTL = 2*time.Hour, 3*time.Hour
		}, run: func(h *harness) {
			t := h.login(authtest.UserEmail)
			h.check(t.RefreshExpiresIn == 7200, "refreshExpiresIn = %d, want 7200", t.RefreshExpiresIn)
			h.f.Clock.Advance(90 * time.Minute)
			t = h.refresh(t.Refresh).Tokens()
			h.check(t.RefreshExpiresIn == 5400, "refreshExpiresIn = %d, want 5400 (absolute deadline)", t.RefreshExpiresIn)
		}},
	}
}

// jsonLogoutCookie: a JSON-mode logout may clear the refresh cookie; it sets no other cookie.
func (r *response) clearedOrNoCookie() {
	r.h.t.Helper()
	if len(r.Header.Values("Set-Cookie")) > 0 {
		r.RefreshCookie(0)
	}
}

func logoutCases() []testCase {
	return []testCase{
		{name: "logout/refresh_token_revokes_at_once", run: func(h *harness) {
			a := h.login(authtest.UserEmail)
			h.live(a.Access, h.f.UserID)
			h.logout(a.Refresh).NoContent().clearedOrNoCookie()
			h.dead(a.Access)
			h.refresh(a.Refresh).Err(core.ErrInvalidGrant)
		}},
		{name: "logout/idempotent", run: func(h *harness) {
			a := h.login(authtest.UserEmail)
			h.logout(a.Refresh).NoContent()
			h.logout(a.Refresh).NoContent()
			h.logout(unknownRefresh).NoContent()
			h.logout("garbage").NoContent()
			h.req("POST", h.auth("/logout")).Bearer(a.Access).Send().NoContent()
			h.req("POST", h.auth("/logout")).Bearer("not.a.token").Send().NoContent()
			// a malformed bearer is an invalid credential: still 204, never 401
			h.req("POST", h.auth("/logout")).H("Authorization", "Bearer a b").Send().NoContent()
			h.req("POST", h.auth("/logout")).H("Authorization", "Bearer").Send().NoContent()
		}},
		{name: "logout/bearer_only_revokes", run: func(h *harness) {
			a := h.login(authtest.UserEmail)
			h.req("POST", h.auth("/logout")).Bearer(a.Access).Send().NoContent().clearedOrNoCookie()
			h.dead(a.Access)
			h.refresh(a.Refresh).Err(core.ErrInvalidGrant)
		}},
		{name: "logout/expired_bearer_only_revokes", run: func(h *harness) {
			a := h.login(authtest.UserEmail)
			h.f.Clock.Advance(time.Hour)
			h.dead(a.Access)
			h.req("POST", h.auth("/logout")).Bearer(a.Access).Send().NoContent()
			h.refresh(a.Refresh).Err(core.ErrInvalidGrant)
		}},
		{name: "logout/refresh_token_names_the_session", run: func(h *harness) {
			a := h.login(authtest.UserEmail)
			b := h.login(authtest.UserEmail)
			h.req("POST", h.auth("/logout")).JSON(refreshJSON(a.Refresh)).Bearer(b.Access).Send().NoContent()
			h.dead(a.Access)
			h.live(b.Access, h.f.UserID)
			h.refresh(b.Refresh).Tokens()
		}},
		{name: "logout/no_credential_400", run: func(h *harness) {
			h.req("POST", h.auth("/logout")).Send().Err(core.ErrInvalidRequest)
			h.req("POST", h.auth("/logout")).JSON(`{}`).Send().Err(core.ErrInvalidRequest)
			h.req("POST", h.auth("/logout")).H("Authorization", "Basic dXNlcjpwYXNz").Send().Err(core.ErrInvalidRequest)
			h.req("POST", h.auth("/logout")).JSON(`{"refreshToken":7}`).Send().Err(core.ErrInvalidRequest)
		}},
		{name: "logout/body_over_64KiB_413", run: func(h *harness) {
			a := h.login(authtest.UserEmail)
			h.req("POST", h.auth("/logout")).JSON(padJSON(refreshJSON(a.Refresh), wire.MaxBodyBytes+1)).Send().Err(core.ErrBodyTooLarge)
			h.req("POST", h.auth("/logout")).JSON(padJSON(refreshJSON(a.Refresh), wire.MaxBodyBytes+1)).Chunked().Send().Err(core.ErrBodyTooLarge)
			h.live(a.Access, h.f.UserID)
		}},
	}
}

func sessionCases() []testCase {
	return []testCase{
		{name: "me/ok", run: func(h *harness) {
			a := h.login(authtest.UserEmail)
			res := h.req("GET", h.auth("/me")).Bearer(a.Access).Send().Want(200)
			h.check(res.Header.Get("Content-Type") == "application/json", "Content-Type = %q", res.Header.Get("Content-Type"))
			m := res.Object("sub", "roles", "sessionId", "expiresAt")
			h.check(m["sub"] == h.f.UserID, "sub is not the user id")
			h.check(fmt.Sprint(m["roles"]) == "[user]", "roles = %v, want [user]", m["roles"])
			h.check(m["sessionId"] == a.SessionID, "sessionId differs from the login's")
			h.check(m["expiresAt"] == ts(authtest.Epoch.Add(10*time.Minute)), "expiresAt = %v, want %s (RFC 3339 UTC, the access token's exp)", m["expiresAt"], ts(authtest.Epoch.Add(10*time.Minute)))
			h.f.Clock.Advance(time.Minute)
			b := h.refresh(a.Refresh).Tokens()
			m = h.req("GET", h.auth("/me")).Bearer(b.Access).Send().Want(200).Object("sub", "roles", "sessionId", "expiresAt")
			h.check(m["expiresAt"] == ts(authtest.Epoch.Add(11*time.Minute)), "expiresAt after refresh = %v", m["expiresAt"])
			adm := h.login(authtest.AdminEmail)
			m = h.req("GET", h.auth("/me")).Bearer(adm.Access).Send().Want(200).Object("sub", "roles", "sessionId", "expiresAt")
			h.check(m["sub"] == h.f.AdminID && fmt.Sprint(m["roles"]) == "[admin]", "admin me = %v", m)
		}},
		{name: "sessions/list", run: func(h *harness) {
			body := `{"email":"` + authtest.UserEmail + `","password":"` + authtest.Password + `","device":{"name":"Pixel 8"}}`
			a := h.req("POST", h.auth("/login")).JSON(body).H("User-Agent", "adaptertest-a/1.0").Send().Tokens()
			h.f.Clock.Advance(time.Minute)
			b := h.loginReq(authtest.UserEmail).H("User-Agent", "adaptertest-b/1.0").Send().Tokens()
			h.login(authtest.AdminEmail)
			check := func(access, current string) map[string]map[string]any {
				res := h.req("GET", h.auth("/sessions")).Bearer(access).Send().Want(200)
				h.check(res.Header.Get("Content-Type") == "application/json", "Content-Type = %q", res.Header.Get("Content-Type"))
				list, ok := res.Object("sessions")["sessions"].([]any)
				h.check(ok && len(list) == 2, "sessions: want a list of 2 (the caller's only), got %v", res.Object("sessions")["sessions"])
				out := map[string]map[string]any{}
				for _, e := range list {
					raw, _ := json.Marshal(e)
					m := decodeObject(res, raw, "id", "device", "ip", "userAgent", "createdAt", "lastUsedAt", "expiresAt", "current")
					dev, _ := json.Marshal(m["device"])
					decodeObject(res, dev, "name")
					id, _ := m["id"].(string)
					out[id] = m
					cur, ok := m["current"].(bool)
					h.check(ok && cur == (id == current), "current = %v for %s", m["current"], h.replace(id))
					ip, _ := m["ip"].(string)
					_, err := netip.ParseAddr(ip)
					h.check(err == nil, "ip %q is not an IP address", ip)
					for _, k := range []string{"createdAt", "lastUsedAt", "expiresAt"} {
						s, _ := m[k].(string)
						tt, err := time.Parse(time.RFC3339, s)
						h.check(err == nil && strings.HasSuffix(s, "Z") && tt.Location() == time.UTC, "%s = %q is not RFC 3339 UTC", k, s)
					}
				}
				return out
			}
			got := check(b.Access, b.SessionID)
			ea, eb := got[a.SessionID], got[b.SessionID]
			h.check(ea != nil && eb != nil, "the two sessions are not listed by id")
			h.check(fmt.Sprint(ea["device"]) == "map[name:Pixel 8]" && fmt.Sprint(eb["device"]) == "map[name:]", "device = %v / %v", ea["device"], eb["device"])
			h.check(ea["userAgent"] == "adaptertest-a/1.0" && eb["userAgent"] == "adaptertest-b/1.0", "userAgent = %v / %v", ea["userAgent"], eb["userAgent"])
			h.check(ea["createdAt"] == ts(authtest.Epoch) && ea["lastUsedAt"] == ts(authtest.Epoch), "createdAt/lastUsedAt = %v/%v", ea["createdAt"], ea["lastUsedAt"])
			h.check(ea["expiresAt"] == ts(authtest.Epoch.Add(336*time.Hour)), "expiresAt = %v", ea["expiresAt"])
			h.check(eb["createdAt"] == ts(authtest.Epoch.Add(time.Minute)), "createdAt = %v", eb["createdAt"])
			check(a.Access, a.SessionID)
			h.f.Clock.Advance(time.Minute)
			a2 := h.refresh(a.Refresh).Tokens()
			got = check(a2.Access, a.SessionID)
			h.check(got[a.SessionID]["lastUsedAt"] == ts(authtest.Epoch.Add(2*time.Minute)), "lastUsedAt after refresh = %v", got[a.SessionID]["lastUsedAt"])
			h.check(got[a.SessionID]["expiresAt"] == ts(authtest.Epoch.Add(2*time.Minute+336*time.Hour)), "expiresAt after refresh = %v", got[a.SessionID]["expiresAt"])
		}},
		{name: "sessions/revoke_own_other_session", run: func(h *harness) {
			a := h.login(authtest.UserEmail)
			b := h.login(authtest.UserEmail)
			h.req("DELETE", h.auth("/sessions/"+a.SessionID)).Bearer(b.Access).Send().NoContent()
			h.dead(a.Access)
			h.refresh(a.Refresh).Err(core.ErrInvalidGrant)
			h.live(b.Access, h.f.UserID)
			list, _ := h.req("GET", h.auth("/sessions")).Bearer(b.Access).Send().Want(200).Object("sessions")["sessions"].([]any)
			h.check(len(list) == 1, "sessions lists %d, want 1", len(list))
		}},
		{name: "sessions/revoke_current_session", run: func(h *harness) {
			a := h.login(authtest.UserEmail)
			h.req("DELETE", h.auth("/sessions/"+a.SessionID)).Bearer(a.Access).Send().NoContent()
			h.dead(a.Access)
		}},
		{name: "sessions/revoke_foreign_or_unknown_404", run: func(h *harness) {
			u := h.login(authtest.UserEmail)
			adm := h.login(authtest.AdminEmail)
			foreign := h.req("DELETE", h.auth("/sessions/"+adm.SessionID)).Bearer(u.Access).Send().Err(core.ErrNotFound)
			h.live(adm.Access, h.f.AdminID)
			h.refresh(adm.Refresh).Tokens()
			unknown := h.req("DELETE", h.auth("/sessions/no-such-session")).Bearer(u.Access).Send().Err(core.ErrNotFound)
			sameAnswer(foreign, unknown)
		}},
		{name: "sessions/path_variants_revoke_nothing(redirects followed)", run: func(h *harness) {
			a := h.login(authtest.UserEmail)
			b := h.login(authtest.UserEmail)
			c := h.login(authtest.UserEmail)
			for _, p := range sessionPathVariants(h) {
				h.req("DELETE", p).Bearer(a.Access).Send().revokedNothing()
			}
			// ids the route hands to the core: blank, or another session's in other case
			for _, id := range []string{"%20", "%09", "%20%20", swapCase(b.SessionID), strings.ToUpper(b.SessionID), strings.ToLower(b.SessionID)} {
				if id != b.SessionID {
					h.named(id, "other-case-id")
					h.req("DELETE", h.auth("/sessions/"+id)).Bearer(a.Access).Send().Err(core.ErrNotFound)
				}
			}
			for _, tk := range []tokenSet{a, b, c} {
				h.live(tk.Access, h.f.UserID)
			}
			list, _ := h.req("GET", h.auth("/sessions")).Bearer(a.Access).Send().Want(200).Object("sessions")["sessions"].([]any)
			h.check(len(list) == 3, "sessions lists %d, want 3 (nothing revoked)", len(list))
			h.refresh(b.Refresh).Tokens()
		}},
		{name: "sessions/revoke_others", run: func(h *harness) {
			a := h.login(authtest.UserEmail)
			b := h.login(authtest.UserEmail)
			c := h.login(authtest.UserEmail)
			adm := h.login(authtest.AdminEmail)
			h.req("DELETE", h.auth("/sessions")).Bearer(c.Access).Send().NoContent()
			h.dead(a.Access)
			h.dead(b.Access)
			h.live(c.Access, h.f.UserID)
			h.live(adm.Access, h.f.AdminID)
			h.refresh(a.Refresh).Err(core.ErrInvalidGrant)
			list, _ := h.req("GET", h.auth("/sessions")).Bearer(c.Access).Send().Want(200).Object("sessions")["sessions"].([]any)
			h.check(len(list) == 1, "sessions lists %d, want 1", len(list))
			h.refresh(c.Refresh).Tokens()
		}},
	}
}

// sessionPathVariants are paths near the session endpoints that name no
// session: a trailing or doubled slash, other case, an encoded slash, dot
// segments. A router that redirects one of them to DELETE {prefix}/sessions
// makes a client that follows the redirect revoke every other session.
func sessionPathVariants(h *harness) []string {
	s := h.auth("/sessions")
	return []string{
		s + "/", s + "//", "/" + s, h.auth("//sessions"), strings.ToUpper(s), strings.ToUpper(s) + "/",
		h.auth("/Sessions"), s + "%2F", s + "%2f", s + "/.", s + "/./", s + "/..", s + "/%2e", s + "/?x=1",
	}
}

// swapCase swaps the case of every ASCII letter of s.
func swapCase(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z':
			return r - 'a' + 'A'
		case 'A' <= r && r <= 'Z':
			return r - 'A' + 'a'
		}
		return r
	}, s)
}

// revokedNothing asserts that a DELETE near the session endpoints was
// refused with 404 (or the router's own 404/405 when the router answered
// before the adapter), and that no redirect it followed led to an endpoint
// of the contract.
func (r *response) revokedNothing() {
	r.h.t.Helper()
	r.Err(core.ErrNotFound) // the contract's JSON 404, after any redirects
	for _, loc := range r.Redirects {
		path, _, _ := strings.Cut(loc, "?")
		for _, rt := range wire.New(r.h.svc).Routes() {
			if rt.Param == "" && path == rt.Path || rt.Param != "" && len(path) > len(rt.Path) && strings.HasPrefix(path, rt.Path) && !strings.Contains(path[len(rt.Path):], "/") {
				r.fatalf("redirected to the endpoint %s %s", rt.Method, loc)
			}
		}
	}
}

var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

func (h *harness) checkJWKS(alg, kty string) {
	h.t.Helper()
	res := h.req("GET", "/.well-known/jwks.json").Send().Want(200)
	h.check(res.Header.Get("Content-Type") == "application/json", "Content-Type = %q", res.Header.Get("Content-Type"))
	keys, ok := res.Object("keys")["keys"].([]any)
	h.check(ok && len(keys) >= 1, "keys is not a non-empty list")
	found := false
	for _, k := range keys {
		m, _ := k.(map[string]any)
		h.check(m["use"] == "sig", "use = %v, want sig", m["use"])
		kid, _ := m["kid"].(string)
		h.check(kid != "" && m["alg"] != nil && m["kty"] != nil, "a key lacks kid, alg or kty: %v", m)
		for _, p := range privateJWKMembers {
			h.check(m[p] == nil, "a key carries the private member %q", p)
		}
		if kid == h.svc.Keys().SigningKey().ID() {
			found = true
			h.check(m["alg"] == alg && m["kty"] == kty, "alg/kty = %v/%v, want %s/%s", m["alg"], m["kty"], alg, kty)
		}
	}
	h.check(found, "the signing key is not in the JWKS")
	tk := h.login(authtest.UserEmail)
	hdr := jwtPart(h, tk.Access, 0)
	h.check(hdr["alg"] == alg && hdr["kid"] == h.svc.Keys().SigningKey().ID(), "token header %v", hdr)
	h.live(tk.Access, h.f.UserID)
}

func jwksCases() []testCase {
	return []testCase{
		{name: "jwks/eddsa", run: func(h *harness) { h.checkJWKS(token.AlgEdDSA, "OKP") }},
		{name: "jwks/es256", alg: token.AlgES256, run: func(h *harness) { h.checkJWKS(token.AlgES256, "EC") }},
		{name: "jwks/rs256", alg: token.AlgRS256, run: func(h *harness) { h.checkJWKS(token.AlgRS256, "RSA") }},
		{name: "jwks/hs256_404", alg: token.AlgHS256, run: func(h *harness) {
			h.req("GET", "/.well-known/jwks.json").Send().Err(core.ErrNotFound)
			tk := h.login(authtest.UserEmail)
			h.check(jwtPart(h, tk.Access, 0)["alg"] == token.AlgHS256, "token alg is not HS256")
			h.live(tk.Access, h.f.UserID)
		}},
	}
}

// guardedRoutes are every route behind a guard (demo and contract).
func guardedRoutes(h *harness) [][2]string {
	return [][2]string{
		{"GET", "/api/profile"}, {"GET", "/api/admin/stats"}, {"GET", "/api/reports"}, {"DELETE", "/api/reports/1"},
		{"GET", h.auth("/me")}, {"GET", h.auth("/sessions")}, {"DELETE", h.auth("/sessions")}, {"DELETE", h.auth("/sessions/x")},
	}
}

func tamper(h *harness, tok string, part int, edit func([]byte) []byte) string {
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[part])
	h.check(err == nil, "decode: %v", err)
	parts[part] = base64.RawURLEncoding.EncodeToString(edit(raw))
	return strings.Join(parts, ".")
}

// forge signs an access token with the service's own key, claims valid
// but for sid and sub, which name what the case wants.
func (h *harness) forge(sub, sid string) string {
	h.t.Helper()
	now := h.svc.Config().Now().Unix()
	tok, err := h.svc.Keys().Sign(&token.AccessClaims{
		Issuer: authtest.Issuer, Audience: []string{authtest.Audience}, Subject: sub, SessionID: sid,
		IssuedAt: now, AuthTime: now, ExpiresAt: now + 600, ID: fmt.Sprintf("forged-%d", h.step), Roles: []string{"admin"},
	})
	h.check(err == nil, "Sign: %v", err)
	h.secret(tok, "access")
	return tok
}

func guardCases() []testCase {
	return []testCase{
		{name: "guard/unknown_session_or_subject_401(signed with the service's key)", run: func(h *harness) {
			u := h.login(authtest.UserEmail)
			adm := h.login(authtest.AdminEmail)
			for _, tok := range []string{
				h.forge(h.f.UserID, "no-such-session"), // a session the store does not have
				h.forge(h.f.AdminID, u.SessionID),      // the user's session, the admin's subject
				h.forge(h.f.UserID, adm.SessionID),     // the admin's session, the user's subject
				h.forge("no-such-user", u.SessionID),
			} {
				for _, rt := range guardedRoutes(h) {
					h.req(rt[0], rt[1]).Bearer(tok).Send().Err(core.ErrInvalidToken)
				}
				h.req("GET", "/api/optional").Bearer(tok).Send().Err(core.ErrInvalidToken)
			}
			// the same session's own token (signed the same way) keeps working
			same := h.forge(h.f.UserID, u.SessionID)
			h.live(same, h.f.UserID)
			h.req("GET", h.auth("/me")).Bearer(same).Send().Want(200)
			h.live(u.Access, h.f.UserID)
			h.live(adm.Access, h.f.AdminID)
			h.refresh(u.Refresh).Tokens()
		}},
		{name: "guard/no_credential_401_every_route", run: func(h *harness) {
			for _, rt := range guardedRoutes(h) {
				h.req(rt[0], rt[1]).Send().Err(core.ErrNoCredential)
			}
		}},
		{name: "guard/demo_routes", run: func(h *harness) {
			h.req("GET", "/healthz").Send().JSONBody(HealthJSON)
			h.req("GET", "/healthz").Bearer("garbage").Send().JSONBody(HealthJSON)
			u := h.login(authtest.UserEmail)
			h.profile(u.Access).JSONBody(string(ProfileBody(&core.Principal{Subject: h.f.UserID, Roles: []string{"user"}})))
			h.check(string(OptionalBody(nil)) == `{"sub":""}`, "OptionalBody(nil) = %s", OptionalBody(nil))
			h.req("GET", "/api/optional").Send().JSONBody(`{"sub":""}`)
		}},
		{name: "guard/other_scheme_is_no_credential", run: func(h *harness) {
			for _, v := range []string{"Basic dXNlcjpwYXNz", "Token abc", "Bearerabc", "Digest username=x"} {
				h.req("GET", "/api/profile").H("Authorization", v).Send().Err(core.ErrNoCredential)
			}
		}},
		{name: "guard/malformed_bearer_401", run: func(h *harness) {
			for _, v := range []string{"Bearer", "Bearer a b", "Bearer !!!", "Bearer a,b", `Bearer "abc"`} {
				h.req("GET", "/api/profile").H("Authorization", v).Send().Err(core.ErrInvalidToken)
			}
		}},
		{name: "guard/invalid_token_401", run: func(h *harness) {
			a := h.login(authtest.UserEmail)
			escalated := tamper(h, a.Access, 1, func(b []byte) []byte { return bytes.ReplaceAll(b, []byte(h.f.UserID), []byte(h.f.AdminID)) })
			sig := []byte(strings.Split(a.Access, ".")[2])
			if sig[10] == 'A' {
				sig[10] = 'B'
			} else {
				sig[10] = 'A'
			}
			parts := strings.Split(a.Access, ".")
			badSig := parts[0] + "." + parts[1] + "." + string(sig)
			none := tamper(h, a.Access, 0, func([]byte) []byte { return []byte(`{"alg":"none","typ":"at+jwt"}`) })
			none = none[:strings.LastIndexByte(none, '.')+1]
			other := authtest.New(h.t, authtest.Options{})
			ot, err := other.Service.Login(context.Background(), core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
			h.check(err == nil, "login on the other fixture: %v", err)
			h.secret(ot.AccessToken, "access")
			for _, bad := range []string{"abc", "abc.def.ghi", escalated, badSig, none, ot.AccessToken, a.Access + "x", strings.Repeat("a", 9000)} {
				h.profile(bad).Err(core.ErrInvalidToken)
			}
			h.live(a.Access, h.f.UserID)
		}},
		{name: "guard/expiry_with_leeway", run: func(h *harness) {
			a := h.login(authtest.UserEmail)
			cfg := h.svc.Config()
			h.check(cfg.Leeway == 5*time.Second, "default leeway = %s, want 5s", cfg.Leeway)
			h.f.Clock.Advance(cfg.AccessTTL + cfg.Leeway - time.Second)
			h.live(a.Access, h.f.UserID)
			h.f.Clock.Advance(2 * time.Second)
			h.dead(a.Access)
			h.req("GET", h.auth("/me")).Bearer(a.Access).Send().Err(core.ErrInvalidToken)
		}},
		{name: "guard/scheme_case_insensitive", run: func(h *harness) {
			a := h.login(authtest.UserEmail)
			for _, s := range []string{"Bearer", "bearer", "BEARER", "BeArEr"} {
				h.req("GET", "/api/profile").H("Authorization", s+" "+a.Access).Send().Want(200)
			}
		}},
		{name: "guard/query_string_token_ignored", run: func(h *harness) {
			a := h.login(authtest.UserEmail)
			h.req("GET", "/api/profile?access_token="+a.Access).Send().Err(core.ErrNoCredential)
			h.req("GET", "/api/profile?token="+a.Access+"&bearer="+a.Access).Send().Err(core.ErrNoCredential)
			h.req("GET", "/api/optional?access_token="+a.Access).Send().JSONBody(string(OptionalBody(nil)))
		}},
		{name: "guard/two_authorization_headers_400", run: func(h *harness) {
			a := h.login(authtest.UserEmail)
			h.req("GET", "/api/profile").Bearer(a.Access).Bearer(a.Access).Send().Err(core.ErrInvalidRequest)
			h.req("GET", "/api/profile").Bearer(a.Access).H("Authorization", "Basic dXNlcjpwYXNz").Send().Err(core.ErrInvalidRequest)
			h.req("GET", "/api/optional").Bearer(a.Access).Bearer(a.Access).Send().Err(core.ErrInvalidRequest)
			h.req("GET", h.auth("/me")).Bearer(a.Access).Bearer(a.Access).Send().Err(core.ErrInvalidRequest)
		}},
		{name: "guard/refresh_token_as_bearer_401", run: func(h *harness) {
			a := h.login(authtest.UserEmail)
			h.profile(a.Refresh).Err(core.ErrInvalidToken)
			h.req("GET", "/api/optional").Bearer(a.Refresh).Send().Err(core.ErrInvalidToken)
		}},
		{name: "guard/refresh_cookie_never_a_credential", run: func(h *harness) {
			a := h.cookieLogin(authtest.UserEmail)
			h.req("GET", "/api/profile").Cookie(wire.RefreshCookieName, a.Cookie.Value).Send().Err(core.ErrNoCredential)
			h.req("GET", "/api/profile").Cookie(wire.RefreshCookieName, a.Cookie.Value).CookieMode().Send().Err(core.ErrNoCredential)
			h.req("GET", "/api/profile").Cookie(wire.RefreshCookieName, a.Cookie.Value).Bearer(a.Access).Send().Want(200)
			h.req("GET", "/api/optional").Cookie(wire.RefreshCookieName, a.Cookie.Value).Send().JSONBody(string(OptionalBody(nil)))
		}},
		{name: "guard/access_cookie(configured ag_access)", config: func(c *core.Config) { c.Cookie.AccessCookie = "ag_access" }, run: func(h *harness) {
			a := h.login(authtest.UserEmail)
			h.req("GET", "/api/profile").Cookie("ag_access", a.Access).Send().Want(200)
			h.req("GET", "/api/profile").Cookie("ag_access", a.Access).Bearer(a.Access).Send().Err(core.ErrInvalidRequest)
			h.req("GET", "/api/profile").H("Cookie", "ag_access="+a.Access+"; ag_access="+a.Access).Send().Err(core.ErrInvalidRequest)
			h.req("GET", "/api/profile").Cookie("ag_access", "garbage").Send().Err(core.ErrInvalidToken)
		}},
		{name: "guard/role_403", run: func(h *harness) {
			u := h.login(authtest.UserEmail)
			adm := h.login(authtest.AdminEmail)
			h.req("GET", "/api/admin/stats").Bearer(u.Access).Send().Err(core.ErrInsufficientScope)
			h.req("GET", "/api/admin/stats").Bearer(adm.Access).Send().JSONBody(AdminStatsJSON)
			h.req("GET", "/api/admin/stats").Bearer("garbage").Send().Err(core.ErrInvalidToken)
		}},
		{name: "guard/permission", run: func(h *harness) {
			u := h.login(authtest.UserEmail)
			adm := h.login(authtest.AdminEmail)
			h.req("GET", "/api/reports").Bearer(u.Access).Send().JSONBody(ReportsJSON)
			h.req("GET", "/api/reports").Bearer(adm.Access).Send().JSONBody(ReportsJSON)
			h.req("DELETE", "/api/reports/7").Bearer(u.Access).Send().Err(core.ErrInsufficientScope)
			res := h.req("DELETE", "/api/reports/7").Bearer(adm.Access).Send().Want(204)
			h.check(len(res.Body) == 0, "204 with a body")
			h.req("GET", "/api/reports").Bearer("garbage").Send().Err(core.ErrInvalidToken)
		}},
		{name: "guard/optional", run: func(h *harness) {
			u := h.login(authtest.UserEmail)
			h.req("GET", "/api/optional").Send().JSONBody(`{"sub":""}`)
			h.req("GET", "/api/optional").H("Authorization", "Basic dXNlcjpwYXNz").Send().JSONBody(`{"sub":""}`)
			h.req("GET", "/api/optional").Bearer(u.Access).Send().JSONBody(string(OptionalBody(&core.Principal{Subject: h.f.UserID})))
			h.req("GET", "/api/optional").Bearer("garbage").Send().Err(core.ErrInvalidToken)
			h.logout(u.Refresh).NoContent()
			h.req("GET", "/api/optional").Bearer(u.Access).Send().Err(core.ErrInvalidToken)
		}},
		{name: "guard/realm(configured example)", config: func(c *core.Config) { c.Realm = "example" }, run: func(h *harness) {
			h.req("GET", "/api/profile").Send().Err(core.ErrNoCredential)
			h.req("GET", "/api/profile").Bearer("garbage").Send().Err(core.ErrInvalidToken)
			u := h.login(authtest.UserEmail)
			res := h.req("GET", "/api/admin/stats").Bearer(u.Access).Send().Err(core.ErrInsufficientScope)
			h.check(res.Header.Get("WWW-Authenticate") == `Bearer realm="example", error="insufficient_scope"`, "WWW-Authenticate = %q", res.Header.Get("WWW-Authenticate"))
		}},
		{name: "guard/authorizer_down_503(configured failing authorizer)", config: func(c *core.Config) { c.Authorizer = failingAuthorizer{} }, run: func(h *harness) {
			u := h.login(authtest.UserEmail)
			h.req("GET", "/api/reports").Bearer(u.Access).Send().Err(core.ErrUnavailable)
			h.req("DELETE", "/api/reports/1").Bearer(u.Access).Send().Err(core.ErrUnavailable)
			h.live(u.Access, h.f.UserID)
		}},
	}
}

func cookieCases() []testCase {
	return []testCase{
		{name: "cookie/login_sets_refresh_cookie", run: func(h *harness) {
			a := h.cookieLogin(authtest.UserEmail)
			h.check(a.Cookie.MaxAge == 1209600 && a.RefreshExpiresIn == 1209600, "Max-Age = %d, refreshExpiresIn = %d", a.Cookie.MaxAge, a.RefreshExpiresIn)
			h.live(a.Access, h.f.UserID)
		}},
		{name: "cookie/refresh_rotates_cookie", run: func(h *harness) {
			a := h.cookieLogin(authtest.UserEmail)
			h.f.Clock.Advance(time.Minute)
			b := h.cookieRefresh(a.Cookie.Value).Send().CookieTokens()
			h.check(b.Cookie.Value != a.Cookie.Value, "cookie not rotated")
			h.check(b.SessionID == a.SessionID, "sessionId changed")
			h.check(b.Cookie.MaxAge == int(b.RefreshExpiresIn), "Max-Age %d != refreshExpiresIn %d", b.Cookie.MaxAge, b.RefreshExpiresIn)
			r := h.cookieRefresh(a.Cookie.Value).Send().CookieTokens()
			h.check(r.Cookie.Value == b.Cookie.Value, "a grace replay must return the same successor cookie")
			c := h.cookieRefresh(b.Cookie.Value).Send().CookieTokens()
			h.live(c.Access, h.f.UserID)
			// cookie and JSON transport share sessions: a JSON login's token works in the cookie
			j := h.login(authtest.UserEmail)
			h.cookieRefresh(j.Refresh).Send().CookieTokens()
		}},
		{name: "cookie/not_used_without_transport_header_400", run: func(h *harness) {
			a := h.cookieLogin(authtest.UserEmail)
			h.req("POST", h.auth("/refresh")).Cookie(wire.RefreshCookieName, a.Cookie.Value).Send().Err(core.ErrInvalidRequest).NoSetCookie()
			h.req("POST", h.auth("/logout")).Cookie(wire.RefreshCookieName, a.Cookie.Value).Send().Err(core.ErrInvalidRequest)
			h.live(a.Access, h.f.UserID)
			h.cookieRefresh(a.Cookie.Value).Send().CookieTokens()
		}},
		{name: "cookie/cross_site_400", run: func(h *harness) {
			a := h.cookieLogin(authtest.UserEmail)
			h.cookieRefresh(a.Cookie.Value).H("Sec-Fetch-Site", "cross-site").Send().Err(core.ErrInvalidRequest).NoSetCookie()
			h.cookieLogout(a.Cookie.Value).H("Sec-Fetch-Site", "cross-site").Send().Err(core.ErrInvalidRequest).NoSetCookie()
			h.loginReq(authtest.UserEmail).CookieMode().H("Sec-Fetch-Site", "cross-site").Send().Err(core.ErrInvalidRequest).NoSetCookie()
			h.live(a.Access, h.f.UserID)
			b := h.cookieRefresh(a.Cookie.Value).H("Sec-Fetch-Site", "same-origin").Send().CookieTokens()
			h.cookieRefresh(b.Cookie.Value).H("Sec-Fetch-Site", "same-site").Send().CookieTokens()
		}},
		{name: "cookie/origin_checked", run: func(h *harness) {
			a := h.cookieLogin(authtest.UserEmail)
			for _, o := range []string{evilOrigin, "null", "http://auth.example.test", "https://auth.example.test.evil.example"} {
				h.cookieRefresh(a.Cookie.Value).H("Origin", o).Send().Err(core.ErrInvalidRequest).NoSetCookie()
			}
			h.cookieLogout(a.Cookie.Value).H("Origin", evilOrigin).Send().Err(core.ErrInvalidRequest).NoSetCookie()
			h.loginReq(authtest.UserEmail).CookieMode().H("Origin", evilOrigin).Send().Err(core.ErrInvalidRequest)
			h.live(a.Access, h.f.UserID)
			h.cookieRefresh(a.Cookie.Value).H("Origin", authtest.Origin).Send().CookieTokens()
			h.loginReq(authtest.UserEmail).CookieMode().H("Origin", authtest.Origin).Send().CookieTokens()
		}},
		{name: "cookie/allowed_origins(configured)", config: func(c *core.Config) { c.Cookie.AllowedOrigins = []string{"https://app.example.test"} }, run: func(h *harness) {
			h.loginReq(authtest.UserEmail).CookieMode().H("Origin", "https://app.example.test").Send().CookieTokens()
			h.loginReq(authtest.UserEmail).CookieMode().H("Origin", authtest.Origin).Send().Err(core.ErrInvalidRequest)
		}},
		{name: "cookie/failed_refresh_clears_cookie", run: func(h *harness) {
			h.cookieRefresh("garbage").Send().Err(core.ErrInvalidGrant).RefreshCookie(0)
			h.cookieRefresh(unknownRefresh).Send().Err(core.ErrInvalidGrant).RefreshCookie(0)
			h.req("POST", h.auth("/refresh")).CookieMode().Send().Err(core.ErrInvalidRequest)
			a := h.cookieLogin(authtest.UserEmail)
			h.req("DELETE", h.auth("/sessions/"+a.SessionID)).Bearer(a.Access).Send().NoContent()
			h.cookieRefresh(a.Cookie.Value).Send().Err(core.ErrInvalidGrant).RefreshCookie(0)
		}},
		{name: "cookie/logout_clears_cookie", run: func(h *harness) {
			a := h.cookieLogin(authtest.UserEmail)
			h.cookieLogout(a.Cookie.Value).Send().NoContent().RefreshCookie(0)
			h.dead(a.Access)
			h.cookieRefresh(a.Cookie.Value).Send().Err(core.ErrInvalidGrant).RefreshCookie(0)
			h.cookieLogout(a.Cookie.Value).Send().NoContent().RefreshCookie(0)
			b := h.cookieLogin(authtest.UserEmail)
			h.req("POST", h.auth("/logout")).CookieMode().Bearer(b.Access).Send().NoContent().RefreshCookie(0)
			h.dead(b.Access)
		}},
		{name: "cookie/duplicate_refresh_cookie_400", run: func(h *harness) {
			a := h.cookieLogin(authtest.UserEmail)
			v := wire.RefreshCookieName + "=" + a.Cookie.Value
			h.req("POST", h.auth("/refresh")).CookieMode().H("Cookie", v+"; "+v).Send().Err(core.ErrInvalidRequest)
			h.cookieRefresh(a.Cookie.Value).Send().CookieTokens()
		}},
		{name: "cookie/samesite_lax(configured)", config: func(c *core.Config) { c.Cookie.SameSite = "Lax" }, run: func(h *harness) {
			a := h.cookieLogin(authtest.UserEmail)
			h.cookieRefresh(a.Cookie.Value).Send().CookieTokens()
		}},
		{name: "cookie/mount_prefix(configured /v1/auth)", config: func(c *core.Config) { c.MountPrefix = "/v1/auth" }, run: func(h *harness) {
			h.check(h.auth("/login") == "/v1/auth/login", "mount prefix not applied: %s", h.auth("/login"))
			a := h.cookieLogin(authtest.UserEmail)
			b := h.cookieRefresh(a.Cookie.Value).Send().CookieTokens()
			h.req("GET", h.auth("/me")).Bearer(b.Access).Send().Want(200)
			h.req("GET", h.auth("/sessions")).Bearer(b.Access).Send().Want(200)
			h.cookieLogout(b.Cookie.Value).Send().NoContent().RefreshCookie(0)
			h.dead(b.Access)
		}},
	}
}

func outageCases() []testCase {
	return []testCase{
		{name: "outage/store_down_503_nobody_logged_out(configured staleness 1m)", faults: true,
			config: func(c *core.Config) { c.RevocationMaxStaleness = time.Minute }, run: func(h *harness) {
				a := h.login(authtest.UserEmail)
				b := h.cookieLogin(authtest.UserEmail)
				h.faults.Fail("*")
				h.loginReq(authtest.UserEmail).Send().Err(core.ErrUnavailable)
				h.loginAttempt(authtest.UserEmail, wrongPassword).Err(core.ErrUnavailable)
				h.refresh(a.Refresh).Err(core.ErrUnavailable)
				h.cookieRefresh(b.Cookie.Value).Send().Err(core.ErrUnavailable).NoSetCookie()
				h.logout(a.Refresh).Err(core.ErrUnavailable)
				h.req("POST", h.auth("/logout")).Bearer(a.Access).Send().Err(core.ErrUnavailable)
				h.cookieLogout(b.Cookie.Value).Send().Err(core.ErrUnavailable).NoSetCookie()
				h.req("GET", h.auth("/sessions")).Bearer(a.Access).Send().Err(core.ErrUnavailable)
				h.req("DELETE", h.auth("/sessions/"+b.SessionID)).Bearer(a.Access).Send().Err(core.ErrUnavailable)
				h.req("DELETE", h.auth("/sessions")).Bearer(a.Access).Send().Err(core.ErrUnavailable)
				// live sessions need no store round trip
				h.live(a.Access, h.f.UserID)
				h.faults.Heal()
				h.live(a.Access, h.f.UserID)
				h.live(b.Access, h.f.UserID)
				a2 := h.refresh(a.Refresh).Tokens()
				h.cookieRefresh(b.Cookie.Value).Send().CookieTokens()
				h.logout(a2.Refresh).NoContent()
				h.dead(a2.Access)
			}},
		{name: "outage/session_write_fails_503", faults: true, run: func(h *harness) {
			h.faults.Fail("CreateSession")
			h.loginReq(authtest.UserEmail).Send().Err(core.ErrUnavailable)
			h.faults.Heal()
			a := h.login(authtest.UserEmail)
			h.faults.Fail("UpdateSession")
			h.refresh(a.Refresh).Err(core.ErrUnavailable)
			h.faults.Fail("UpdateSession")
			h.logout(a.Refresh).Err(core.ErrUnavailable)
			h.faults.Heal()
			h.live(a.Access, h.f.UserID)
			h.refresh(a.Refresh).Tokens()
		}},
		{name: "outage/throttle_store_down_503", faults: true, run: func(h *harness) {
			h.faults.Fail("Peek")
			h.loginReq(authtest.UserEmail).Send().Err(core.ErrUnavailable)
			h.faults.Heal()
			h.faults.Fail("Hit")
			h.loginAttempt(authtest.UserEmail, wrongPassword).Err(core.ErrUnavailable)
			h.faults.Heal()
			h.login(authtest.UserEmail)
		}},
		{name: "outage/stale_revocation_feed_503_then_recovers(configured poll 10ms, staleness 1s)", faults: true, realTime: true,
			config: func(c *core.Config) {
				c.RevocationPollInterval, c.RevocationMaxStaleness = 10*time.Millisecond, time.Second
			}, run: func(h *harness) {
				a := h.login(authtest.UserEmail)
				h.live(a.Access, h.f.UserID)
				h.faults.Fail("Revocations")
				h.eventually(func() *response { return h.profile(a.Access) }, 503, 200)
				h.profile(a.Access).Err(core.ErrUnavailable)
				h.req("GET", h.auth("/me")).Bearer(a.Access).Send().Err(core.ErrUnavailable)
				h.req("GET", "/api/optional").Bearer(a.Access).Send().Err(core.ErrUnavailable)
				h.req("GET", "/api/admin/stats").Bearer(a.Access).Send().Err(core.ErrUnavailable)
				h.req("GET", "/api/optional").Send().JSONBody(`{"sub":""}`)
				h.faults.Heal()
				h.eventually(func() *response { return h.profile(a.Access) }, 200, 503)
				h.live(a.Access, h.f.UserID)
				h.refresh(a.Refresh).Tokens()
			}},
	}
}

// eventually repeats send until it answers want (within 10 s), failing on
// any status outside want and allowed.
func (h *harness) eventually(send func() *response, want int, allowed ...int) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := send()
		if r.Status == want {
			return
		}
		if !slices.Contains(allowed, r.Status) {
			r.fatalf("want %d (or meanwhile %v)", want, allowed)
		}
		if time.Now().After(deadline) {
			r.fatalf("still not %d after 10s", want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func logCases() []testCase {
	return []testCase{
		{name: "logs/no_secrets_in_full_flow", run: func(h *harness) {
			h.loginAttempt(authtest.UserEmail, wrongPassword).Err(core.ErrInvalidGrant)
			h.loginAttempt(ghostEmail, wrongPassword2).Err(core.ErrInvalidGrant)
			a := h.login(authtest.UserEmail)
			b := h.refresh(a.Refresh).Tokens()
			h.refresh(a.Refresh).Tokens()
			h.profile(b.Access).Want(200)
			h.profile(b.Access + "x").Err(core.ErrInvalidToken)
			h.req("GET", "/api/admin/stats").Bearer(b.Access).Send().Err(core.ErrInsufficientScope)
			h.req("DELETE", "/api/reports/1").Bearer(b.Access).Send().Err(core.ErrInsufficientScope)
			h.f.Clock.Advance(time.Minute)
			h.refresh(a.Refresh).Err(core.ErrInvalidGrant) // reuse: revokes
			c := h.cookieLogin(authtest.UserEmail)
			d := h.cookieRefresh(c.Cookie.Value).Send().CookieTokens()
			h.cookieRefresh("garbage").Send().Err(core.ErrInvalidGrant)
			h.req("GET", h.auth("/sessions")).Bearer(d.Access).Send().Want(200)
			h.cookieLogout(d.Cookie.Value).Send().NoContent()
			e := h.login(authtest.AdminEmail)
			h.req("POST", h.auth("/logout")).Bearer(e.Access).Send().NoContent()
			logs := h.f.Logs.String()
			h.check(strings.Count(logs, "\n") >= 10, "expected audit events in the log, got %d lines", strings.Count(logs, "\n"))
			// checkLogs (run after every case) searches the log for every secret above.
		}},
	}
}

// Descriptions of the answers that never say why.
const (
	grantDescription = "invalid credentials or refresh token"
	tokenDescription = "invalid or expired access token"
)

func errorCases() []testCase {
	return []testCase{
		{name: "errors/invalid_request_names_the_cause", run: func(h *harness) {
			a := h.cookieLogin(authtest.UserEmail)
			u, pw := authtest.UserEmail, authtest.Password
			login := func() *request { return h.req("POST", h.auth("/login")) }
			refresh := func() *request { return h.req("POST", h.auth("/refresh")) }
			bad := func(q *request, desc string) { q.Send().Err(core.ErrInvalidRequest).Says(desc) }
			bad(login().Raw([]byte(loginJSON(u, pw))).H("Content-Type", "text/plain"), "Content-Type must be application/json")
			bad(login().JSON(`{"password":"`+pw+`"}`), "email is required")
			bad(login().JSON(`{"email":"`+u+`","password":""}`), "password is required")
			bad(login().JSON(`{"email":7,"password":"`+pw+`"}`), "email must be a string")
			bad(login().JSON(`["`+u+`"]`), "request body must be a JSON object")
			bad(login().JSON(`{"email":`), "malformed JSON")
			h.secret(strings.Repeat("p", core.MaxPasswordBytes+1), "password")
			bad(login().JSON(loginJSON(u, strings.Repeat("p", core.MaxPasswordBytes+1))), "password too long")
			bad(login().JSON(loginJSON(strings.Repeat("e", core.MaxEmailBytes)+"@example.com", pw)), "email too long")
			bad(refresh().JSON(`{}`), "refresh token missing")
			bad(refresh(), "refresh token missing")
			bad(refresh().JSON(`{"refreshToken":""}`), "refreshToken must not be empty")
			bad(refresh().JSON(`{"refreshToken":5}`), "refreshToken must be a string")
			bad(refresh().Cookie(wire.RefreshCookieName, a.Cookie.Value), "cookie transport requires the X-Auth-Transport header")
			bad(h.req("POST", h.auth("/logout")).Cookie(wire.RefreshCookieName, a.Cookie.Value), "cookie transport requires the X-Auth-Transport header")
			bad(h.req("POST", h.auth("/logout")), "a refresh token or an access token is required")
			bad(h.cookieRefresh(a.Cookie.Value).H("Origin", evilOrigin), "origin not allowed")
			bad(h.cookieRefresh(a.Cookie.Value).H("Sec-Fetch-Site", "cross-site"), "cross-site request refused")
			v := wire.RefreshCookieName + "=" + a.Cookie.Value
			bad(refresh().CookieMode().H("Cookie", v+"; "+v), "refresh cookie sent more than once")
			bad(h.req("GET", "/api/profile").Bearer(a.Access).Bearer(a.Access), "two credentials in one request")
			bad(h.req("POST", h.auth("/logout")).Bearer(a.Access).Bearer(a.Access), "two credentials in one request")
			login().JSON(padJSON(loginJSON(u, pw), wire.MaxBodyBytes+1)).Send().Err(core.ErrBodyTooLarge).Says("request body too large")
			h.live(a.Access, h.f.UserID)
		}},
		{name: "errors/invalid_grant_one_body(login wrong, unknown, disabled; refresh unknown, reused)", run: func(h *harness) {
			wrong := h.loginAttempt(authtest.UserEmail, wrongPassword).Err(core.ErrInvalidGrant).Says(grantDescription)
			sameAnswer(wrong, h.loginAttempt(ghostEmail, wrongPassword).Err(core.ErrInvalidGrant))
			ctx := context.Background()
			adm, err := h.f.Store.UserByEmail(ctx, authtest.AdminEmail)
			h.check(err == nil, "UserByEmail: %v", err)
			adm.Disabled = true
			h.check(h.f.Store.UpdateUser(ctx, adm) == nil, "UpdateUser failed")
			sameAnswer(wrong, h.loginReq(authtest.AdminEmail).Send().Err(core.ErrInvalidGrant))
			t0 := h.login(authtest.UserEmail)
			t1 := h.refresh(t0.Refresh).Tokens()
			h.f.Clock.Advance(h.svc.Config().RefreshGrace + time.Second)
			sameAnswer(wrong, h.refresh(unknownRefresh).Err(core.ErrInvalidGrant))
			sameAnswer(wrong, h.refresh(t0.Refresh).Err(core.ErrInvalidGrant)) // reused
			sameAnswer(wrong, h.refresh(t1.Refresh).Err(core.ErrInvalidGrant)) // its session revoked by the reuse
		}},
		{name: "errors/invalid_token_one_body(garbage, tampered, refresh token, revoked, expired)", run: func(h *harness) {
			a := h.login(authtest.UserEmail)
			garbage := h.profile("garbage").Err(core.ErrInvalidToken).Says(tokenDescription)
			sameAnswer(garbage, h.profile(a.Access+"x").Err(core.ErrInvalidToken))
			sameAnswer(garbage, h.profile(a.Refresh).Err(core.ErrInvalidToken))
			b := h.login(authtest.UserEmail)
			h.logout(a.Refresh).NoContent()
			sameAnswer(garbage, h.profile(a.Access).Err(core.ErrInvalidToken))
			h.f.Clock.Advance(time.Hour)
			sameAnswer(garbage, h.profile(b.Access).Err(core.ErrInvalidToken))
		}},
		{name: "logs/each_refusal_one_audit_line(configured ag_access)", config: func(c *core.Config) { c.Cookie.AccessCookie = "ag_access" }, run: func(h *harness) {
			a := h.cookieLogin(authtest.UserEmail)
			u, pw := authtest.UserEmail, authtest.Password
			h.secret(strings.Repeat("p", core.MaxPasswordBytes+1), "password")
			h.secret(wrongPassword, "password")
			login := func() *request { return h.req("POST", h.auth("/login")) }
			refresh := func() *request { return h.req("POST", h.auth("/refresh")) }
			logout := func() *request { return h.req("POST", h.auth("/logout")) }
			cross := func(q *request) *request { return q.H("Sec-Fetch-Site", "cross-site") }
			for _, x := range []struct {
				event, reason string
				q             *request
			}{
				{"request_refused", "content_type", login().Raw([]byte(loginJSON(u, pw))).H("Content-Type", "text/plain")},
				{"request_refused", "missing_email", login().JSON(`{"password":"` + pw + `"}`)},
				{"request_refused", "missing_password", login().JSON(`{"email":"` + u + `","password":""}`)},
				{"request_refused", "password_too_long", login().JSON(loginJSON(u, strings.Repeat("p", core.MaxPasswordBytes+1)))},
				{"request_refused", "body_too_large", login().JSON(padJSON(loginJSON(u, pw), wire.MaxBodyBytes+1))},
				{"request_refused", "csrf_cross_site", cross(h.loginReq(u).CookieMode())},
				{"request_refused", "csrf_origin", h.loginReq(u).CookieMode().H("Origin", evilOrigin)},
				{"login_failed", "wrong_password", login().JSON(loginJSON(u, wrongPassword))},
				{"login_failed", "unknown_user", login().JSON(loginJSON(ghostEmail, wrongPassword))},
				{"request_refused", "no_refresh_token", refresh().JSON(`{}`)},
				{"request_refused", "cookie_without_transport", refresh().Cookie(wire.RefreshCookieName, a.Cookie.Value)},
				{"request_refused", "csrf_origin", h.cookieRefresh(a.Cookie.Value).H("Origin", evilOrigin)},
				{"refresh_failed", "malformed_token", h.cookieRefresh(unknownRefresh)},
				{"request_refused", "no_credential", logout()},
				{"request_refused", "multiple_credentials", logout().Bearer(a.Access).Bearer(a.Access)},
				{"request_refused", "csrf_cross_site", cross(h.cookieLogout(a.Cookie.Value))},
				{"request_refused", "csrf_cross_site", cross(logout().Cookie("ag_access", a.Access))},
				{"access_denied", "multiple_credentials", h.req("GET", "/api/profile").Bearer(a.Access).Bearer(a.Access)},
				{"access_denied", "multiple_credentials", h.req("GET", "/api/profile").Bearer(a.Access).Cookie("ag_access", a.Access)},
				{"access_denied", "csrf_cross_site", cross(h.req("GET", "/api/profile").Cookie("ag_access", a.Access))},
				{"access_denied", "csrf_origin", h.req("GET", h.auth("/me")).Cookie("ag_access", a.Access).H("Origin", evilOrigin)},
				{"access_denied", "missing_role", h.req("GET", "/api/admin/stats").Bearer(a.Access)},
			} {
				mark := len(h.f.Logs.String())
				res := x.q.Send()
				h.check(res.Status >= 400, "%s: status %d, want a refusal", res.label, res.Status)
				h.auditedOnce(res, mark, x.event, x.reason)
			}
			h.live(a.Access, h.f.UserID)
		}},
	}
}

// renderings are the bodies the core renders for kind: one per kind, except
// for a 400 invalid_request, which names its cause: one body per cause in
// wire's table (the generic description is not among them, since every 400
// of the contract names its cause).
func (h *harness) renderings(kind error) [][]byte {
	srv := wire.New(h.svc)
	if kind != core.ErrInvalidRequest {
		return [][]byte{srv.ErrorResponse(kind).Body}
	}
	var out [][]byte
	for reason := range wire.RequestDescriptions() {
		out = append(out, srv.ErrorResponse(&core.Error{Kind: kind, Reason: reason}).Body)
	}
	return out
}

// Says asserts the exact error_description of an error answer.
func (r *response) Says(desc string) *response {
	r.h.t.Helper()
	var m map[string]string
	if err := json.Unmarshal(r.Body, &m); err != nil || m["error_description"] != desc {
		r.fatalf("error_description want %q", desc)
	}
	return r
}

// auditedOnce asserts that the log written since mark (the length of the
// log before res was sent) is exactly one audit line: event with reason.
func (h *harness) auditedOnce(res *response, mark int, event, reason string) {
	h.t.Helper()
	lines := strings.Split(strings.TrimSuffix(h.f.Logs.String()[mark:], "\n"), "\n")
	if len(lines) != 1 || lines[0] == "" {
		res.fatalf("want exactly one audit line (%s %s), got %d: %q", event, reason, len(lines), lines)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		res.fatalf("audit line is not JSON: %v", err)
	}
	if m["event"] != event || m["reason"] != reason {
		res.fatalf("audit line %s, want event %q reason %q", lines[0], event, reason)
	}
}

// roles returns the role administration path of subject (and role).
func (h *harness) roles(subject string, role ...string) string {
	p := h.auth("/admin/roles/" + subject)
	for _, r := range role {
		p += "/" + r
	}
	return p
}

func (h *harness) wantRoles(tok, subject string, roles ...string) {
	h.t.Helper()
	want, _ := json.Marshal(struct {
		Subject string   `json:"subject"`
		Roles   []string `json:"roles"`
	}{subject, append([]string{}, roles...)})
	h.req("GET", h.roles(subject)).Bearer(tok).Send().JSONBody(string(want))
}

// roleCases: the role administration, and RequireRole asking the policy
// rather than the token once the policy is the Authorizer.
func roleCases() []testCase {
	return []testCase{
		{name: "roles/list_grant_revoke_idempotent", policy: true, run: func(h *harness) {
			adm, u := h.login(authtest.AdminEmail), h.login(authtest.UserEmail)
			h.wantRoles(adm.Access, h.f.UserID, "user")
			h.req("GET", "/api/admin/stats").Bearer(u.Access).Send().Err(core.ErrInsufficientScope)
			for range 2 {
				h.req("PUT", h.roles(h.f.UserID, "admin")).Bearer(adm.Access).Send().NoContent()
			}
			h.wantRoles(adm.Access, h.f.UserID, "admin", "user")
			// the token still says "user"; the policy says admin, at once
			h.req("GET", "/api/admin/stats").Bearer(u.Access).Send().JSONBody(AdminStatsJSON)
			h.req("GET", h.roles(h.f.AdminID)).Bearer(u.Access).Send().Want(200)
			for range 2 {
				h.req("DELETE", h.roles(h.f.UserID, "admin")).Bearer(adm.Access).Send().NoContent()
			}
			h.wantRoles(adm.Access, h.f.UserID, "user")
			h.req("GET", "/api/admin/stats").Bearer(u.Access).Send().Err(core.ErrInsufficientScope)
			// the admin's token keeps its claim, the policy takes the role away
			h.req("DELETE", h.roles(h.f.AdminID, "admin")).Bearer(adm.Access).Send().NoContent()
			h.req("GET", "/api/admin/stats").Bearer(adm.Access).Send().Err(core.ErrInsufficientScope)
			h.req("GET", h.roles(h.f.AdminID)).Bearer(adm.Access).Send().Err(core.ErrInsufficientScope)
			logs := h.f.Logs.String()
			h.check(strings.Contains(logs, `"event":"access_denied"`) && strings.Contains(logs, `"object":"roles"`),
				"a refused role administration request is not audited: %s", logs)
		}},
		{name: "roles/errors", policy: true, run: func(h *harness) {
			adm, u := h.login(authtest.AdminEmail), h.login(authtest.UserEmail)
			h.req("GET", h.roles("no-such-user")).Bearer(adm.Access).Send().Err(core.ErrNotFound)
			h.req("PUT", h.roles("no-such-user", "user")).Bearer(adm.Access).Send().Err(core.ErrNotFound)
			h.req("DELETE", h.roles("no-such-user", "user")).Bearer(adm.Access).Send().Err(core.ErrNotFound)
			h.req("PUT", h.roles(h.f.UserID, "superuser")).Bearer(adm.Access).Send().Err(core.ErrInvalidRequest).
				Says("role is not defined by the policy")
			h.req("DELETE", h.roles(h.f.UserID, "superuser")).Bearer(adm.Access).Send().Err(core.ErrInvalidRequest)
			h.req("GET", h.roles(h.f.UserID)).Send().Err(core.ErrNoCredential)
			h.req("PUT", h.roles(h.f.UserID, "admin")).Send().Err(core.ErrNoCredential)
			h.req("GET", h.roles(h.f.UserID)).Bearer(u.Access).Send().Err(core.ErrInsufficientScope)
			h.req("PUT", h.roles(h.f.UserID, "admin")).Bearer(u.Access).Send().Err(core.ErrInsufficientScope)
			h.req("DELETE", h.roles(h.f.AdminID, "admin")).Bearer(u.Access).Send().Err(core.ErrInsufficientScope)
			for _, rq := range [][2]string{
				{"GET", h.auth("/admin/roles/")}, {"GET", h.roles(h.f.UserID, "user")}, {"PUT", h.roles(h.f.UserID)},
				{"DELETE", h.roles(h.f.UserID)}, {"PUT", h.roles(h.f.UserID, "user", "x")}, {"PUT", h.roles(h.f.UserID, "")},
				{"PUT", h.roles(h.f.UserID, ".")}, {"PUT", h.roles(h.f.UserID, "..")},
			} {
				h.req(rq[0], rq[1]).Bearer(adm.Access).Send().Err(core.ErrNotFound)
			}
			h.wantRoles(adm.Access, h.f.UserID, "user")
		}},
		{name: "roles/outage_503", policy: true, run: func(h *harness) {
			adm := h.login(authtest.AdminEmail)
			h.policy.failAdmin = true
			h.req("GET", h.roles(h.f.UserID)).Bearer(adm.Access).Send().Err(core.ErrUnavailable)
			h.req("PUT", h.roles(h.f.UserID, "admin")).Bearer(adm.Access).Send().Err(core.ErrUnavailable)
			h.policy.failAdmin, h.policy.fail = false, true
			h.req("DELETE", h.roles(h.f.UserID, "user")).Bearer(adm.Access).Send().Err(core.ErrUnavailable)
			h.req("GET", "/api/admin/stats").Bearer(adm.Access).Send().Err(core.ErrUnavailable)
			h.req("GET", "/api/reports").Bearer(adm.Access).Send().Err(core.ErrUnavailable)
			h.req("GET", "/admin").Bearer(adm.Access).Send().Err(core.ErrUnavailable)
			h.policy.fail = false
			h.wantRoles(adm.Access, h.f.UserID, "user")
		}},
	}
}

// pathTrickCases: no spelling of a path or method reaches a handler the
// policy denies the caller, through the route-pattern guard (GET /admin),
// RequirePermission (DELETE /api/reports/{id}) and the role
// administration. The routers may answer some variants themselves (404,
// 405, a redirect the suite follows); none may answer 2xx.
func pathTrickCases() []testCase {
	return []testCase{
		{name: "guard/path_tricks_never_reach_a_denied_handler", policy: true, run: func(h *harness) {
			adm, u := h.login(authtest.AdminEmail), h.login(authtest.UserEmail)
			h.req("GET", "/admin").Bearer(adm.Access).Send().JSONBody(RouteJSON)
			h.req("GET", "/admin").Bearer(u.Access).Send().Err(core.ErrInsufficientScope)
			h.req("DELETE", "/api/reports/1").Bearer(u.Access).Send().Err(core.ErrInsufficientScope)
			denied := func(method, path string, hdr ...string) {
				h.t.Helper()
				q := h.req(method, path).Bearer(u.Access).RouterMayAnswer()
				for i := 0; i+1 < len(hdr); i += 2 {
					q.H(hdr[i], hdr[i+1])
				}
				res := q.Send()
				if res.Status < 300 {
					res.fatalf("a path trick reached a handler the policy denies")
				}
			}
			for _, p := range trickPaths("/admin") {
				denied("GET", p)
			}
			for _, p := range trickPaths("/api/reports/1") {
				denied("DELETE", p)
			}
			grant := h.roles(h.f.UserID, "admin")
			for _, p := range trickPaths(grant) {
				denied("PUT", p)
			}
			for _, o := range []string{"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"} {
				denied("POST", "/api/reports/1", o, "DELETE")
				denied("GET", "/api/reports/1", o, "DELETE")
				denied("POST", "/admin", o, "GET")
				denied("POST", grant, o, "PUT")
				denied("GET", grant, o, "PUT")
			}
			denied("POST", "/api/reports/1?_method=DELETE")
			denied("POST", grant+"?_method=PUT")
			h.wantRoles(adm.Access, h.f.UserID, "user")
			h.req("DELETE", "/api/reports/1").Bearer(adm.Access).Send().Want(204)
		}},
	}
}

// trickPaths are spellings of p that a router or a proxy may take for p:
// doubled and trailing slashes, other case, dot segments (plain and
// encoded), encoded slashes and ";" parameters.
func trickPaths(p string) []string {
	first, rest, _ := strings.Cut(p[1:], "/")
	out := []string{
		"/" + p, p + "/", p + "//", strings.ToUpper(p), "/public/.." + p, "/public/%2e%2e" + p, "/public/%2E%2E" + p,
		"/public%2F.." + p, p + "/.", p + "/%2e", p + ";", p + ";x=1", p + "/;x=1", p + "%2F", p + "%2f",
	}
	if rest != "" {
		out = append(out, "/"+first+"%2F"+rest, "/"+first+";x=1/"+rest, "/"+first+"//"+rest, "/"+first+"/./"+rest,
			"/"+strings.ToUpper(first)+"/"+rest)
	}
	return out
}
