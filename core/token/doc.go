// Package token issues and verifies the access tokens of authguard: compact
// JWS (RFC 7515) access tokens typed at+jwt (RFC 9068), signed with EdDSA,
// ES256, RS256 or HS256.
//
// What is where:
//
//   - key.go: Key, one signing or verification key bound to one algorithm
//     and kid (NewKey, NewVerifyKey, GenerateKey, ValidKeyID); hmac.go: HS256
//     secrets (weak-secret refusal, pooled constant-time MAC check); pem.go:
//     PEM loading and writing (ParseKeyPEM, ParsePublicKeyPEM, MarshalPEM).
//   - keyset.go: KeySet, the current signing key plus verify-only keys, with
//     lock-free readers and rotation (SetSigningKey, AddVerifyKey,
//     RemoveKey); jwks.go: its JSON Web Key Set.
//   - sign.go: KeySet.Sign and the claim encoder.
//   - verify.go: KeySet.Verify, the strict verifier, in its fixed order
//     (length, syntax, header.go's header, key, signature, then claims.go's
//     claim set and its checks).
//   - errors.go: the sentinels ErrInvalid, ErrInvalidKey and ErrSign, and
//     Reason, the typed cause of a refusal (ReasonOf, *Error).
//   - json.go and b64.go: the strict in-place JSON scanner and base64url
//     decoder Verify reads tokens with (unexported; they allocate nothing).
//
// Key and key-set configuration errors wrap ErrInvalidKey. Every refusal of
// Verify wraps ErrInvalid and carries a Reason; refusals allocate nothing.
package token
