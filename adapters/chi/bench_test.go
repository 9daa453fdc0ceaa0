package chiauth_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"

	chiauth "github.com/authguard/authguard/adapters/chi"
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/token"
)

type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkRequire measures one guarded request through a chi router
// (routing included), with a valid access token per algorithm.
func BenchmarkRequire(b *testing.B) {
	for _, alg := range []string{token.AlgEdDSA, token.AlgHS256} {
		b.Run(alg, func(b *testing.B) {
			f := authtest.New(b, authtest.Options{Alg: alg})
			tr, err := f.Service.Login(context.Background(), core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
			if err != nil {
				b.Fatal(err)
			}
			var served int
			r := chi.NewRouter()
			r.With(chiauth.Require(f.Service)).Get("/api/profile", func(http.ResponseWriter, *http.Request) { served++ })
			req, _ := http.NewRequest("GET", "/api/profile", nil)
			req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
			w := &discard{h: http.Header{}}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				r.ServeHTTP(w, req)
			}
			b.StopTimer()
			if served == 0 {
				b.Fatal("the guard refused a valid token")
			}
		})
	}
}
