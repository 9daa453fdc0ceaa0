package chiauth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/go-chi/chi/v5"

	chiauth "github.com/authguard/authguard/adapters/chi"
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/memstore"
	"github.com/authguard/authguard/core/password"
	"github.com/authguard/authguard/core/token"
)

func newService() *core.Service {
	key, _ := token.GenerateKey(token.AlgEdDSA)
	keys, _ := token.NewKeySet(key)
	st := memstore.New()
	users, _ := password.NewAuthenticator(st, password.Options{})
	_, _ = users.CreateUser(context.Background(), "user@example.com", "correct horse battery staple", []string{"user"})
	svc, err := core.New(core.Config{
		Issuer: "https://api.example.com", Audience: "example-api",
		Keys: keys, Store: st, Authenticator: users,
		// Policies name chi route patterns and methods.
		Authorizer: core.StaticAuthorizer{"user": {"/api/reports/{id}:GET"}},
	})
	if err != nil {
		panic(err)
	}
	return svc
}

// Mount the token endpoints and guard routes of an existing chi router.
func ExampleMount() {
	svc := newService()
	defer svc.Close()

	r := chi.NewRouter()
	chiauth.Mount(r, svc)
	r.Group(func(r chi.Router) {
		r.Use(chiauth.Require(svc))
		r.Get("/api/profile", func(w http.ResponseWriter, r *http.Request) {
			p, _ := chiauth.PrincipalFrom(r.Context())
			fmt.Fprint(w, p.Subject)
		})
	})

	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest("GET", "/api/profile", nil))
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	// Output: 401 Bearer realm="authguard"
}

// AuthorizeRoute authorises the matched route pattern and the method.
func ExampleAuthorizeRoute() {
	svc := newService()
	defer svc.Close()

	r := chi.NewRouter()
	r.Route("/api", func(r chi.Router) {
		r.Use(chiauth.AuthorizeRoute(svc)) // object "/api/reports/{id}", action "GET"
		r.Get("/reports/{id}", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "report ", chi.URLParam(r, "id"))
		})
	})
	tr, _ := svc.Login(context.Background(), core.LoginInput{Email: "user@example.com", Password: "correct horse battery staple"})

	req := httptest.NewRequest("GET", "/api/reports/42", nil)
	req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	fmt.Println(w.Code, w.Body.String())
	// Output: 200 report 42
}
