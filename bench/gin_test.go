package bench_test

import (
	"net/http"
	"testing"

	ginjwt "github.com/appleboy/gin-jwt/v2"
	ginauth "github.com/authguard/authguard/adapters/gin"
	"github.com/authguard/authguard/core/token"
	"github.com/gin-gonic/gin"
	jwtv4 "github.com/golang-jwt/jwt/v4"
)

func init() { gin.SetMode(gin.ReleaseMode) }

func ginOK(c *gin.Context) { c.Data(http.StatusOK, "text/plain; charset=utf-8", okBody) }

// newGinJWT configures appleboy/gin-jwt v2 (golang-jwt v4) for the
// fixture's key. HS256 uses its built-in Key and SigningAlgorithm; its
// built-in asymmetric support is RSA only (PrivKeyFile/PubKeyBytes), so
// EdDSA goes through its documented KeyFunc hook, restricted to EdDSA with
// the parser's WithValidMethods.
func newGinJWT(tb testing.TB, f *fixture) *ginjwt.GinJWTMiddleware {
	tb.Helper()
	m := &ginjwt.GinJWTMiddleware{Realm: "bench", SigningAlgorithm: f.alg}
	switch f.alg {
	case token.AlgHS256:
		m.Key = f.verifyKey.([]byte)
	default:
		var key any = f.verifyKey
		m.KeyFunc = func(*jwtv4.Token) (any, error) { return key, nil }
		m.ParseOptions = []jwtv4.ParserOption{jwtv4.WithValidMethods([]string{f.alg})}
	}
	mw, err := ginjwt.New(m)
	if err != nil {
		tb.Fatalf("gin-jwt: %v", err)
	}
	return mw
}

// ginAuthguard is the authguard row: the default service, whose token
// cache answers a token it has seen.
var ginAuthguard = routerCase{name: "authguard", build: func(_ testing.TB, f *fixture) target {
	r := gin.New()
	r.GET(route, ginauth.Require(f.svc), ginOK)
	return newHTTPTarget(r)
}}

var ginCases = []routerCase{
	{name: "none", open: true, build: func(_ testing.TB, _ *fixture) target {
		r := gin.New()
		r.GET(route, ginOK)
		return newHTTPTarget(r)
	}},
	ginAuthguard,
	coldCase(ginAuthguard),
	{name: "gin-jwt", build: func(tb testing.TB, f *fixture) target {
		r := gin.New()
		r.GET(route, newGinJWT(tb, f).MiddlewareFunc(), ginOK)
		return newHTTPTarget(r)
	}},
}

// BenchmarkGin measures one request through gin: no auth, ginauth.Require
// and appleboy/gin-jwt's MiddlewareFunc.
func BenchmarkGin(b *testing.B) { runRouter(b, ginCases) }

func TestGinContenders(t *testing.T) { testRouter(t, ginCases) }
