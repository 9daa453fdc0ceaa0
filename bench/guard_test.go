package bench_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/token"
	"github.com/authguard/authguard/core/wire"
	"github.com/go-chi/jwtauth/v5"
	"github.com/golang-jwt/jwt/v5"
	jwxjwt "github.com/lestrrat-go/jwx/v2/jwt"
)

// bearerRequest is the smallest wire.Request: one Authorization header
// and nothing else, so BenchmarkGuard measures the guard without a router.
type bearerRequest struct{ auth []string }

func (r *bearerRequest) Header(name string) string {
	if name == wire.HeaderAuthorization && len(r.auth) > 0 {
		return r.auth[0]
	}
	return ""
}

func (r *bearerRequest) HeaderValues(name string) []string {
	if name == wire.HeaderAuthorization {
		return r.auth
	}
	return nil
}

func (*bearerRequest) Cookie(string) (string, bool) { return "", false }
func (*bearerRequest) CookieCount(string) int       { return 0 }
func (*bearerRequest) RemoteAddr() string           { return "192.0.2.10:41234" }
func (*bearerRequest) Body(int64) ([]byte, error)   { return nil, nil }

// golangJWTClaims are the claims of an authguard access token for
// golang-jwt's ParseWithClaims.
type golangJWTClaims struct {
	jwt.RegisteredClaims
	SessionID string   `json:"sid"`
	Roles     []string `json:"roles"`
	AuthTime  int64    `json:"auth_time"`
}

// leeway is authguard's default clock leeway, given to golang-jwt and
// jwtauth too (gin-jwt and gofiber/contrib jwt have no leeway setting).
const leeway = 5 * time.Second

// guardCase is one row of BenchmarkGuard. prepare does the per-token setup
// once (outside the measured loop) and returns the per-request work: verify
// tok and return nil only when it is accepted.
type guardCase struct {
	name    string
	prepare func(f *fixture, tok string) func() error
}

var guardCases = []guardCase{
	{"authguard", buildAuthguardGuard},
	{"golang-jwt", buildGolangJWT},
	{"jwtauth", buildJWTAuthVerify},
}

// buildAuthguardGuard is the whole per-request guard the adapters call:
// bearer parsing, strict verification, session liveness, the Principal.
func buildAuthguardGuard(f *fixture, tok string) func() error {
	ctx := context.Background()
	req := &bearerRequest{auth: []string{"Bearer " + tok}}
	g := wire.New(f.svc).Require()
	return func() error {
		p, resp := g.Check(ctx, req, nil, nil)
		if resp != nil {
			return errors.New(string(resp.Body))
		}
		if p == nil || p.Subject == "" {
			return errors.New("no principal")
		}
		return nil
	}
}

// buildGolangJWT is golang-jwt v5's ParseWithClaims with the checks
// authguard applies that it offers. The options are built once, outside the
// measured loop, as a server would.
func buildGolangJWT(f *fixture, tok string) func() error {
	var key any = f.verifyKey
	keyFunc := func(*jwt.Token) (any, error) { return key, nil }
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{f.alg}),
		jwt.WithIssuer(authtest.Issuer),
		jwt.WithAudience(authtest.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithStrictDecoding(),
		jwt.WithLeeway(leeway),
	}
	return func() error {
		var c golangJWTClaims
		_, err := jwt.ParseWithClaims(tok, &c, keyFunc, opts...)
		if err == nil && c.SessionID == "" {
			err = errors.New("no sid")
		}
		return err
	}
}

// newJWTAuth configures go-chi/jwtauth (lestrrat-go/jwx v2) for the
// fixture's key, with the issuer and audience checks.
func newJWTAuth(f *fixture) *jwtauth.JWTAuth {
	opts := []jwxjwt.ValidateOption{
		jwxjwt.WithIssuer(authtest.Issuer),
		jwxjwt.WithAudience(authtest.Audience),
		jwxjwt.WithAcceptableSkew(leeway),
	}
	if f.alg == token.AlgHS256 {
		return jwtauth.New(f.alg, f.verifyKey, nil, opts...)
	}
	return jwtauth.New(f.alg, nil, f.verifyKey, opts...)
}

// buildJWTAuthVerify is jwtauth.VerifyToken: parse, verify, validate.
func buildJWTAuthVerify(f *fixture, tok string) func() error {
	ja := newJWTAuth(f)
	return func() error {
		t, err := jwtauth.VerifyToken(ja, tok)
		if err == nil && t == nil {
			err = errors.New("no token")
		}
		return err
	}
}

// BenchmarkGuard compares authguard's whole guard without a router with
// golang-jwt's ParseWithClaims and go-chi/jwtauth's verification of the
// same token.
func BenchmarkGuard(b *testing.B) {
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			f := newFixture(b, alg)
			for range rounds(b) {
				for _, gc := range guardCases {
					b.Run(gc.name, func(b *testing.B) {
						checkGuard(b, f, gc.prepare)
						verify := gc.prepare(f, f.token)
						measure(b, func() bool { return verify() == nil })
					})
				}
			}
		})
	}
}

// checkGuard asserts that verify accepts the valid token and refuses the
// bad ones.
func checkGuard(tb testing.TB, f *fixture, prepare func(*fixture, string) func() error) {
	tb.Helper()
	if err := prepare(f, f.token)(); err != nil {
		tb.Fatalf("valid token refused: %v", err)
	}
	for what, bad := range f.badTokens() {
		if prepare(f, bad)() == nil {
			tb.Fatalf("%s accepted", what)
		}
	}
}

func TestGuardContenders(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, alg)
			for _, gc := range guardCases {
				t.Run(gc.name, func(t *testing.T) {
					checkGuard(t, f, gc.prepare)
				})
			}
		})
	}
}
