package goclient_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	chiauth "github.com/authguard/authguard/adapters/chi"
	"github.com/authguard/authguard/core/httpauth"
	"github.com/authguard/authguard/examples/goclient"
	"github.com/authguard/authguard/examples/internal/demo"
	"github.com/go-chi/chi/v5"
)

// exampleServer is a demo server: the token endpoints and a guarded
// profile. stop closes it.
func exampleServer(ctx context.Context) (srv *httptest.Server, stop func()) {
	env := map[string]string{demo.EnvStore: "memory:"}
	app, err := demo.Start(ctx, func(k string) string { return env[k] }, nil)
	if err != nil {
		log.Fatal(err)
	}
	r := chi.NewRouter()
	chiauth.Mount(r, app.Service)
	r.With(chiauth.Require(app.Service)).Get(demo.PathProfile, func(w http.ResponseWriter, r *http.Request) {
		p, _ := chiauth.PrincipalFrom(r.Context())
		httpauth.Write(w, demo.Profile(p))
	})
	srv = httptest.NewServer(r)
	return srv, func() { srv.Close(); _ = app.Close() }
}

// ExampleClient logs in to a demo server, calls a guarded route with Do and
// logs out.
func ExampleClient() {
	ctx := context.Background()
	srv, stop := exampleServer(ctx)
	defer stop()

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

// ExampleFileStore keeps the session in a file, so that it survives a
// restart of the program, and keeps the access token fresh in the
// background with KeepFresh.
func ExampleFileStore() {
	ctx := context.Background()
	srv, stop := exampleServer(ctx)
	defer stop()
	dir, err := os.MkdirTemp("", "goclient-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	// A real program would use os.UserConfigDir().
	path := filepath.Join(dir, "myapp", "tokens.json")

	open := func() *goclient.Client {
		store, err := goclient.NewFileStore(path)
		if err != nil {
			log.Fatal(err)
		}
		c, err := goclient.New(srv.URL, goclient.WithTokenStore(store))
		if err != nil {
			log.Fatal(err)
		}
		return c
	}
	c := open()
	if err := c.Login(ctx, "user@example.com", demo.DefaultDemoPassword, "example"); err != nil {
		log.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token file:", fi.Mode())

	// The program starts again: the session is still there.
	c = open()
	kctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.KeepFresh(kctx) }()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+demo.PathProfile, nil)
	resp, err := c.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("profile after restart:", resp.StatusCode)

	if err := c.Logout(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("KeepFresh ended:", errors.Is(<-done, goclient.ErrLoggedOut))
	cancel()
	_, err = os.Stat(path)
	fmt.Println("token file removed:", errors.Is(err, os.ErrNotExist))
	// Output:
	// token file: -rw-------
	// profile after restart: 200
	// KeepFresh ended: true
	// token file removed: true
}
