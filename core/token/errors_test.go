package token

import (
	"errors"
	"fmt"
	"testing"
)

// The reason words are the log vocabulary: audit lines depend on them.
func TestReasonWords(t *testing.T) {
	want := map[Reason]string{
		ReasonOptions: "options", ReasonTooLong: "too_long", ReasonMalformed: "malformed",
		ReasonNoKeys: "no_keys", ReasonHeader: "header", ReasonAlg: "alg", ReasonKid: "kid",
		ReasonTyp: "typ", ReasonSignature: "signature", ReasonClaims: "claims",
		ReasonConfirmation: "cnf", ReasonIssuer: "issuer", ReasonAudience: "audience",
		ReasonLifetime: "lifetime", ReasonIatFuture: "iat_future",
		ReasonNotYetValid: "not_yet_valid", ReasonExpired: "expired",
	}
	if len(want) != NumReasons-1 {
		t.Fatalf("%d reasons listed, %d defined", len(want), NumReasons-1)
	}
	for r := Reason(1); int(r) < NumReasons; r++ {
		if r.String() != want[r] {
			t.Errorf("Reason(%d).String() = %q, want %q", r, r.String(), want[r])
		}
		err := fail(r)
		if !errors.Is(err, ErrInvalid) || err.Error() != "authguard: invalid token: "+want[r] {
			t.Errorf("fail(%s) = %v", r, err)
		}
		if got := ReasonOf(fmt.Errorf("wrapped: %w", err)); got != r {
			t.Errorf("ReasonOf(wrapped %s) = %s", r, got)
		}
	}
	if ReasonNone.String() != "" || Reason(NumReasons).String() != "" || ReasonOf(nil) != ReasonNone ||
		ReasonOf(errors.New("x")) != ReasonNone {
		t.Error("no reason expected")
	}
	if allocs := testing.AllocsPerRun(100, func() { _ = ReasonOf(fail(ReasonExpired)) }); allocs != 0 {
		t.Errorf("ReasonOf allocates %.1f times", allocs)
	}
}

// Key and key-set errors wrap ErrInvalidKey; signing errors wrap ErrSign.
func TestKeyErrorsWrapErrInvalidKey(t *testing.T) {
	if _, err := NewKeySet(testKey(t, AlgEdDSA), testKey(t, AlgHS256)); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("mixed key set: %v", err)
	}
	if _, err := ParseKeyPEM([]byte("no pem")); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("bad PEM: %v", err)
	}
	if _, err := NewKey("", []byte("short")); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("weak secret: %v", err)
	}
	c := testClaims()
	if _, err := new(KeySet).Sign(&c); !errors.Is(err, ErrInvalidKey) || !errors.Is(err, ErrSign) {
		t.Errorf("sign without a key: %v", err)
	}
}
