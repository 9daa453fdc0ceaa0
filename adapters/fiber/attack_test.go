package fiberauth_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	fiberauth "github.com/authguard/authguard/adapters/fiber"
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/gofiber/fiber/v2"
)

func attackLogin(t *testing.T, f *authtest.Fixture) *core.TokenResponse {
	t.Helper()
	tr, err := f.Service.Login(context.Background(), core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// attackSend sends method path with a bearer over a real socket, following
// redirects as Go's client does (307/308 keep the method and Authorization).
func attackSend(t *testing.T, base, method, path, bearer string) int {
	t.Helper()
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// Path variants the suite does not list, on the app and on a group, over a
// real socket: none revokes anything, and other methods reach nothing.
func TestAttackSessionPathVariantsReal(t *testing.T) {
	for _, prefix := range []string{"/auth", "/api/v1/auth"} {
		f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.MountPrefix = prefix }})
		app := fiber.New(fiber.Config{DisableStartupMessage: true})
		if prefix == "/auth" {
			fiberauth.Mount(app, f.Service)
		} else {
			fiberauth.Mount(app.Group("/api").Group("/v1/"), f.Service)
		}
		base := listen(t, app)
		a, b := attackLogin(t, f), attackLogin(t, f)
		s := prefix + "/sessions"
		for _, p := range []string{
			s + "/", s + "//", s + ";x", s + "/;", s + "%00", s + "/%00", s + "%5C", s + "/%5C", s + "%09",
			s + "/..%2F", s + "%252F", s + "/%252F", s + "%C0%AF", s + "/%C0%AF", s + "/?", s + "/#", s + "/.%2F",
			prefix + "/./sessions", "/." + s, s + "/%2E%2E/", s + "%2F", "/" + s, prefix + "//sessions",
			prefix + "%2Fsessions", s + "/%20", s + "/+", s + "/.", s + "/..",
		} {
			if st := attackSend(t, base, "DELETE", p, a.AccessToken); st != 404 && st != 405 && st != 400 {
				t.Errorf("DELETE %s: %d, want 404", p, st)
			}
		}
		for _, m := range []string{"HEAD", "OPTIONS", "PATCH", "PUT", "POST", "GET"} {
			attackSend(t, base, m, s, a.AccessToken)
			attackSend(t, base, m, s+"/"+b.SessionID, a.AccessToken)
		}
		for _, tk := range []*core.TokenResponse{a, b} {
			if _, err := f.Service.Authenticate(context.Background(), tk.AccessToken); err != nil {
				t.Fatalf("%s: a session was revoked: %v", prefix, err)
			}
		}
	}
}
