package httpauth_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/httpauth"
	"github.com/authguard/authguard/core/token"
)

// discard is a ResponseWriter that allocates nothing.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkRequire measures the guard hot path: one valid access token per
// algorithm through Require into an empty handler.
func BenchmarkRequire(b *testing.B) {
	for _, alg := range []string{token.AlgEdDSA, token.AlgHS256} {
		b.Run(alg, func(b *testing.B) {
			f := authtest.New(b, authtest.Options{Alg: alg})
			tr, err := f.Service.Login(context.Background(), core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
			if err != nil {
				b.Fatal(err)
			}
			var served int
			h := httpauth.Require(f.Service)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served++ }))
			r, _ := http.NewRequest("GET", "/api/profile", nil)
			r.Header.Set("Authorization", "Bearer "+tr.AccessToken)
			w := &discard{h: http.Header{}}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
			b.StopTimer()
			if served == 0 {
				b.Fatal("the guard refused a valid token")
			}
		})
	}
}
