package core_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
)

// R63 and R65: every decision is one event with client context, and a
// client cannot forge log lines through the fields it controls.
func TestAuditEventsAreStructuredAndClean(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	ctx := context.Background()
	evil := core.ClientInfo{IP: "192.0.2.9", UserAgent: "agent\r\nlevel=ERROR msg=forged", RequestID: "req-1\n"}
	if _, err := f.Service.Login(ctx, core.LoginInput{Email: authtest.UserEmail, Password: "wrong password!", Client: evil}); err == nil {
		t.Fatal("wrong password accepted")
	}
	tr, err := f.Service.Login(ctx, core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password, Client: evil})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Service.Refresh(ctx, tr.RefreshToken, evil); err != nil {
		t.Fatal(err)
	}
	if err := f.Service.Logout(ctx, core.LogoutInput{RefreshToken: tr.RefreshToken, Client: evil}); err != nil {
		t.Fatal(err)
	}
	log := f.Logs.String()
	for _, event := range []string{"login_failed", "login_succeeded", "refresh_succeeded", "logout"} {
		if !strings.Contains(log, `"event":"`+event+`"`) {
			t.Errorf("no %s event in the log", event)
		}
	}
	for _, want := range []string{`"ip":"192.0.2.9"`, `"request_id":"req-1\\x0a"`, `"reason":"wrong_password"`, `"session_id":"` + tr.SessionID + `"`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s", want)
		}
	}
	if strings.Contains(log, "\r") || strings.Contains(log, "agent\\r\\n") || !strings.Contains(log, `agent\\x0d\\x0alevel=ERROR`) {
		t.Errorf("CR/LF of the user agent not encoded: %s", log)
	}
	for _, secret := range []string{tr.AccessToken, tr.RefreshToken, authtest.Password, "wrong password!"} {
		if strings.Contains(log, secret) {
			t.Fatalf("the log contains a secret")
		}
	}
}

// R42 and R23: a disabled account cannot refresh, and its session ends.
func TestDisabledUserCannotRefresh(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	ctx := context.Background()
	tr, err := f.Service.Login(ctx, core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	u, err := f.Store.UserByID(ctx, f.UserID)
	if err != nil {
		t.Fatal(err)
	}
	u.Disabled = true
	if err := f.Store.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Service.Refresh(ctx, tr.RefreshToken, core.ClientInfo{}); !errors.Is(err, core.ErrInvalidGrant) && !errors.Is(err, core.ErrInvalidCredentials) {
		t.Fatalf("refresh of a disabled user: %v, want invalid_grant", err)
	}
	if _, err := f.Service.Authenticate(ctx, tr.AccessToken); !errors.Is(err, core.ErrInvalidToken) {
		t.Fatalf("a disabled user's session must end: %v", err)
	}
	if _, err := f.Service.Login(ctx, core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password}); !errors.Is(err, core.ErrInvalidGrant) && !errors.Is(err, core.ErrInvalidCredentials) {
		t.Fatalf("login of a disabled user: %v, want invalid_grant", err)
	}
}

// Every refusal of the service is one audit line with its reason, and the
// reason of a login without credentials names the missing field.
func TestRefusalsAreAuditedOnce(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	ctx := context.Background()
	long := strings.Repeat("p", core.MaxPasswordBytes+1)
	for _, tc := range []struct {
		name, event, reason string
		call                func() error
	}{
		{"login without email", "request_refused", "missing_email", func() error {
			_, err := f.Service.Login(ctx, core.LoginInput{Password: authtest.Password})
			return err
		}},
		{"login without password", "request_refused", "missing_password", func() error {
			_, err := f.Service.Login(ctx, core.LoginInput{Email: authtest.UserEmail})
			return err
		}},
		{"login with a password too long", "request_refused", "password_too_long", func() error {
			_, err := f.Service.Login(ctx, core.LoginInput{Email: authtest.UserEmail, Password: long})
			return err
		}},
		{"logout without credential", "request_refused", "no_credential", func() error {
			return f.Service.Logout(ctx, core.LogoutInput{})
		}},
	} {
		mark := len(f.Logs.String())
		err := tc.call()
		if !errors.Is(err, core.ErrInvalidRequest) || core.ReasonOf(err) != tc.reason {
			t.Errorf("%s: %v, want invalid_request %s", tc.name, err, tc.reason)
		}
		lines := strings.Split(strings.TrimSuffix(f.Logs.String()[mark:], "\n"), "\n")
		if len(lines) != 1 || !strings.Contains(lines[0], `"event":"`+tc.event+`"`) || !strings.Contains(lines[0], `"reason":"`+tc.reason+`"`) {
			t.Errorf("%s: log %q, want one %s line with reason %s", tc.name, lines, tc.event, tc.reason)
		}
		if strings.Contains(f.Logs.String(), long) {
			t.Fatal("the log contains a password")
		}
	}
}

// A refresh refused because less than a second of its session is left is
// audited like every other failed refresh.
func TestRefreshOfASessionEndingIsAudited(t *testing.T) {
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.RefreshIdleTTL, c.RefreshAbsoluteTTL = 2*time.Hour, 2*time.Hour }})
	ctx := context.Background()
	f.Clock.Advance(500 * time.Millisecond)
	tr, err := f.Service.Login(ctx, core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	// 0.3 s left, within the deadline's second: no access token could be valid.
	f.Clock.Advance(2*time.Hour - 300*time.Millisecond)
	mark := len(f.Logs.String())
	if _, err := f.Service.Refresh(ctx, tr.RefreshToken, core.ClientInfo{}); !errors.Is(err, core.ErrInvalidGrant) {
		t.Fatalf("refresh 0.3 s before the end: %v, want invalid_grant", err)
	}
	lines := strings.Split(strings.TrimSuffix(f.Logs.String()[mark:], "\n"), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `"event":"refresh_failed"`) || !strings.Contains(lines[0], `"reason":"session_expiring"`) {
		t.Fatalf("log %q, want one refresh_failed line (session_expiring)", lines)
	}
}
