package core_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/token"
)

// A refused access token is core's ErrInvalidToken *Error with the reason
// word of token.KeySet.Verify, and the same log text as before token
// verification became its own package; the mapping allocates nothing.
func TestAuthenticateMapsTokenReasons(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	ctx := context.Background()
	tr, err := f.Service.Login(ctx, core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	now := f.Clock.Now()
	sign := func(edit func(c *token.AccessClaims)) string {
		c := token.AccessClaims{
			Issuer: authtest.Issuer, Subject: "s", Audience: []string{authtest.Audience},
			IssuedAt: now.Unix(), ExpiresAt: now.Add(time.Minute).Unix(), SessionID: tr.SessionID, ID: "jti",
		}
		edit(&c)
		tok, err := f.Service.Keys().Sign(&c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	cases := []struct{ tok, reason string }{
		{strings.Repeat("a", 9000), "too_long"},
		{"a.b", "malformed"},
		{"eyJhbGciOiJub25lIn0.e30.c2ln", "alg"},
		{sign(func(c *token.AccessClaims) { c.Issuer = "https://other.example" }), "issuer"},
		{sign(func(c *token.AccessClaims) { c.Audience = []string{"other"} }), "audience"},
		{sign(func(c *token.AccessClaims) { c.ExpiresAt = now.Add(2 * time.Hour).Unix() }), "lifetime"},
		{sign(func(c *token.AccessClaims) {
			c.IssuedAt, c.ExpiresAt = now.Add(-time.Hour).Unix(), now.Add(-50*time.Minute).Unix()
		}), "expired"},
	}
	for _, c := range cases {
		_, err := f.Service.Authenticate(ctx, c.tok)
		var e *core.Error
		if !errors.As(err, &e) || !errors.Is(err, core.ErrInvalidToken) || e.Reason != c.reason {
			t.Fatalf("%s: Authenticate = %v, want ErrInvalidToken %q", c.reason, err, c.reason)
		}
		if got, want := err.Error(), "authguard: invalid token: "+c.reason; got != want {
			t.Fatalf("error text %q, want %q", got, want)
		}
		// The guard adds no allocation to those of the verifier (none
		// before the signature check; golang-jwt's Ed25519 check allocates).
		o := token.VerifyOptions{Issuer: authtest.Issuer, Audience: authtest.Audience, Now: now, MaxTTL: 10 * time.Minute}
		base := testing.AllocsPerRun(50, func() { _ = f.Service.Keys().Verify(c.tok, &o, nil) })
		allocs := testing.AllocsPerRun(50, func() { _, _ = f.Service.Authenticate(ctx, c.tok) })
		if allocs > base {
			t.Errorf("%s: rejection allocates %.1f times, the verifier %.1f", c.reason, allocs, base)
		}
	}
	if _, err := f.Service.Authenticate(ctx, tr.AccessToken); err != nil {
		t.Fatalf("valid token refused: %v", err)
	}
}
