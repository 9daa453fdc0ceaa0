package token

import (
	"slices"
)

// buildJWKS renders the public keys of a snapshot as a JWK Set: the signing
// key first, then the other keys ordered by kid. It returns nil when no
// asymmetric key is present.
func buildJWKS(signing *Key, keys map[string]*Key) []byte {
	kids := make([]string, 0, len(keys))
	for kid, k := range keys {
		if k.jwk != nil && k != signing {
			kids = append(kids, kid)
		}
	}
	slices.Sort(kids)
	if signing != nil && signing.jwk != nil {
		kids = append([]string{signing.kid}, kids...)
	}
	if len(kids) == 0 {
		return nil
	}
	b := []byte(`{"keys":[`)
	for i, kid := range kids {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, keys[kid].jwk...)
	}
	return append(b, "]}"...)
}
