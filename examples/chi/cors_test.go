package main

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/authguard/authguard/examples/internal/demo"
	"github.com/go-chi/cors"
)

// TestCORSBypassAnswersAsTheMiddleware: corsMiddleware skips go-chi/cors for
// requests without an Origin. Every request, with or without an Origin
// (absent, empty, "null", allowed, disallowed, twice, under a key a
// middleware set in lower case), preflight or not, gets exactly the answer
// go-chi/cors alone gives it.
func TestCORSBypassAnswersAsTheMiddleware(t *testing.T) {
	cfg := demo.Config{AllowedOrigins: []string{"https://app.example"}}
	plain := cors.Handler(corsOptions(cfg))
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept")
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte(r.Method))
	})
	want, got := plain(next), corsMiddleware(cfg)(next)

	origins := [][]string{nil, {""}, {"null"}, {"https://app.example"}, {"https://APP.example"}, {"https://evil.example"}, {"https://evil.example", "https://app.example"}}
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodOptions} {
		for _, acrm := range []string{"", "PUT", "PATCH"} {
			for _, o := range origins {
				for _, key := range []string{"Origin", "origin"} {
					r := httptest.NewRequest(method, demo.PathHealth, nil)
					if o != nil {
						r.Header[key] = o
					}
					if acrm != "" {
						r.Header.Set("Access-Control-Request-Method", acrm)
						r.Header.Set("Access-Control-Request-Headers", "authorization, x-auth-transport")
					}
					w1, w2 := httptest.NewRecorder(), httptest.NewRecorder()
					want.ServeHTTP(w1, r.Clone(r.Context()))
					got.ServeHTTP(w2, r.Clone(r.Context()))
					if w1.Code != w2.Code || w1.Body.String() != w2.Body.String() || !reflect.DeepEqual(w1.Header(), w2.Header()) {
						t.Errorf("%s %s=%q ACRM=%q: got %d %v %q, go-chi/cors gives %d %v %q",
							method, key, o, acrm, w2.Code, w2.Header(), w2.Body, w1.Code, w1.Header(), w1.Body)
					}
				}
			}
		}
	}
}
