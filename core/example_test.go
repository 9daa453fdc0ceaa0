package core_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/memstore"
	"github.com/authguard/authguard/core/password"
	"github.com/authguard/authguard/core/token"
)

// A complete login, guarded call, refresh and logout without any transport.
func ExampleNew() {
	ctx := context.Background()
	st := memstore.New()
	key, _ := token.GenerateKey(token.AlgEdDSA)
	keys, _ := token.NewKeySet(key)
	users, _ := password.NewAuthenticator(st, password.Options{})
	_, _ = users.CreateUser(ctx, "ada@example.com", "a long passphrase", []string{"admin"})

	svc, err := core.New(core.Config{
		Issuer: "https://api.example.com", Audience: "my-app",
		Keys: keys, Store: st, Authenticator: users,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer svc.Close()

	tr, _ := svc.Login(ctx, core.LoginInput{Email: "ada@example.com", Password: "a long passphrase"})
	p, _ := svc.Authenticate(ctx, tr.AccessToken)
	fmt.Println("roles:", p.Roles, "expiresIn:", tr.ExpiresIn)

	next, _ := svc.Refresh(ctx, tr.RefreshToken, core.ClientInfo{})
	fmt.Println("rotated:", next.RefreshToken != tr.RefreshToken)

	_ = svc.Logout(ctx, core.LogoutInput{RefreshToken: next.RefreshToken})
	_, err = svc.Authenticate(ctx, next.AccessToken)
	fmt.Println("after logout:", errors.Is(err, core.ErrInvalidToken))
	// Output:
	// roles: [admin] expiresIn: 600
	// rotated: true
	// after logout: true
}
