package fiberauth_test

import (
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"

	fiberauth "github.com/authguard/authguard/adapters/fiber"
	"github.com/authguard/authguard/core/authtest"
)

// The contract's paths are exact on every router: fiber's lenient default
// routing must not turn "DELETE /auth/sessions/" into "revoke every other
// session", nor serve "/AUTH/LOGIN".
func TestMountServesExactPathsOnly(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	app := fiber.New()
	fiberauth.Mount(app, f.Service)
	for _, tc := range []struct{ method, path string }{
		{"DELETE", "/auth/sessions/"},
		{"POST", "/AUTH/LOGIN"},
		{"GET", "/auth/me/"},
	} {
		resp, err := app.Test(httptest.NewRequest(tc.method, tc.path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 404 {
			t.Errorf("%s %s: %d, want 404", tc.method, tc.path, resp.StatusCode)
		}
	}
}
