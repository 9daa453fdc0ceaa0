package goclient_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	chiauth "github.com/authguard/authguard/adapters/chi"
	"github.com/authguard/authguard/core/httpauth"
	"github.com/authguard/authguard/examples/goclient"
	"github.com/authguard/authguard/examples/internal/demo"
	"github.com/go-chi/chi/v5"
)

// ExampleClient logs in to a demo server, calls a guarded route with Do and
// logs out.
func ExampleClient() {
	ctx := context.Background()
	env := map[string]string{demo.EnvStore: "memory:"}
	app, err := demo.Start(ctx, func(k string) string { return env[k] }, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer app.Close()
	r := chi.NewRouter()
	chiauth.Mount(r, app.Service)
	r.With(chiauth.Require(app.Service)).Get(demo.PathProfile, func(w http.ResponseWriter, r *http.Request) {
		p, _ := chiauth.PrincipalFrom(r.Context())
		httpauth.Write(w, demo.Profile(p))
	})
	srv := httptest.NewServer(r)
	defer srv.Close()

	// A mobile app would pass goclient.WithTokenStore(keystoreBackedStore).
	c, err := goclient.New(srv.URL)
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Login(ctx, "user@example.com", demo.DefaultDemoPassword, "example"); err != nil {
		log.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+demo.PathProfile, nil)
	resp, err := c.Do(req)
	switch {
	case errors.Is(err, goclient.ErrLoggedOut):
		fmt.Println("show the login screen")
	case errors.Is(err, goclient.ErrTemporary):
		fmt.Println("offline: keep the session and retry later")
	case err != nil:
		log.Fatal(err)
	default:
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Println("profile:", resp.StatusCode)
	}
	if err := c.Logout(ctx); err != nil {
		log.Fatal(err)
	}
	_, err = c.Do(req)
	fmt.Println("after logout:", errors.Is(err, goclient.ErrLoggedOut))
	// Output:
	// profile: 200
	// after logout: true
}
