package httpauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/httpauth"
	"github.com/authguard/authguard/core/memstore"
	"github.com/authguard/authguard/core/password"
	"github.com/authguard/authguard/core/token"
)

// newService builds a small service over the memory store with one user.
func newService() *core.Service {
	key, err := token.GenerateKey(token.AlgEdDSA)
	if err != nil {
		panic(err)
	}
	keys, err := token.NewKeySet(key)
	if err != nil {
		panic(err)
	}
	st := memstore.New()
	users, err := password.NewAuthenticator(st, password.Options{})
	if err != nil {
		panic(err)
	}
	if _, err := users.CreateUser(context.Background(), "user@example.com", "correct horse battery staple", []string{"user"}); err != nil {
		panic(err)
	}
	svc, err := core.New(core.Config{
		Issuer:        "https://api.example.com",
		Audience:      "example-api",
		Keys:          keys,
		Store:         st,
		Authenticator: users,
	})
	if err != nil {
		panic(err)
	}
	return svc
}

// Mount the token endpoints on a ServeMux, guard a route, log in and call it.
func ExampleMount() {
	svc := newService()
	defer svc.Close()

	mux := http.NewServeMux()
	httpauth.Mount(mux, svc) // POST /auth/login, /auth/refresh, /auth/logout, GET /auth/me, ...
	mux.Handle("GET /api/profile", httpauth.Require(svc)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := httpauth.PrincipalFrom(r.Context())
		fmt.Fprintf(w, "hello, %s", strings.Join(p.Roles, ","))
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/auth/login", "application/json",
		strings.NewReader(`{"email":"user@example.com","password":"correct horse battery staple"}`))
	if err != nil {
		panic(err)
	}
	var tok struct {
		AccessToken string `json:"accessToken"`
		TokenType   string `json:"tokenType"`
		ExpiresIn   int    `json:"expiresIn"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, tok.TokenType, tok.ExpiresIn)

	req, _ := http.NewRequest("GET", srv.URL+"/api/profile", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body))
	// Output:
	// 200 Bearer 600
	// 200 hello, user
}

// Require refuses a request without an access token with the contract's
// 401 answer; the core decides every byte of it.
func ExampleRequire() {
	svc := newService()
	defer svc.Close()

	h := httpauth.Require(svc)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "secret")
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/api/profile", nil))
	fmt.Println(w.Code)
	fmt.Println(w.Header().Get("WWW-Authenticate"))
	fmt.Println(w.Body.String())
	// Output:
	// 401
	// Bearer realm="authguard"
	// {"error":"invalid_token","error_description":"authentication required"}
}
