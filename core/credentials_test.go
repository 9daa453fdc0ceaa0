package core_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
)

func TestCheckCredentialLengths(t *testing.T) {
	email := strings.Repeat("a", core.MaxEmailBytes-12) + "@example.com" // exactly the limit
	pw := strings.Repeat("p", core.MaxPasswordBytes)
	for _, tc := range []struct {
		name, email, password, reason string
	}{
		{"at both limits", email, pw, ""},
		{"empty values are the caller's rule", "", "", ""},
		{"e-mail at the limit once normalised", "  " + strings.ToUpper(email) + "\t", "pw", ""},
		{"e-mail one byte over", "a" + email, "pw", "email_too_long"},
		{"password one byte over", email, pw + "p", "password_too_long"},
		{"password checked first", "a" + email, pw + "p", "password_too_long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := core.CheckCredentialLengths(tc.email, tc.password)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, core.ErrInvalidRequest) || core.ReasonOf(err) != tc.reason {
				t.Fatalf("error %v, want invalid request %q", err, tc.reason)
			}
		})
	}
}

func TestNormalizeEmail(t *testing.T) {
	if got := core.NormalizeEmail(" \tAda@Example.COM\n"); got != "ada@example.com" {
		t.Fatalf("NormalizeEmail = %q", got)
	}
}

// Login applies the same length rules as the authenticator: an e-mail
// address over MaxEmailBytes is a malformed request (400 invalid_request),
// answered before the throttle and the password hash; at the limit it is an
// ordinary failed login.
func TestLoginEmailLengthLimit(t *testing.T) {
	var auth *secCountingAuth
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) {
		auth = &secCountingAuth{Authenticator: c.Authenticator}
		c.Authenticator = auth
	}})
	ctx := context.Background()
	long := strings.Repeat("a", core.MaxEmailBytes-11) + "@example.com"
	for range f.Service.Config().LoginThrottle.AccountLimit + 1 {
		_, err := f.Service.Login(ctx, core.LoginInput{Email: long, Password: authtest.Password})
		if !errors.Is(err, core.ErrInvalidRequest) || core.ReasonOf(err) != "email_too_long" {
			t.Fatalf("%d-byte e-mail: %v", len(long), err)
		}
	}
	if n := auth.n.Load(); n != 0 {
		t.Fatalf("%d credential checks for over-long e-mail addresses", n)
	}
	_, err := f.Service.Login(ctx, core.LoginInput{Email: long[1:], Password: authtest.Password})
	if !errors.Is(err, core.ErrInvalidGrant) || core.ReasonOf(err) != "unknown_user" {
		t.Fatalf("%d-byte e-mail: %v", len(long)-1, err)
	}
}
