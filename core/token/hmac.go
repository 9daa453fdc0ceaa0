package token

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"hash"
	"sync"
)

// hmacKidDomain separates the digest that names an HMAC secret from any other
// use of SHA-256 over the same bytes.
const hmacKidDomain = "authguard/v1 hmac-sha256 key id\x00"

func newHMACKey(kid string, secret []byte) (*Key, error) {
	if why := weakSecret(secret); why != "" {
		return nil, configErr("HMAC secret refused: %s; use at least %d bytes from a CSPRNG (e.g. GenerateKey(%q))", why, MinHMACSecretBytes, AlgHS256)
	}
	s := bytes.Clone(secret)
	k := &Key{
		alg:      AlgHS256,
		mac:      true,
		material: &material{secret: s, signKey: s},
		sigLen:   sha256.Size,
	}
	h := sha256.New()
	h.Write([]byte(hmacKidDomain))
	inner := sha256.Sum256(s)
	h.Write(inner[:])
	h.Sum(k.fp[:0])
	k.macPool = &sync.Pool{New: func() any { return &macState{h: hmac.New(sha256.New, s)} }}
	return k.finish(kid, nil)
}

// macState is a keyed HMAC-SHA256 reused across verifications.
type macState struct {
	h   hash.Hash
	in  []byte
	sum [sha256.Size]byte
}

// verifyMAC checks an HS256 signature in constant time without allocating.
func (k *Key) verifyMAC(signingInput string, sig []byte) bool {
	st := k.macPool.Get().(*macState)
	st.h.Reset()
	st.in = append(st.in[:0], signingInput...)
	st.h.Write(st.in)
	ok := hmac.Equal(st.h.Sum(st.sum[:0]), sig)
	if cap(st.in) <= 16<<10 {
		k.macPool.Put(st)
	}
	return ok
}

// weakSecret returns why secret is not acceptable as an HMAC key, or "".
func weakSecret(s []byte) string {
	if len(s) < MinHMACSecretBytes {
		return fmt.Sprintf("%d bytes is shorter than %d", len(s), MinHMACSecretBytes)
	}
	if len(s) > MaxHMACSecretBytes {
		return fmt.Sprintf("%d bytes is longer than %d", len(s), MaxHMACSecretBytes)
	}
	var seen [256]bool
	distinct := 0
	printable := true
	for _, c := range s {
		if !seen[c] {
			seen[c] = true
			distinct++
		}
		if c < 0x20 || c > 0x7e {
			printable = false
		}
	}
	switch {
	case distinct == 1:
		return "all bytes are equal"
	case distinct < 8:
		return "too few distinct byte values"
	case printable && len(s) < 64:
		return "printable ASCII shorter than 64 bytes looks like a password"
	case smallestPeriod(s) <= len(s)/2:
		return "it repeats a shorter pattern"
	}
	return ""
}

// smallestPeriod returns the smallest p > 0 with s[i] == s[i-p] for all i >= p
// (the Knuth-Morris-Pratt failure function).
func smallestPeriod(s []byte) int {
	f := make([]int, len(s))
	for i, j := 1, 0; i < len(s); i++ {
		for j > 0 && s[i] != s[j] {
			j = f[j-1]
		}
		if s[i] == s[j] {
			j++
		}
		f[i] = j
	}
	return len(s) - f[len(s)-1]
}
