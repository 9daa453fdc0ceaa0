package token

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"testing"
)

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func randBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func wantConfigErr(t *testing.T, err error, contains string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an ErrInvalidKey error containing %q, got nil", contains)
	}
	if !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("error %v does not wrap ErrInvalidKey", err)
	}
	if contains != "" && !strings.Contains(err.Error(), contains) {
		t.Fatalf("error %q does not mention %q", err, contains)
	}
}

// RFC 7638 §3.1 and RFC 8037 appendix A.3 give the thumbprints of example keys.
func TestKeyThumbprintVectors(t *testing.T) {
	t.Run("RFC7638/rsa", func(t *testing.T) {
		n := "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(mustB64(t, n)), E: 65537}
		k, err := NewVerifyKey("", pub)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := k.ID(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
			t.Fatalf("kid = %s, want %s", got, want)
		}
		if k.Algorithm() != AlgRS256 || k.CanSign() || k.Symmetric() {
			t.Fatalf("unexpected key properties: %v", k)
		}
	})
	t.Run("RFC8037/ed25519", func(t *testing.T) {
		x := mustB64(t, "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
		k, err := NewVerifyKey("", ed25519.PublicKey(x))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := k.ID(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
			t.Fatalf("kid = %s, want %s", got, want)
		}
		// The private key of the RFC example gives the same kid.
		d := mustB64(t, "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
		pk, err := NewKey("", ed25519.NewKeyFromSeed(d))
		if err != nil {
			t.Fatal(err)
		}
		if pk.ID() != k.ID() || !pk.CanSign() {
			t.Fatalf("private key kid %s, want %s", pk.ID(), k.ID())
		}
	})
	t.Run("hmac/domain_separated_digest", func(t *testing.T) {
		secret := randBytes(t, 32)
		k, err := NewKey("", secret)
		if err != nil {
			t.Fatal(err)
		}
		inner := sha256.Sum256(secret)
		outer := sha256.Sum256(append([]byte(hmacKidDomain), inner[:]...))
		if k.ID() != base64.RawURLEncoding.EncodeToString(outer[:]) {
			t.Fatalf("kid %s is not the domain-separated digest", k.ID())
		}
		plain := sha256.Sum256(secret)
		if k.ID() == base64.RawURLEncoding.EncodeToString(plain[:]) || strings.Contains(k.ID(), base64.RawURLEncoding.EncodeToString(secret)[:8]) {
			t.Fatal("kid reveals the secret or its plain digest")
		}
	})
}

func TestNewKeyAlgorithms(t *testing.T) {
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	ecPriv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaPriv := testKey(t, AlgRS256).signKey.(*rsa.PrivateKey)
	cases := []struct {
		name string
		key  any
		alg  string
	}{
		{"ed25519", edPriv, AlgEdDSA},
		{"ed25519_pointer", &edPriv, AlgEdDSA},
		{"p256", ecPriv, AlgES256},
		{"rsa2048", rsaPriv, AlgRS256},
		{"hmac", randBytes(t, 32), AlgHS256},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := NewKey("", c.key)
			if err != nil {
				t.Fatal(err)
			}
			if k.Algorithm() != c.alg || !k.CanSign() || !ValidKeyID(k.ID()) || len(k.ID()) != 43 {
				t.Fatalf("got %v", k)
			}
			again, err := NewKey("", c.key)
			if err != nil || again.ID() != k.ID() {
				t.Fatalf("kid is not deterministic: %v %v", again, err)
			}
			named, err := NewKey("key-2025.01_a", c.key)
			if err != nil || named.ID() != "key-2025.01_a" {
				t.Fatalf("explicit kid: %v %v", named, err)
			}
			if c.alg == AlgHS256 {
				if k.PublicKey() != nil || !k.Symmetric() {
					t.Fatal("an HMAC key has no public key")
				}
				return
			}
			pub, err := NewVerifyKey("", k.PublicKey())
			if err != nil {
				t.Fatal(err)
			}
			if pub.ID() != k.ID() || pub.CanSign() || pub.Algorithm() != c.alg {
				t.Fatalf("verify key %v does not match %v", pub, k)
			}
		})
	}
}

func TestKeyMaterialIsCopied(t *testing.T) {
	secret := randBytes(t, 32)
	k, err := NewKey("", secret)
	if err != nil {
		t.Fatal(err)
	}
	ks, _ := NewKeySet(k)
	c := testClaims()
	tok, err := ks.Sign(&c)
	if err != nil {
		t.Fatal(err)
	}
	secret[0] ^= 0xff // the caller reuses its buffer
	o := testOptions()
	if err := ks.Verify(tok, &o, nil); err != nil {
		t.Fatalf("the key shares the caller's buffer: %v", err)
	}
}

func TestKeyIDRules(t *testing.T) {
	good := []string{"a", "key-1", "2025.01_A-b", strings.Repeat("k", MaxKeyIDLength)}
	bad := []string{"a b", "../etc/passwd", "kid/1", "kid\x00", "ключ", "kid\"", strings.Repeat("k", MaxKeyIDLength+1), "a+b", "a=b", "a:b"}
	secret := randBytes(t, 32)
	for _, kid := range good {
		if _, err := NewKey(kid, secret); err != nil {
			t.Errorf("kid %q refused: %v", kid, err)
		}
	}
	for _, kid := range bad {
		_, err := NewKey(kid, secret)
		wantConfigErr(t, err, "kid")
		if ValidKeyID(kid) {
			t.Errorf("ValidKeyID(%q) = true", kid)
		}
	}
}

// R11: weak keys are refused at start with a clear message.
func TestWeakKeysRefused(t *testing.T) {
	random16 := randBytes(t, 16)
	fourValues := make([]byte, 40)
	for i := range fourValues {
		fourValues[i] = "abcd"[randBytes(t, 1)[0]%4]
	}
	t.Run("R11/weak_hmac", func(t *testing.T) {
		cases := map[string]struct {
			secret []byte
			why    string
		}{
			"short":              {randBytes(t, 31), "shorter than 32"},
			"empty":              {nil, "shorter than 32"},
			"all_equal":          {bytes.Repeat([]byte{0x41}, 64), "all bytes are equal"},
			"all_zero":           {make([]byte, 32), "all bytes are equal"},
			"password":           {[]byte("correct horse battery staple 123"), "looks like a password"},
			"printable_48":       {[]byte("Tr0ub4dor&3-Tr0ub4dor&3-Tr0ub4dor&3-xyzXYZ012345"), "looks like a password"},
			"base64_text_of_32B": {[]byte(base64.StdEncoding.EncodeToString(randBytes(t, 32))), "looks like a password"},
			"few_distinct":       {fourValues, "distinct"},
			"repeated_half":      {append(slices.Clone(random16), random16...), "repeats"},
			"too_long":           {randBytes(t, MaxHMACSecretBytes+1), "longer than"},
		}
		for name, c := range cases {
			t.Run(name, func(t *testing.T) {
				_, err := NewKey("", c.secret)
				wantConfigErr(t, err, c.why)
			})
		}
	})
	t.Run("R11/strong_hmac_accepted", func(t *testing.T) {
		for name, secret := range map[string][]byte{
			"random_32":  randBytes(t, 32),
			"random_64":  randBytes(t, 64),
			"hex_64":     []byte(hex.EncodeToString(randBytes(t, 32))),
			"base64_88":  []byte(base64.StdEncoding.EncodeToString(randBytes(t, 64))),
			"random_max": randBytes(t, MaxHMACSecretBytes),
		} {
			if _, err := NewKey("", secret); err != nil {
				t.Errorf("%s refused: %v", name, err)
			}
		}
	})
	t.Run("R11/rsa_1024", func(t *testing.T) {
		priv, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			t.Fatal(err)
		}
		_, err = NewKey("", priv)
		wantConfigErr(t, err, "1024 bits")
		_, err = NewVerifyKey("", &priv.PublicKey)
		wantConfigErr(t, err, "1024 bits")
		der, _ := x509.MarshalPKCS8PrivateKey(priv)
		_, err = ParseKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		wantConfigErr(t, err, "1024 bits")
	})
	t.Run("R11/p384_or_other_curves", func(t *testing.T) {
		for _, curve := range []elliptic.Curve{elliptic.P224(), elliptic.P384(), elliptic.P521()} {
			priv, err := ecdsa.GenerateKey(curve, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			name := curve.Params().Name
			_, err = NewKey("", priv)
			wantConfigErr(t, err, name)
			_, err = NewVerifyKey("", &priv.PublicKey)
			wantConfigErr(t, err, name)
			if der, err := x509.MarshalPKCS8PrivateKey(priv); err == nil {
				_, err = ParseKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
				wantConfigErr(t, err, name)
			}
		}
		x, _ := ecdh.X25519().GenerateKey(rand.Reader)
		der, err := x509.MarshalPKCS8PrivateKey(x)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ParseKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		wantConfigErr(t, err, "unsupported")
	})
	t.Run("R11/invalid_keys", func(t *testing.T) {
		_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
		bad := slices.Clone(edPriv)
		bad[40] ^= 1 // public half no longer matches the seed
		_, err := NewKey("", bad)
		wantConfigErr(t, err, "inconsistent")
		_, err = NewKey("", edPriv[:32])
		wantConfigErr(t, err, "bytes")
		_, err = NewVerifyKey("", ed25519.PublicKey(make([]byte, 31)))
		wantConfigErr(t, err, "bytes")
		ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		offCurve := &ecdsa.PublicKey{Curve: elliptic.P256(), X: big.NewInt(1), Y: big.NewInt(1)}
		_, err = NewVerifyKey("", offCurve)
		wantConfigErr(t, err, "invalid")
		mismatch := &ecdsa.PrivateKey{PublicKey: testKey(t, AlgES256).signKey.(*ecdsa.PrivateKey).PublicKey, D: ec.D}
		_, err = NewKey("", mismatch)
		wantConfigErr(t, err, "")
		_, err = NewVerifyKey("", &rsa.PublicKey{N: testKey(t, AlgRS256).pub.(*rsa.PublicKey).N, E: 65536})
		wantConfigErr(t, err, "exponent")
	})
	t.Run("wrong_kinds", func(t *testing.T) {
		_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
		for _, v := range []any{nil, "a string secret", 42, edPriv.Public()} {
			_, err := NewKey("", v)
			wantConfigErr(t, err, "")
		}
		for _, v := range []any{nil, randBytes(t, 32), edPriv, "x"} {
			_, err := NewVerifyKey("", v)
			wantConfigErr(t, err, "")
		}
		_, err := GenerateKey("none")
		wantConfigErr(t, err, "unsupported algorithm")
		_, err = GenerateKey("hs256")
		wantConfigErr(t, err, "unsupported algorithm")
	})
}

func TestKeyPEMRoundTrip(t *testing.T) {
	for _, alg := range allAlgs {
		t.Run(alg, func(t *testing.T) {
			k := testKey(t, alg)
			p, err := k.MarshalPEM()
			if err != nil {
				t.Fatal(err)
			}
			wantType := PEMTypePrivateKey
			if alg == AlgHS256 {
				wantType = PEMTypeHMACKey
			}
			if block, _ := pem.Decode(p); block == nil || block.Type != wantType {
				t.Fatalf("PEM type: %s", p)
			}
			back, err := ParseKeyPEM(p)
			if err != nil {
				t.Fatal(err)
			}
			if back.ID() != k.ID() || back.Algorithm() != alg || !sameMaterial(back, k) || !back.CanSign() {
				t.Fatalf("round trip changed the key: %v vs %v", back, k)
			}
			again, _ := back.MarshalPEM()
			if !bytes.Equal(again, p) {
				t.Fatal("MarshalPEM is not stable")
			}
			// A token signed by the parsed key verifies with the original.
			ks, _ := NewKeySet(back)
			c := testClaims()
			tok, err := ks.Sign(&c)
			if err != nil {
				t.Fatal(err)
			}
			ks2, _ := NewKeySet(k)
			o := testOptions()
			if err := ks2.Verify(tok, &o, nil); err != nil {
				t.Fatal(err)
			}
			if alg == AlgHS256 {
				if _, err := k.MarshalPublicPEM(); err == nil {
					t.Fatal("HMAC key has a public PEM")
				}
				return
			}
			pp, err := k.MarshalPublicPEM()
			if err != nil {
				t.Fatal(err)
			}
			pub, err := ParsePublicKeyPEM(pp)
			if err != nil {
				t.Fatal(err)
			}
			if pub.ID() != k.ID() || pub.CanSign() {
				t.Fatalf("public PEM round trip: %v", pub)
			}
			if _, err := pub.MarshalPEM(); err == nil {
				t.Fatal("a verify-only key marshalled a private PEM")
			}
		})
	}
}

func TestParseKeyPEMRefusals(t *testing.T) {
	ed := testKey(t, AlgEdDSA)
	good, _ := ed.MarshalPEM()
	ec := testKey(t, AlgES256).signKey.(*ecdsa.PrivateKey)
	sec1, _ := x509.MarshalECPrivateKey(ec)
	pkcs1 := x509.MarshalPKCS1PrivateKey(testKey(t, AlgRS256).signKey.(*rsa.PrivateKey))
	pubPEM, _ := ed.MarshalPublicPEM()
	cases := map[string]struct {
		data []byte
		why  string
	}{
		"empty":           {nil, "no PEM block"},
		"garbage":         {[]byte("not a key"), "no PEM block"},
		"two_blocks":      {append(slices.Clone(good), good...), "more than one"},
		"sec1":            {pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), "PKCS#8"},
		"pkcs1":           {pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: pkcs1}), "PKCS#8"},
		"public":          {pubPEM, "ParsePublicKeyPEM"},
		"encrypted":       {pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{1}}), "headers"},
		"bad_der":         {pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}), "PKCS#8"},
		"weak_hmac_block": {pem.EncodeToMemory(&pem.Block{Type: "HMAC KEY", Bytes: []byte("secret")}), "shorter than 32"},
		"other_type":      {pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), "unsupported PEM block"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseKeyPEM(c.data)
			wantConfigErr(t, err, c.why)
		})
	}
	if _, err := ParsePublicKeyPEM(good); err == nil {
		t.Fatal("ParsePublicKeyPEM accepted a private key")
	}
}

// R64: a key printed or logged by mistake reveals no key material.
func TestKeyFormattingRevealsNothing(t *testing.T) {
	for _, alg := range allAlgs {
		k := testKey(t, alg)
		p, _ := k.MarshalPEM()
		block, _ := pem.Decode(p)
		var logged bytes.Buffer
		slog.New(slog.NewJSONHandler(&logged, nil)).Info("key", "key", k)
		out := logged.String()
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%o", "%O", "%b", "%q", "%c", "%U", "%e", "%t", "%p", "%T", "%10.3v"} {
			out += " " + fmt.Sprintf(verb, k) + " " + fmt.Sprintf(verb, *k) + " " + fmt.Sprintf(verb, []*Key{k}) + " " + fmt.Sprintf(verb, struct{ K Key }{*k})
		}
		secretForms := []string{
			base64.StdEncoding.EncodeToString(block.Bytes)[:16],
			hex.EncodeToString(block.Bytes[len(block.Bytes)-16:]),
		}
		tail := block.Bytes[len(block.Bytes)-12:]
		if alg == AlgHS256 {
			secretForms = append(secretForms, hex.EncodeToString(k.secret)[:16], base64.StdEncoding.EncodeToString(k.secret)[:16])
			tail = k.secret[len(k.secret)-12:]
		}
		for _, verb := range []string{"%d", "%o", "%b", "%x", "%X"} { // bytes as a struct's fields print them
			secretForms = append(secretForms, strings.Trim(fmt.Sprintf(verb, tail), "[]"))
		}
		for _, s := range secretForms {
			if strings.Contains(out, s) {
				t.Errorf("%s: formatted key contains key material %q: %s", alg, s, out)
			}
		}
		if !strings.Contains(out, k.ID()) || !strings.Contains(out, alg) {
			t.Errorf("%s: formatted key lacks alg or kid: %s", alg, out)
		}
	}
}

func TestKeySetRules(t *testing.T) {
	ed, es, rs, hs := testKey(t, AlgEdDSA), testKey(t, AlgES256), testKey(t, AlgRS256), testKey(t, AlgHS256)
	edPub, _ := NewVerifyKey("", ed.PublicKey())
	t.Run("needs_signing_key", func(t *testing.T) {
		_, err := NewKeySet(nil)
		wantConfigErr(t, err, "signing key")
		_, err = NewKeySet(edPub)
		wantConfigErr(t, err, "verify-only")
		_, err = NewKeySet(ed, nil)
		wantConfigErr(t, err, "nil")
		_, err = NewKeySet(&Key{})
		wantConfigErr(t, err, "signing key")
		_, err = NewKeySet(ed, &Key{alg: AlgEdDSA})
		wantConfigErr(t, err, "uninitialised")
		var empty KeySet
		wantConfigErr(t, empty.AddVerifyKey(&Key{}), "uninitialised")
		wantConfigErr(t, empty.SetSigningKey(&Key{alg: AlgHS256, material: &material{signKey: []byte{1}}}), "private key")
	})
	t.Run("distinct_kids", func(t *testing.T) {
		_, err := NewKeySet(ed, edPub)
		wantConfigErr(t, err, "duplicate kid")
		other, _ := GenerateKey(AlgEdDSA)
		renamed, _ := NewKey(ed.ID(), other.signKey)
		_, err = NewKeySet(ed, renamed)
		wantConfigErr(t, err, "duplicate kid")
		ks, _ := NewKeySet(ed)
		wantConfigErr(t, ks.AddVerifyKey(renamed), "duplicate kid")
		wantConfigErr(t, ks.SetSigningKey(renamed), "duplicate kid")
		if err := ks.AddVerifyKey(edPub); err != nil {
			t.Fatalf("re-adding the same key: %v", err)
		}
		if ks.SigningKey() != ed {
			t.Fatal("re-adding the signing key as verify-only demoted it")
		}
	})
	t.Run("R10/keyset_never_mixes_mac_and_signature", func(t *testing.T) {
		_, err := NewKeySet(ed, hs)
		wantConfigErr(t, err, "mixed")
		_, err = NewKeySet(hs, ed)
		wantConfigErr(t, err, "mixed")
		ks, _ := NewKeySet(ed, es, rs)
		wantConfigErr(t, ks.AddVerifyKey(hs), "mixed")
		wantConfigErr(t, ks.SetSigningKey(hs), "mixed")
		hks, _ := NewKeySet(hs)
		wantConfigErr(t, hks.AddVerifyKey(edPub), "mixed")
	})
	t.Run("remove", func(t *testing.T) {
		ks, _ := NewKeySet(ed, es)
		wantConfigErr(t, ks.RemoveKey(ed.ID()), "cannot be removed")
		wantConfigErr(t, ks.RemoveKey("nope"), "no key")
		if err := ks.RemoveKey(es.ID()); err != nil {
			t.Fatal(err)
		}
		if _, ok := ks.Key(es.ID()); ok {
			t.Fatal("removed key still present")
		}
	})
	t.Run("verify_only_set", func(t *testing.T) {
		var ks KeySet
		c := testClaims()
		if _, err := ks.Sign(&c); err == nil {
			t.Fatal("an empty set signed")
		}
		o := testOptions()
		tok, _ := must(NewKeySet(ed)).Sign(&c)
		if reasonWord(ks.Verify(tok, &o, nil)) != "no_keys" {
			t.Fatal("an empty set verified")
		}
		if err := ks.AddVerifyKey(edPub); err != nil {
			t.Fatal(err)
		}
		if err := ks.Verify(tok, &o, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := ks.Sign(&c); err == nil {
			t.Fatal("a verify-only set signed")
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// jwksDoc is the generic shape of a JWK Set.
type jwksDoc struct {
	Keys []map[string]any `json:"keys"`
}

// R14: several verification keys, a runtime switch of the signing key, and a
// JWKS with public members only.
func TestKeyRotation(t *testing.T) {
	o := testOptions()
	t.Run("R14/rotation_old_key_still_verifies", func(t *testing.T) {
		old, _ := GenerateKey(AlgEdDSA)
		ks, _ := NewKeySet(old)
		c := testClaims()
		oldTok, _ := ks.Sign(&c)
		next, _ := GenerateKey(AlgES256)
		if err := ks.SetSigningKey(next); err != nil {
			t.Fatal(err)
		}
		if ks.SigningKey() != next {
			t.Fatal("signing key not switched")
		}
		newTok, _ := ks.Sign(&c)
		if !strings.HasPrefix(newTok, next.header+".") {
			t.Fatal("new tokens are not signed by the new key")
		}
		for _, tok := range []string{oldTok, newTok} {
			if err := ks.Verify(tok, &o, nil); err != nil {
				t.Fatalf("verify after rotation: %v", err)
			}
		}
	})
	t.Run("R14/removed_key_rejected", func(t *testing.T) {
		old, _ := GenerateKey(AlgEdDSA)
		ks, _ := NewKeySet(old)
		c := testClaims()
		oldTok, _ := ks.Sign(&c)
		next, _ := GenerateKey(AlgEdDSA)
		_ = ks.SetSigningKey(next)
		if err := ks.RemoveKey(old.ID()); err != nil {
			t.Fatal(err)
		}
		if got := reasonWord(ks.Verify(oldTok, &o, nil)); got != "kid" {
			t.Fatalf("token of a retired key: reason %q, want kid", got)
		}
	})
	t.Run("R14/publish_then_promote", func(t *testing.T) {
		cur, _ := GenerateKey(AlgEdDSA)
		next, _ := GenerateKey(AlgEdDSA)
		nextPub, _ := NewVerifyKey("", next.PublicKey())
		ks, _ := NewKeySet(cur)
		if err := ks.AddVerifyKey(nextPub); err != nil {
			t.Fatal(err)
		}
		doc, _ := ks.JWKS()
		if !strings.Contains(string(doc), next.ID()) {
			t.Fatal("pre-published key missing from JWKS")
		}
		if err := ks.SetSigningKey(next); err != nil {
			t.Fatalf("promoting a published key: %v", err)
		}
		c := testClaims()
		tok, err := ks.Sign(&c)
		if err != nil || ks.Verify(tok, &o, nil) != nil {
			t.Fatalf("sign after promotion: %v", err)
		}
	})
	t.Run("R14/jwks_no_private_members", func(t *testing.T) {
		ed, es, rs := testKey(t, AlgEdDSA), testKey(t, AlgES256), testKey(t, AlgRS256)
		ks, _ := NewKeySet(es, rs, ed)
		raw, ok := ks.JWKS()
		if !ok {
			t.Fatal("no JWKS")
		}
		var doc jwksDoc
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Keys) != 3 {
			t.Fatalf("%d keys", len(doc.Keys))
		}
		if doc.Keys[0]["kid"] != es.ID() {
			t.Fatal("the signing key is not listed first")
		}
		allowed := map[string]bool{"kty": true, "crv": true, "x": true, "y": true, "n": true, "e": true, "kid": true, "alg": true, "use": true}
		for _, jwk := range doc.Keys {
			for name := range jwk {
				if !allowed[name] {
					t.Errorf("JWK member %q published", name)
				}
			}
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k", "oth"} {
				if _, ok := jwk[private]; ok {
					t.Errorf("private member %q published", private)
				}
			}
			if jwk["use"] != "sig" {
				t.Errorf("use = %v", jwk["use"])
			}
			kid := jwk["kid"].(string)
			k, ok := ks.Key(kid)
			if !ok || jwk["alg"] != k.Algorithm() {
				t.Errorf("kid %s alg %v", kid, jwk["alg"])
			}
			// The kid is the RFC 7638 thumbprint of the published members.
			if got := thumbprintOf(t, jwk); got != kid {
				t.Errorf("thumbprint %s != kid %s", got, kid)
			}
		}
		raw[0] = 'X'
		if again, _ := ks.JWKS(); again[0] != '{' {
			t.Fatal("JWKS returned its cached buffer")
		}
	})
	t.Run("R14/jwks_symmetric_only", func(t *testing.T) {
		ks, _ := NewKeySet(testKey(t, AlgHS256))
		if doc, ok := ks.JWKS(); ok || doc != nil {
			t.Fatalf("JWKS of an HMAC set: %s", doc)
		}
	})
	t.Run("R14/jwks_follows_rotation", func(t *testing.T) {
		a, _ := GenerateKey(AlgEdDSA)
		b, _ := GenerateKey(AlgEdDSA)
		ks, _ := NewKeySet(a)
		before, _ := ks.JWKS()
		_ = ks.SetSigningKey(b)
		_ = ks.RemoveKey(a.ID())
		after, _ := ks.JWKS()
		if strings.Contains(string(after), a.ID()) || !strings.Contains(string(after), b.ID()) || bytes.Equal(before, after) {
			t.Fatalf("JWKS not updated: %s", after)
		}
	})
}

// thumbprintOf computes the RFC 7638 thumbprint of a parsed JWK.
func thumbprintOf(t *testing.T, jwk map[string]any) string {
	t.Helper()
	var required []string
	switch jwk["kty"] {
	case "OKP", "EC":
		required = []string{"crv", "kty", "x", "y"}
	case "RSA":
		required = []string{"e", "kty", "n"}
	default:
		t.Fatalf("kty %v", jwk["kty"])
	}
	m := map[string]any{}
	for _, name := range required {
		if v, ok := jwk[name]; ok {
			m[name] = v
		}
	}
	b, _ := json.Marshal(m) // encoding/json sorts map keys
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
