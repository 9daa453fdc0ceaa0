package token

import (
	"encoding/base64"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Fixtures shared by the key and token tests.

var testNow = time.Unix(1_750_000_000, 0)

const (
	testIssuer   = "https://issuer.example"
	testAudience = "api"
)

func testOptions() VerifyOptions {
	return VerifyOptions{
		Issuer:   testIssuer,
		Audience: testAudience,
		Now:      testNow,
		Leeway:   5 * time.Second,
		MaxTTL:   time.Hour,
	}
}

func testClaims() AccessClaims {
	return AccessClaims{
		Issuer:    testIssuer,
		Subject:   "user-1",
		Audience:  []string{testAudience},
		ExpiresAt: testNow.Unix() + 600,
		IssuedAt:  testNow.Unix(),
		AuthTime:  testNow.Unix() - 60,
		ID:        "Zx1rL0bFh2Ck7YQ3m9uT4A",
		SessionID: "sess-1",
		Roles:     []string{"admin"},
	}
}

var (
	testKeysOnce sync.Once
	testKeys     map[string]*Key
	testKeysErr  error
)

// testKey returns a process-wide key for alg (RSA generation is slow).
func testKey(t testing.TB, alg string) *Key {
	t.Helper()
	testKeysOnce.Do(func() {
		testKeys = map[string]*Key{}
		for _, a := range []string{AlgEdDSA, AlgES256, AlgRS256, AlgHS256} {
			k, err := GenerateKey(a)
			if err != nil {
				testKeysErr = err
				return
			}
			testKeys[a] = k
		}
	})
	if testKeysErr != nil {
		t.Fatal(testKeysErr)
	}
	return testKeys[alg]
}

func testKeySet(t testing.TB, alg string) *KeySet {
	t.Helper()
	ks, err := NewKeySet(testKey(t, alg))
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

var allAlgs = []string{AlgEdDSA, AlgES256, AlgRS256, AlgHS256}

func enc(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// signRaw signs the exact segments given (already encoded) with the real key.
func signRaw(t testing.TB, k *Key, alg, h64, p64 string) string {
	t.Helper()
	input := h64 + "." + p64
	var sig []byte
	var err error
	switch alg {
	case AlgEdDSA:
		sig, err = jwt.SigningMethodEdDSA.Sign(input, k.signKey)
	case AlgES256:
		sig, err = jwt.SigningMethodES256.Sign(input, k.signKey)
	case AlgRS256:
		sig, err = jwt.SigningMethodRS256.Sign(input, k.signKey)
	case AlgHS256:
		sig, err = jwt.SigningMethodHS256.Sign(input, k.signKey)
	default:
		t.Fatalf("no signer for %q", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// mint signs an arbitrary header and payload (JSON text) with k, using k's
// own algorithm for the signature whatever the header says.
func mint(t testing.TB, k *Key, header, payload string) string {
	t.Helper()
	return signRaw(t, k, k.alg, enc(header), enc(payload))
}

// stdHeader is the header Sign writes for k.
func stdHeader(k *Key) string {
	return `{"alg":"` + k.alg + `","kid":"` + k.kid + `","typ":"at+jwt"}`
}

// stdPayload is the claim set of testClaims as Sign writes it, with the
// members in replace (name, value pairs) swapped in: a value replaces the
// member of that name, or is appended; the value "-" removes the member.
func stdPayload(replace ...string) string {
	members := [][2]string{
		{"iss", `"` + testIssuer + `"`},
		{"sub", `"user-1"`},
		{"aud", `"` + testAudience + `"`},
		{"exp", itoa(testNow.Unix() + 600)},
		{"iat", itoa(testNow.Unix())},
		{"jti", `"Zx1rL0bFh2Ck7YQ3m9uT4A"`},
		{"sid", `"sess-1"`},
		{"roles", `["admin"]`},
		{"auth_time", itoa(testNow.Unix() - 60)},
	}
	for i := 0; i+1 < len(replace); i += 2 {
		name, val := replace[i], replace[i+1]
		found := false
		for j := range members {
			if members[j][0] == name {
				members[j][1] = val
				found = true
			}
		}
		if !found {
			members = append(members, [2]string{name, val})
		}
	}
	var b strings.Builder
	b.WriteByte('{')
	first := true
	for _, m := range members {
		if m[1] == "-" {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(`"` + m[0] + `":` + m[1])
	}
	b.WriteByte('}')
	return b.String()
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// reasonWord is the log word of the Reason carried by err.
func reasonWord(err error) string { return ReasonOf(err).String() }
