package authtest

import (
	"context"
	"testing"

	"github.com/authguard/authguard/core"
)

// LoginUser logs in as UserEmail with Password and fails t on any error.
func (f *Fixture) LoginUser(t testing.TB) *core.TokenResponse {
	t.Helper()
	tr, err := f.Service.Login(context.Background(), core.LoginInput{Email: UserEmail, Password: Password})
	if err != nil {
		t.Fatalf("authtest: login as %s: %v", UserEmail, err)
	}
	return tr
}
