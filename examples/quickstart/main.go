// Command quickstart is the quick start of the repository's README: a chi
// server with authguard's endpoints, two guarded routes and a clean
// shutdown. The README shows this file as it is (a test compares them).
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"

	chiauth "github.com/authguard/authguard/adapters/chi"
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/password"
	"github.com/authguard/authguard/core/token"
	sqlitestore "github.com/authguard/authguard/stores/sqlite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, "127.0.0.1:8080", "auth.db"); err != nil {
		log.Fatal(err)
	}
}

// run serves until ctx is done, then shuts the server down and closes the
// service and the store, in that order.
func run(ctx context.Context, addr, dbPath string) error {
	st, err := sqlitestore.Open(ctx, dbPath) // users, sessions, counters
	if err != nil {
		return err
	}
	defer st.Close()

	key, err := token.GenerateKey(token.AlgEdDSA) // production: token.ParseKeyPEM (see "Production keys")
	if err != nil {
		return err
	}
	keys, err := token.NewKeySet(key)
	if err != nil {
		return err
	}
	users, err := password.NewAuthenticator(st, password.Options{}) // users.CreateUser(ctx, email, password, roles)
	if err != nil {
		return err
	}
	svc, err := core.New(core.Config{
		Issuer: "https://api.example.com", Audience: "my-app",
		Keys: keys, Store: st, Authenticator: users,
		Authorizer: core.StaticAuthorizer{"admin": {"reports:*"}, "user": {"reports:read"}},
	})
	if err != nil {
		return err
	}
	defer svc.Close()

	r := chi.NewRouter()
	chiauth.Mount(r, svc) // /auth/login, /auth/refresh, ... and /.well-known/jwks.json
	r.With(chiauth.Require(svc)).Get("/api/profile", func(w http.ResponseWriter, r *http.Request) {
		p, _ := chiauth.PrincipalFrom(r.Context()) // subject, roles, session id
		fmt.Fprintln(w, p.Subject, p.Roles)
	})
	r.With(chiauth.RequirePermission(svc, "reports", "read")).Get("/api/reports", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "reports")
	})

	srv := &http.Server{Addr: addr, Handler: r, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe() }()
	select {
	case err := <-served: // the address is taken, for example
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
