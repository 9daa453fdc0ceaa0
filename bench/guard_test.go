package bench_test

import (
	"context"
	"errors"
	"strconv"
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

// guardCase is one row of BenchmarkGuard. prepare does the setup once
// (outside the measured loop) and returns the per-request work: verify the
// token tok, whose Authorization header value is auth[0] ("Bearer " and
// tok), and return nil only when it is accepted.
type guardCase struct {
	name    string
	prepare func(f *fixture) verifyFunc
}

// verifyFunc verifies one token; see guardCase.
type verifyFunc func(tok string, auth []string) error

var guardCases = []guardCase{
	{"authguard", buildAuthguardGuard},
	{"authguard-cold", buildAuthguardCold},
	{"golang-jwt", buildGolangJWT},
	{"jwtauth", buildJWTAuthVerify},
}

// buildAuthguardCold is buildAuthguardGuard over the service whose token
// cache is off: every request verifies.
func buildAuthguardCold(f *fixture) verifyFunc {
	c := *f
	c.svc = f.cold
	return buildAuthguardGuard(&c)
}

// buildAuthguardGuard is the whole per-request guard the adapters call:
// bearer parsing, the token cache (or strict verification), session
// liveness, the Principal.
func buildAuthguardGuard(f *fixture) verifyFunc {
	ctx := context.Background()
	req := &bearerRequest{}
	g := wire.New(f.svc).Require()
	return func(_ string, auth []string) error {
		req.auth = auth
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
func buildGolangJWT(f *fixture) verifyFunc {
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
	return func(tok string, _ []string) error {
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
func buildJWTAuthVerify(f *fixture) verifyFunc {
	ja := newJWTAuth(f)
	return func(tok string, _ []string) error {
		t, err := jwtauth.VerifyToken(ja, tok)
		if err == nil && t == nil {
			err = errors.New("no token")
		}
		return err
	}
}

// BenchmarkGuard compares authguard's whole guard without a router, warm
// (a token its cache holds) and cold (cache off: every request verifies),
// with golang-jwt's ParseWithClaims and go-chi/jwtauth's verification of
// the same tokens: one token, or n distinct ones presented in turn.
func BenchmarkGuard(b *testing.B) {
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			f := newFixture(b, alg, tokenCounts(b))
			for _, n := range tokenCounts(b) {
				set := f.sets[n]
				b.Run("tokens-"+strconv.Itoa(n), func(b *testing.B) {
					f.warm(b, set)
					for range rounds(b) {
						for _, gc := range guardCases {
							b.Run(gc.name, func(b *testing.B) {
								verify := gc.prepare(f)
								checkGuard(b, f, verify)
								i := 0
								measure(b, func() bool {
									err := verify(set.toks[i], set.auth[i])
									if i++; i == n {
										i = 0
									}
									return err == nil
								})
							})
						}
					}
				})
			}
		})
	}
}

// checkGuard asserts that verify accepts the valid token and refuses the
// bad ones, then accepts the valid one again.
func checkGuard(tb testing.TB, f *fixture, verify verifyFunc) {
	tb.Helper()
	check := func(tok string) error { return verify(tok, []string{"Bearer " + tok}) }
	if err := check(f.token); err != nil {
		tb.Fatalf("valid token refused: %v", err)
	}
	for what, bad := range f.badTokens() {
		if check(bad) == nil {
			tb.Fatalf("%s accepted", what)
		}
	}
	if err := check(f.token); err != nil {
		tb.Fatalf("valid token refused after bad ones: %v", err)
	}
}

func TestGuardContenders(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, alg, []int{testSet})
			for _, gc := range guardCases {
				t.Run(gc.name, func(t *testing.T) {
					verify := gc.prepare(f)
					checkGuard(t, f, verify)
					for i, tok := range f.sets[testSet].toks {
						if err := verify(tok, f.sets[testSet].auth[i]); err != nil {
							t.Fatalf("token %d of the set: %v", i, err)
						}
					}
				})
			}
		})
	}
}
