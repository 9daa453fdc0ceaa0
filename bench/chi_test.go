package bench_test

import (
	"net/http"
	"testing"

	chiauth "github.com/authguard/authguard/adapters/chi"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/jwtauth/v5"
)

func chiOK(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(okBody) }

// chiAuthguard is the authguard row: the default service, whose token
// cache answers a token it has seen.
var chiAuthguard = routerCase{name: "authguard", build: func(_ testing.TB, f *fixture) target {
	r := chi.NewRouter()
	r.With(chiauth.Require(f.svc)).Get(route, chiOK)
	return newHTTPTarget(r)
}}

var chiCases = []routerCase{
	{name: "none", open: true, build: func(_ testing.TB, _ *fixture) target {
		r := chi.NewRouter()
		r.Get(route, chiOK)
		return newHTTPTarget(r)
	}},
	chiAuthguard,
	coldCase(chiAuthguard),
	{name: "jwtauth", build: func(_ testing.TB, f *fixture) target {
		ja := newJWTAuth(f)
		r := chi.NewRouter()
		r.With(jwtauth.Verifier(ja), jwtauth.Authenticator(ja)).Get(route, chiOK)
		return newHTTPTarget(r)
	}},
}

// BenchmarkChi measures one request through chi: no auth, chiauth.Require
// and go-chi/jwtauth's Verifier plus Authenticator.
func BenchmarkChi(b *testing.B) { runRouter(b, chiCases) }

func TestChiContenders(t *testing.T) { testRouter(t, chiCases) }
