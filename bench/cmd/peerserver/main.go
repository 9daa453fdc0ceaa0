// Command peerserver is the contender of the HTTP-level benchmark
// (scripts/bench-http.sh): one router with that router's established JWT
// middleware, verifying the access tokens an example server issued, with
// the same key.
//
//	peerserver -router chi|gin|fiber -addr 127.0.0.1:9001 -key key.pem \
//	    -issuer http://127.0.0.1:8001 -audience authguard-demo
//
// It serves two routes, as the example servers do:
//
//   - GET /healthz: 200 {"status":"ok"}, the bare router (no other
//     middleware: no recovery, CORS or logging);
//   - GET /api/profile: guarded by go-chi/jwtauth (chi), appleboy/gin-jwt
//     (gin) or gofiber/contrib jwt (fiber); 200 {"sub","roles"} from the
//     token's claims, 401 otherwise.
//
// The key file is the example's AUTHGUARD_SIGNING_KEY: a PKCS#8 Ed25519 key
// (the peer verifies with its public half) or an "HMAC KEY" block (HS256).
// The net/http servers get the example servers' timeouts and header limit,
// and the fiber server the example's fiber timeouts, so the comparison of
// the two /healthz routes measures the routers and their middleware, not
// server settings.
package main

import (
	"crypto/ed25519"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	ginjwt "github.com/appleboy/gin-jwt/v2"
	"github.com/authguard/authguard/core/token"
	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/jwtauth/v5"
	jwtware "github.com/gofiber/contrib/jwt"
	"github.com/gofiber/fiber/v2"
	jwtv4 "github.com/golang-jwt/jwt/v4"
	jwtv5 "github.com/golang-jwt/jwt/v5"
	jwxjwt "github.com/lestrrat-go/jwx/v2/jwt"
)

// The example servers' settings (examples/internal/demo/serve.go).
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 15 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 16 << 10
	leeway            = 5 * time.Second
)

// Routes of the example servers.
const (
	pathHealth  = "/healthz"
	pathProfile = "/api/profile"
)

func main() {
	router := flag.String("router", "", "chi, gin or fiber")
	addr := flag.String("addr", "127.0.0.1:9000", "listen address")
	keyFile := flag.String("key", "", "PEM key file (the example's AUTHGUARD_SIGNING_KEY)")
	issuer := flag.String("issuer", "", "expected iss (checked by jwtauth only: gin-jwt and contrib jwt have no issuer check)")
	audience := flag.String("audience", "authguard-demo", "expected aud (checked by jwtauth only)")
	flag.Parse()
	alg, key, err := loadKey(*keyFile)
	if err != nil {
		log.Fatalf("peerserver: %v", err)
	}
	switch *router {
	case "chi":
		err = serveHTTP(*addr, chiRouter(alg, key, *issuer, *audience))
	case "gin":
		var h http.Handler
		if h, err = ginRouter(alg, key); err == nil {
			err = serveHTTP(*addr, h)
		}
	case "fiber":
		err = fiberApp(alg, key).Listen(*addr)
	default:
		err = fmt.Errorf("-router %q: want chi, gin or fiber", *router)
	}
	log.Fatalf("peerserver: %v", err)
}

// loadKey reads the example's key file and returns its algorithm and what
// the peers verify with: the ed25519.PublicKey or the HMAC secret.
func loadKey(path string) (string, any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, err
	}
	k, err := token.ParseKeyPEM(data)
	if err != nil {
		return "", nil, err
	}
	switch k.Algorithm() {
	case token.AlgEdDSA:
		pub, ok := k.PublicKey().(ed25519.PublicKey)
		if !ok {
			return "", nil, fmt.Errorf("EdDSA key has public key %T", k.PublicKey())
		}
		return k.Algorithm(), pub, nil
	case token.AlgHS256:
		block, _ := pem.Decode(data)
		return k.Algorithm(), block.Bytes, nil
	}
	return "", nil, fmt.Errorf("%s: algorithm %s is not benchmarked (want EdDSA or HS256)", path, k.Algorithm())
}

func serveHTTP(addr string, h http.Handler) error {
	srv := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
	return srv.ListenAndServe()
}

type profile struct {
	Sub   string `json:"sub"`
	Roles []any  `json:"roles"`
}

var health = map[string]string{"status": "ok"}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func rolesOf(v any) []any {
	switch r := v.(type) {
	case []any:
		return r
	case []string:
		out := make([]any, len(r))
		for i, s := range r {
			out[i] = s
		}
		return out
	}
	return []any{}
}

// chiRouter is chi with go-chi/jwtauth's Verifier and Authenticator on the
// guarded route, validating iss, aud and exp/iat/nbf with the examples'
// leeway (as the in-process benchmarks configure it).
func chiRouter(alg string, key any, issuer, audience string) http.Handler {
	opts := []jwxjwt.ValidateOption{jwxjwt.WithAudience(audience), jwxjwt.WithAcceptableSkew(leeway)}
	if issuer != "" {
		opts = append(opts, jwxjwt.WithIssuer(issuer))
	}
	var ja *jwtauth.JWTAuth
	if alg == token.AlgHS256 {
		ja = jwtauth.New(alg, key, nil, opts...)
	} else {
		ja = jwtauth.New(alg, nil, key, opts...)
	}
	r := chi.NewRouter()
	r.Get(pathHealth, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, health) })
	r.With(jwtauth.Verifier(ja), jwtauth.Authenticator(ja)).Get(pathProfile, func(w http.ResponseWriter, r *http.Request) {
		t, _, _ := jwtauth.FromContext(r.Context())
		roles, _ := t.Get("roles")
		writeJSON(w, profile{Sub: t.Subject(), Roles: rolesOf(roles)})
	})
	return r
}

// ginRouter is gin (release mode) with appleboy/gin-jwt's MiddlewareFunc on
// the guarded route: HS256 with its built-in Key; EdDSA through its KeyFunc
// hook (its built-in asymmetric support is RSA only), restricted to EdDSA.
func ginRouter(alg string, key any) (http.Handler, error) {
	gin.SetMode(gin.ReleaseMode)
	m := &ginjwt.GinJWTMiddleware{Realm: "peer", SigningAlgorithm: alg}
	if alg == token.AlgHS256 {
		m.Key = key.([]byte)
	} else {
		m.KeyFunc = func(*jwtv4.Token) (any, error) { return key, nil }
		m.ParseOptions = []jwtv4.ParserOption{jwtv4.WithValidMethods([]string{alg})}
	}
	mw, err := ginjwt.New(m)
	if err != nil {
		return nil, fmt.Errorf("gin-jwt: %w", err)
	}
	r := gin.New()
	r.GET(pathHealth, func(c *gin.Context) { c.JSON(http.StatusOK, health) })
	r.GET(pathProfile, mw.MiddlewareFunc(), func(c *gin.Context) {
		claims := ginjwt.ExtractClaims(c)
		sub, _ := claims["sub"].(string)
		c.JSON(http.StatusOK, profile{Sub: sub, Roles: rolesOf(claims["roles"])})
	})
	return r, nil
}

// fiberApp is fiber v2 with gofiber/contrib jwt on the guarded route.
func fiberApp(alg string, key any) *fiber.App {
	app := fiber.New(fiber.Config{
		DisableStartupMessage: true,
		ReadTimeout:           readTimeout,
		WriteTimeout:          writeTimeout,
		IdleTimeout:           idleTimeout,
		ReadBufferSize:        maxHeaderBytes,
	})
	app.Get(pathHealth, func(c *fiber.Ctx) error { return c.JSON(health) })
	app.Get(pathProfile, jwtware.New(jwtware.Config{
		SigningKey: jwtware.SigningKey{JWTAlg: alg, Key: key},
	}), func(c *fiber.Ctx) error {
		t, ok := c.Locals("user").(*jwtv5.Token)
		if !ok {
			return errors.New("no token in Locals")
		}
		claims, _ := t.Claims.(jwtv5.MapClaims)
		sub, _ := claims["sub"].(string)
		return c.JSON(profile{Sub: sub, Roles: rolesOf(claims["roles"])})
	})
	return app
}
