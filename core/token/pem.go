package token

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
)

// PEM block types read by ParseKeyPEM and written by MarshalPEM.
const (
	PEMTypePrivateKey = "PRIVATE KEY"
	PEMTypeHMACKey    = "HMAC KEY"
)

// ParseKeyPEM reads a PKCS#8 "PRIVATE KEY" block (Ed25519, P-256, RSA >= 2048)
// or an "HMAC KEY" block (>= 32 bytes). The kid is the thumbprint.
//
// The data must hold exactly one PEM block, without PEM headers (encrypted
// legacy blocks are refused).
func ParseKeyPEM(data []byte) (*Key, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, configErr("no PEM block found in key data")
	}
	if next, _ := pem.Decode(rest); next != nil {
		return nil, configErr("key data holds more than one PEM block")
	}
	if len(block.Headers) != 0 {
		return nil, configErr("PEM block %q has headers (encrypted keys are not supported)", block.Type)
	}
	switch block.Type {
	case PEMTypePrivateKey:
		priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, configErr("parse PKCS#8 private key: %v", err)
		}
		return NewKey("", priv)
	case PEMTypeHMACKey:
		return NewKey("", block.Bytes)
	case "EC PRIVATE KEY", "RSA PRIVATE KEY":
		return nil, configErr("PEM block %q is not PKCS#8: convert it with `openssl pkcs8 -topk8 -nocrypt`", block.Type)
	case "PUBLIC KEY":
		return nil, configErr("PEM block \"PUBLIC KEY\" holds no private key: use ParsePublicKeyPEM")
	default:
		return nil, configErr("unsupported PEM block %q (want %q or %q)", block.Type, PEMTypePrivateKey, PEMTypeHMACKey)
	}
}

// ParsePublicKeyPEM reads a PKIX "PUBLIC KEY" block (Ed25519, P-256, RSA >=
// 2048) as a verify-only key whose kid is the thumbprint, as NewVerifyKey
// with an empty kid. It is the counterpart of MarshalPublicPEM.
func ParsePublicKeyPEM(data []byte) (*Key, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, configErr("no PEM block found in key data")
	}
	if next, _ := pem.Decode(rest); next != nil {
		return nil, configErr("key data holds more than one PEM block")
	}
	if block.Type != "PUBLIC KEY" || len(block.Headers) != 0 {
		return nil, configErr("unsupported PEM block %q (want \"PUBLIC KEY\")", block.Type)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, configErr("parse public key: %v", err)
	}
	return NewVerifyKey("", pub)
}

// MarshalPEM encodes the private key as ParseKeyPEM reads it.
//
// It fails for a verify-only key. The output is secret key material.
func (k *Key) MarshalPEM() ([]byte, error) {
	switch {
	case k == nil:
		return nil, configErr("nil key")
	case k.mac:
		return pem.EncodeToMemory(&pem.Block{Type: PEMTypeHMACKey, Bytes: k.secret}), nil
	case !k.CanSign():
		return nil, configErr("key %q is verify-only: no private key to encode", k.kid)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.signKey)
	if err != nil {
		return nil, fmt.Errorf("authguard: encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: PEMTypePrivateKey, Bytes: der}), nil
}

// MarshalPublicPEM encodes the public key as a PKIX "PUBLIC KEY" block, for
// verifiers; it fails for an HMAC key.
func (k *Key) MarshalPublicPEM() ([]byte, error) {
	if k == nil || k.mac {
		return nil, configErr("an HMAC key has no public part")
	}
	der, err := x509.MarshalPKIXPublicKey(k.pub)
	if err != nil {
		return nil, fmt.Errorf("authguard: encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
