package core_test

import (
	"context"
	"errors"
	"strings"
	"testing"

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
