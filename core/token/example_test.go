package token_test

import (
	"fmt"
	"time"

	"github.com/authguard/authguard/core/token"
)

func ExampleKeySet_Sign() {
	key, _ := token.GenerateKey(token.AlgEdDSA)
	keys, _ := token.NewKeySet(key)

	now := time.Unix(1_750_000_000, 0)
	tok, err := keys.Sign(&token.AccessClaims{
		Issuer:    "https://auth.example.com",
		Subject:   "user-42",
		Audience:  []string{"api"},
		IssuedAt:  now.Unix(),
		ExpiresAt: now.Add(10 * time.Minute).Unix(),
		AuthTime:  now.Unix(),
		SessionID: "session-7",
		Roles:     []string{"user"},
	})
	if err != nil {
		panic(err)
	}

	var claims token.AccessClaims
	err = keys.Verify(tok, &token.VerifyOptions{
		Issuer:   "https://auth.example.com",
		Audience: "api",
		Now:      now.Add(time.Minute),
		Leeway:   5 * time.Second,
		MaxTTL:   10 * time.Minute,
	}, &claims)
	fmt.Println(err, claims.Subject, claims.Roles, claims.SessionID, len(claims.ID))

	// Ten minutes and five seconds (the leeway) later the token is expired.
	err = keys.Verify(tok, &token.VerifyOptions{
		Issuer: "https://auth.example.com", Audience: "api",
		Now: now.Add(10*time.Minute + 5*time.Second), Leeway: 5 * time.Second,
	}, nil)
	fmt.Println(err, token.ReasonOf(err))
	// Output:
	// <nil> user-42 [user] session-7 22
	// authguard: invalid token: expired expired
}

func ExampleKeySet_SetSigningKey() {
	old, _ := token.GenerateKey(token.AlgEdDSA)
	keys, _ := token.NewKeySet(old)
	now := time.Unix(1_750_000_000, 0)
	claims := token.AccessClaims{
		Issuer: "https://auth.example.com", Subject: "user-42", Audience: []string{"api"},
		IssuedAt: now.Unix(), ExpiresAt: now.Add(10 * time.Minute).Unix(), SessionID: "s",
	}
	oldToken, _ := keys.Sign(&claims)

	// Rotate: new tokens use the new key, old ones still verify.
	next, _ := token.GenerateKey(token.AlgEdDSA)
	_ = keys.SetSigningKey(next)
	o := &token.VerifyOptions{Issuer: "https://auth.example.com", Audience: "api", Now: now}
	fmt.Println(keys.Verify(oldToken, o, nil))

	// Once every old token has expired, retire the old key.
	_ = keys.RemoveKey(old.ID())
	fmt.Println(token.ReasonOf(keys.Verify(oldToken, o, nil)))
	// Output:
	// <nil>
	// kid
}
