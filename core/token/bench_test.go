package token

import (
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// golangJWTClaims has the fields of AccessClaims, for the comparison with
// golang-jwt's parser.
type golangJWTClaims struct {
	jwt.RegisteredClaims
	SessionID string   `json:"sid"`
	Roles     []string `json:"roles"`
	AuthTime  int64    `json:"auth_time"`
	ClientID  string   `json:"client_id,omitempty"`
}

var benchAlgs = []string{AlgEdDSA, AlgHS256}

func benchToken(b *testing.B, alg string) (*KeySet, string) {
	b.Helper()
	ks := testKeySet(b, alg)
	c := testClaims()
	tok, err := ks.Sign(&c)
	if err != nil {
		b.Fatal(err)
	}
	return ks, tok
}

// BenchmarkVerify measures the per-request hot path.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			ks, tok := benchToken(b, alg)
			o := testOptions()
			b.ReportAllocs()
			for b.Loop() {
				var c AccessClaims
				if err := ks.Verify(tok, &o, &c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGolangJWTParse is the reference: golang-jwt v5 parsing the same
// token with the equivalent checks.
func BenchmarkGolangJWTParse(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			ks, tok := benchToken(b, alg)
			k := ks.SigningKey()
			verifyKey := k.verifyKey
			if k.mac {
				verifyKey = k.secret
			}
			keyFunc := func(*jwt.Token) (any, error) { return verifyKey, nil }
			opts := []jwt.ParserOption{
				jwt.WithValidMethods([]string{alg}),
				jwt.WithIssuer(testIssuer),
				jwt.WithAudience(testAudience),
				jwt.WithExpirationRequired(),
				jwt.WithIssuedAt(),
				jwt.WithStrictDecoding(),
				jwt.WithLeeway(5 * time.Second),
				jwt.WithTimeFunc(func() time.Time { return testNow }),
			}
			b.ReportAllocs()
			for b.Loop() {
				var c golangJWTClaims
				if _, err := jwt.ParseWithClaims(tok, &c, keyFunc, opts...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyReject measures cheap rejections (no allocation).
func BenchmarkVerifyReject(b *testing.B) {
	ks, tok := benchToken(b, AlgHS256)
	o := testOptions()
	cases := map[string]string{
		"too_long":  string(make([]byte, 9000)),
		"malformed": tok + ".x",
		"signature": tok[:len(tok)-2] + "AA",
	}
	for name, bad := range cases {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ks.Verify(bad, &o, nil) == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}

// BenchmarkSign measures token issuance.
func BenchmarkSign(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			ks := testKeySet(b, alg)
			c := testClaims()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ks.Sign(&c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyPaired alternates Verify and golang-jwt on the same token
// in one loop and reports the median time of each, so that load on a shared
// machine affects both sides alike.
func BenchmarkVerifyPaired(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			ks, tok := benchToken(b, alg)
			k := ks.SigningKey()
			verifyKey := k.verifyKey
			if k.mac {
				verifyKey = k.secret
			}
			keyFunc := func(*jwt.Token) (any, error) { return verifyKey, nil }
			opts := []jwt.ParserOption{
				jwt.WithValidMethods([]string{alg}), jwt.WithIssuer(testIssuer), jwt.WithAudience(testAudience),
				jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithStrictDecoding(),
				jwt.WithLeeway(5 * time.Second), jwt.WithTimeFunc(func() time.Time { return testNow }),
			}
			o := testOptions()
			ours := func() {
				var c AccessClaims
				if err := ks.Verify(tok, &o, &c); err != nil {
					b.Fatal(err)
				}
			}
			theirs := func() {
				var c golangJWTClaims
				if _, err := jwt.ParseWithClaims(tok, &c, keyFunc, opts...); err != nil {
					b.Fatal(err)
				}
			}
			var sOurs, sTheirs []time.Duration
			n := 0
			for b.Loop() {
				first, second, s1, s2 := ours, theirs, &sOurs, &sTheirs
				if n%2 == 1 {
					first, second, s1, s2 = theirs, ours, &sTheirs, &sOurs
				}
				t0 := time.Now()
				first()
				t1 := time.Now()
				second()
				t2 := time.Now()
				*s1 = append(*s1, t1.Sub(t0))
				*s2 = append(*s2, t2.Sub(t1))
				n++
			}
			median := func(d []time.Duration) float64 {
				slices.Sort(d)
				return float64(d[len(d)/2].Nanoseconds())
			}
			b.ReportMetric(median(sOurs), "verify-median-ns")
			b.ReportMetric(median(sTheirs), "golangjwt-median-ns")
		})
	}
}
