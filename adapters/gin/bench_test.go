package ginauth_test

import (
	"net/http"
	"testing"

	ginauth "github.com/authguard/authguard/adapters/gin"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/token"
	"github.com/gin-gonic/gin"
)

// discard is a minimal http.ResponseWriter, so that the benchmark measures
// the router, the guard and the core rather than a response recorder.
type discard struct {
	h      http.Header
	status int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(s int)           { d.status = s }

// BenchmarkRequire measures one guarded request through gin: route match,
// Require (token verification, session liveness, principal in both
// contexts) and a handler answering 204.
func BenchmarkRequire(b *testing.B) {
	for _, alg := range []string{token.AlgEdDSA, token.AlgHS256} {
		b.Run(alg, func(b *testing.B) {
			f := authtest.New(b, authtest.Options{Alg: alg})
			tok := login(b, f.Service, authtest.UserEmail)
			r := gin.New()
			r.GET("/api/profile", ginauth.Require(f.Service), func(c *gin.Context) {
				if _, ok := ginauth.PrincipalFrom(c); !ok {
					b.Fatal("no principal")
				}
				c.Status(http.StatusNoContent)
			})
			req, _ := http.NewRequest("GET", "/api/profile", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			w := &discard{h: http.Header{}}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				w.status = 0
				r.ServeHTTP(w, req)
				if w.status != http.StatusNoContent {
					b.Fatalf("status %d", w.status)
				}
			}
		})
	}
}
