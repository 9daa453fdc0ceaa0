package token

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"sync"
)

// Signing algorithms supported by authguard. Each key is bound to exactly one.
const (
	AlgEdDSA = "EdDSA"
	AlgES256 = "ES256"
	AlgRS256 = "RS256"
	AlgHS256 = "HS256"
)

// Key limits.
const (
	// MinHMACSecretBytes is the shortest HS256 secret accepted (the SHA-256 size).
	MinHMACSecretBytes = 32
	// MinRSABits is the smallest RSA modulus accepted.
	MinRSABits = 2048
	// MaxRSABits is the largest RSA modulus accepted (bounds verification cost).
	MaxRSABits = 8192
	// MaxHMACSecretBytes is the longest HS256 secret accepted.
	MaxHMACSecretBytes = 4096
	// MaxKeyIDLength is the longest kid accepted, in bytes.
	MaxKeyIDLength = 128
)

// Key is a signing or verification key bound to one algorithm and one kid.
type Key struct {
	kid string
	alg string

	mac bool
	// material holds the secret parts behind a pointer, which fmt prints as
	// an address whatever the verb, even where it bypasses Format (%p of a
	// Key value): nil for a verify-only key.
	*material

	// verifyKey is what golang-jwt's SigningMethod.Verify expects, boxed once.
	verifyKey any
	pub       crypto.PublicKey // nil for HMAC

	// fp identifies the key material: the RFC 7638 thumbprint digest, or the
	// domain-separated digest of an HMAC secret.
	fp [32]byte

	sigLen    int    // raw signature length
	sigB64Len int    // its unpadded base64url length
	header    string // base64url of {"alg":..,"kid":..,"typ":"at+jwt"}
	jwk       []byte // public JWK (asymmetric keys only)
	macPool   *sync.Pool
}

// material is a key's secret part.
type material struct {
	secret  []byte // HS256 secret (never exposed)
	signKey any    // what golang-jwt's SigningMethod.Sign expects
}

// NewKey binds a private key (ed25519.PrivateKey, *ecdsa.PrivateKey on P-256,
// *rsa.PrivateKey of 2048 bits or more) or an HMAC secret ([]byte of at least
// 32 bytes) to its algorithm. An empty kid is replaced by the RFC 7638
// thumbprint (a SHA-256 digest for HMAC secrets). Weak keys are refused with
// an error wrapping ErrInvalidKey.
//
// HMAC secrets must come from a CSPRNG. Besides the 32-byte minimum, a secret
// is refused when it looks like a password or a placeholder: all bytes equal,
// fewer than 8 distinct byte values, a repetition of a shorter pattern, or
// only printable ASCII and shorter than 64 bytes (a hex-encoded 32-byte secret
// of 64 characters passes; decode base64 text before passing it). The key
// material is copied.
func NewKey(kid string, private any) (*Key, error) {
	switch p := private.(type) {
	case ed25519.PrivateKey:
		return newEd25519Key(kid, p)
	case *ed25519.PrivateKey:
		if p == nil {
			return nil, configErr("nil Ed25519 private key")
		}
		return newEd25519Key(kid, *p)
	case *ecdsa.PrivateKey:
		return newECDSAKey(kid, p)
	case *rsa.PrivateKey:
		return newRSAKey(kid, p)
	case []byte:
		return newHMACKey(kid, p)
	case nil:
		return nil, configErr("no key given")
	case ed25519.PublicKey, *ecdsa.PublicKey, *rsa.PublicKey:
		return nil, configErr("NewKey needs a private key; use NewVerifyKey for a public key")
	default:
		return nil, configErr("unsupported private key type %T (want ed25519.PrivateKey, *ecdsa.PrivateKey on P-256, *rsa.PrivateKey or an HMAC []byte)", private)
	}
}

// NewVerifyKey binds a public key (ed25519.PublicKey, *ecdsa.PublicKey,
// *rsa.PublicKey) to its algorithm, for verification only.
func NewVerifyKey(kid string, public crypto.PublicKey) (*Key, error) {
	switch p := public.(type) {
	case ed25519.PublicKey:
		return newEd25519PublicKey(kid, p)
	case *ed25519.PublicKey:
		if p == nil {
			return nil, configErr("nil Ed25519 public key")
		}
		return newEd25519PublicKey(kid, *p)
	case *ecdsa.PublicKey:
		return newECDSAPublicKey(kid, p)
	case *rsa.PublicKey:
		return newRSAPublicKey(kid, p)
	case nil:
		return nil, configErr("no key given")
	case []byte:
		return nil, configErr("HMAC secrets are symmetric: use NewKey")
	case ed25519.PrivateKey, *ecdsa.PrivateKey, *rsa.PrivateKey:
		return nil, configErr("NewVerifyKey needs a public key, not a private one")
	default:
		return nil, configErr("unsupported public key type %T (want ed25519.PublicKey, *ecdsa.PublicKey on P-256 or *rsa.PublicKey)", public)
	}
}

// GenerateKey creates a new random key for alg (EdDSA, ES256, RS256 or HS256).
//
// RS256 keys have 2048 bits; HS256 secrets are 32 bytes from crypto/rand.
// The kid is the thumbprint.
func GenerateKey(alg string) (*Key, error) {
	switch alg {
	case AlgEdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("authguard: generate Ed25519 key: %w", err)
		}
		return NewKey("", priv)
	case AlgES256:
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("authguard: generate P-256 key: %w", err)
		}
		return NewKey("", priv)
	case AlgRS256:
		priv, err := rsa.GenerateKey(rand.Reader, MinRSABits)
		if err != nil {
			return nil, fmt.Errorf("authguard: generate RSA key: %w", err)
		}
		return NewKey("", priv)
	case AlgHS256:
		// A 32-byte CSPRNG output fails the weak-secret heuristic with a
		// probability below 2^-40; draw again in that case.
		for range 8 {
			secret := make([]byte, MinHMACSecretBytes)
			if _, err := rand.Read(secret); err != nil {
				return nil, fmt.Errorf("authguard: generate HMAC secret: %w", err)
			}
			if weakSecret(secret) == "" {
				return NewKey("", secret)
			}
		}
		return nil, fmt.Errorf("authguard: generate HMAC secret: random source looks broken")
	default:
		return nil, configErr("unsupported algorithm %q (want EdDSA, ES256, RS256 or HS256)", alg)
	}
}

// ID returns the key id.
func (k *Key) ID() string { return k.kid }

// Algorithm returns the JWS alg the key is bound to.
func (k *Key) Algorithm() string { return k.alg }

// CanSign reports whether k holds private (or secret) key material.
func (k *Key) CanSign() bool { return k != nil && k.material != nil && k.signKey != nil }

// Symmetric reports whether k is an HMAC secret.
func (k *Key) Symmetric() bool { return k != nil && k.mac }

// PublicKey returns the public key (ed25519.PublicKey, *ecdsa.PublicKey or
// *rsa.PublicKey; a copy), or nil for an HMAC key.
func (k *Key) PublicKey() crypto.PublicKey {
	switch p := k.pub.(type) {
	case ed25519.PublicKey:
		return ed25519.PublicKey(bytes.Clone(p))
	case *ecdsa.PublicKey:
		b, _ := p.Bytes()
		c, _ := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), b)
		return c
	case *rsa.PublicKey:
		return &rsa.PublicKey{N: new(big.Int).Set(p.N), E: p.E}
	}
	return nil
}

// String describes the key without any key material, so a key printed or
// logged by mistake reveals nothing secret. (Value receivers: a Key printed
// by value is covered too.)
func (k Key) String() string { return "authguard.Key(" + k.alg + ", kid=" + k.kid + ")" }

// GoString is String, for %#v.
func (k Key) GoString() string { return k.String() }

// Format implements fmt.Formatter: every verb (%v, %d, %x, %o, %b, %q, ...)
// prints the redacted form of String, never the key's material, which the
// default formatting of a struct would print field by field.
func (k Key) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", k.String())
		return
	}
	io.WriteString(f, k.String())
}

// LogValue implements slog.LogValuer: only the algorithm and kid are logged.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("alg", k.alg), slog.String("kid", k.kid))
}

// usable reports whether k was made by a constructor of this package.
func (k *Key) usable() bool { return k != nil && k.alg != "" && k.header != "" }

// ValidKeyID reports whether kid is acceptable: 1 to 128 bytes of
// [A-Za-z0-9._-].
func ValidKeyID(kid string) bool {
	if len(kid) == 0 || len(kid) > MaxKeyIDLength {
		return false
	}
	for i := 0; i < len(kid); i++ {
		if !kidChar[kid[i]] {
			return false
		}
	}
	return true
}

var kidChar = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['.'], t['_'], t['-'] = true, true, true
	return t
}()

// finish fills the derived fields of k once its material is set.
func (k *Key) finish(kid string, thumbprintJSON []byte) (*Key, error) {
	if thumbprintJSON != nil {
		k.fp = sha256.Sum256(thumbprintJSON)
	}
	if kid == "" {
		kid = base64.RawURLEncoding.EncodeToString(k.fp[:])
	}
	if !ValidKeyID(kid) {
		return nil, configErr("invalid kid %q: want 1 to %d characters of [A-Za-z0-9._-]", kid, MaxKeyIDLength)
	}
	k.kid = kid
	k.sigB64Len = base64.RawURLEncoding.EncodedLen(k.sigLen)
	k.header = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"` + k.alg + `","kid":"` + kid + `","typ":"at+jwt"}`))
	if k.jwk != nil {
		k.jwk = append(k.jwk, `,"kid":"`+kid+`","alg":"`+k.alg+`","use":"sig"}`...)
	}
	return k, nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func newEd25519Key(kid string, p ed25519.PrivateKey) (*Key, error) {
	if len(p) != ed25519.PrivateKeySize {
		return nil, configErr("Ed25519 private key has %d bytes, want %d", len(p), ed25519.PrivateKeySize)
	}
	priv := ed25519.NewKeyFromSeed(p.Seed())
	if !priv.Equal(p) {
		return nil, configErr("Ed25519 private key is inconsistent (public half does not match the seed)")
	}
	k, err := newEd25519PublicKey(kid, priv.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	k.material = &material{signKey: priv}
	return k, nil
}

func newEd25519PublicKey(kid string, p ed25519.PublicKey) (*Key, error) {
	if len(p) != ed25519.PublicKeySize {
		return nil, configErr("Ed25519 public key has %d bytes, want %d", len(p), ed25519.PublicKeySize)
	}
	pub := ed25519.PublicKey(bytes.Clone(p))
	x := b64(pub)
	k := &Key{
		alg:       AlgEdDSA,
		pub:       pub,
		verifyKey: pub,
		sigLen:    ed25519.SignatureSize,
		jwk:       []byte(`{"kty":"OKP","crv":"Ed25519","x":"` + x + `"`),
	}
	return k.finish(kid, []byte(`{"crv":"Ed25519","kty":"OKP","x":"`+x+`"}`))
}

func curveName(c elliptic.Curve) string {
	if c == nil || c.Params() == nil {
		return "none"
	}
	return c.Params().Name
}

func newECDSAKey(kid string, p *ecdsa.PrivateKey) (*Key, error) {
	if p == nil {
		return nil, configErr("nil ECDSA private key")
	}
	if p.Curve != elliptic.P256() {
		return nil, configErr("ECDSA curve %s is not accepted: only P-256 (ES256) is", curveName(p.Curve))
	}
	raw, err := p.Bytes()
	if err != nil {
		return nil, configErr("invalid P-256 private key: %v", err)
	}
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), raw)
	if err != nil {
		return nil, configErr("invalid P-256 private key: %v", err)
	}
	if !priv.PublicKey.Equal(&p.PublicKey) {
		return nil, configErr("P-256 private key is inconsistent (public point does not match the scalar)")
	}
	k, err := newECDSAPublicKey(kid, &priv.PublicKey)
	if err != nil {
		return nil, err
	}
	k.material = &material{signKey: priv}
	return k, nil
}

func newECDSAPublicKey(kid string, p *ecdsa.PublicKey) (*Key, error) {
	if p == nil {
		return nil, configErr("nil ECDSA public key")
	}
	if p.Curve != elliptic.P256() {
		return nil, configErr("ECDSA curve %s is not accepted: only P-256 (ES256) is", curveName(p.Curve))
	}
	raw, err := p.Bytes()
	if err != nil {
		return nil, configErr("invalid P-256 public key: %v", err)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		return nil, configErr("invalid P-256 public key: %v", err)
	}
	x, y := b64(raw[1:33]), b64(raw[33:65])
	k := &Key{
		alg:       AlgES256,
		pub:       pub,
		verifyKey: pub,
		sigLen:    64,
		jwk:       []byte(`{"kty":"EC","crv":"P-256","x":"` + x + `","y":"` + y + `"`),
	}
	return k.finish(kid, []byte(`{"crv":"P-256","kty":"EC","x":"`+x+`","y":"`+y+`"}`))
}

func newRSAKey(kid string, p *rsa.PrivateKey) (*Key, error) {
	if p == nil || p.N == nil {
		return nil, configErr("nil RSA private key")
	}
	if bits := p.N.BitLen(); bits < MinRSABits || bits > MaxRSABits {
		return nil, configErr("RSA key has %d bits: want %d to %d", bits, MinRSABits, MaxRSABits)
	}
	if err := p.Validate(); err != nil {
		return nil, configErr("invalid RSA private key: %v", err)
	}
	// A PKCS#8 round trip copies the key and validates it again.
	der, err := x509.MarshalPKCS8PrivateKey(p)
	if err != nil {
		return nil, configErr("invalid RSA private key: %v", err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, configErr("invalid RSA private key: %v", err)
	}
	priv := parsed.(*rsa.PrivateKey)
	k, err := newRSAPublicKey(kid, &priv.PublicKey)
	if err != nil {
		return nil, err
	}
	k.material = &material{signKey: priv}
	return k, nil
}

func newRSAPublicKey(kid string, p *rsa.PublicKey) (*Key, error) {
	if p == nil || p.N == nil {
		return nil, configErr("nil RSA public key")
	}
	bits := p.N.BitLen()
	if bits < MinRSABits || bits > MaxRSABits {
		return nil, configErr("RSA key has %d bits: want %d to %d", bits, MinRSABits, MaxRSABits)
	}
	if p.E < 3 || p.E&1 == 0 || p.N.Bit(0) == 0 {
		return nil, configErr("invalid RSA public key (exponent %d)", p.E)
	}
	pub := &rsa.PublicKey{N: new(big.Int).Set(p.N), E: p.E}
	n := b64(pub.N.Bytes())
	e := b64(big.NewInt(int64(pub.E)).Bytes())
	k := &Key{
		alg:       AlgRS256,
		pub:       pub,
		verifyKey: pub,
		sigLen:    pub.Size(),
		jwk:       []byte(`{"kty":"RSA","n":"` + n + `","e":"` + e + `"`),
	}
	return k.finish(kid, []byte(`{"e":"`+e+`","kty":"RSA","n":"`+n+`"}`))
}

// sameMaterial reports whether a and b hold the same key for the same alg.
func sameMaterial(a, b *Key) bool {
	return a.alg == b.alg && a.mac == b.mac && a.fp == b.fp
}
