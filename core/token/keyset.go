package token

import (
	"bytes"
	"sync"
	"sync/atomic"
)

// KeySet holds one current signing key and any number of verify-only keys.
// It is safe for concurrent use; SetSigningKey and RemoveKey may run while
// tokens are verified.
//
// Readers (Sign, Verify, JWKS) load an immutable snapshot through an atomic
// pointer and take no lock; writers copy the snapshot under a mutex. The zero
// KeySet is empty: AddVerifyKey alone makes a verify-only set.
type KeySet struct {
	mu  sync.Mutex // serialises writers
	cur atomic.Pointer[keySnapshot]
}

// keySnapshot is never modified once published.
type keySnapshot struct {
	signing *Key // nil in a verify-only set
	keys    map[string]*Key
	sole    *Key // the only key, when exactly one is configured
	mac     bool
	jwks    []byte // nil when no asymmetric key is configured
	gen     uint64 // one more than the snapshot it replaced
}

func newSnapshot(signing *Key, keys map[string]*Key, gen uint64) *keySnapshot {
	s := &keySnapshot{signing: signing, keys: keys, gen: gen}
	for _, k := range keys {
		s.mac = k.mac
		if len(keys) == 1 {
			s.sole = k
		}
	}
	s.jwks = buildJWKS(signing, keys)
	return s
}

// NewKeySet creates a set whose signing key is signing. Kids must be
// distinct, and MAC and signature keys may not be mixed.
func NewKeySet(signing *Key, verifyOnly ...*Key) (*KeySet, error) {
	if !signing.usable() {
		return nil, configErr("a signing key is required (made by NewKey, GenerateKey or ParseKeyPEM)")
	}
	if !signing.CanSign() {
		return nil, configErr("signing key %q is verify-only", signing.kid)
	}
	keys := map[string]*Key{signing.kid: signing}
	for _, k := range verifyOnly {
		if !k.usable() {
			return nil, configErr("nil or uninitialised verification key")
		}
		if k.mac != signing.mac {
			return nil, errMixedKeys
		}
		if _, dup := keys[k.kid]; dup {
			return nil, configErr("duplicate kid %q", k.kid)
		}
		keys[k.kid] = k
	}
	ks := &KeySet{}
	ks.cur.Store(newSnapshot(signing, keys, 1))
	return ks, nil
}

var errMixedKeys = configErr("MAC (HS256) and signature keys may not be mixed in one key set")

// modify runs f on a copy of the current keys and publishes the result.
func (ks *KeySet) modify(f func(old *keySnapshot, keys map[string]*Key) (*Key, error)) error {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	old := ks.cur.Load()
	if old == nil {
		old = &keySnapshot{}
	}
	keys := make(map[string]*Key, len(old.keys)+1)
	for kid, k := range old.keys {
		keys[kid] = k
	}
	signing, err := f(old, keys)
	if err != nil {
		return err
	}
	ks.cur.Store(newSnapshot(signing, keys, old.gen+1))
	return nil
}

// SetSigningKey makes k the signing key; the previous one stays for verification.
//
// k may already be in the set under its kid as a verify-only key with the
// same material (a key published ahead of a rotation); any other kid
// collision is refused.
func (ks *KeySet) SetSigningKey(k *Key) error {
	if !k.usable() || !k.CanSign() {
		return configErr("the signing key must hold private key material")
	}
	return ks.modify(func(old *keySnapshot, keys map[string]*Key) (*Key, error) {
		if len(keys) > 0 && old.mac != k.mac {
			return nil, errMixedKeys
		}
		if prev, ok := keys[k.kid]; ok && !sameMaterial(prev, k) {
			return nil, configErr("duplicate kid %q for a different key", k.kid)
		}
		keys[k.kid] = k
		return k, nil
	})
}

// AddVerifyKey adds a verify-only key.
//
// Adding a key that is already in the set under the same kid is a no-op.
func (ks *KeySet) AddVerifyKey(k *Key) error {
	if !k.usable() {
		return configErr("nil or uninitialised verification key")
	}
	return ks.modify(func(old *keySnapshot, keys map[string]*Key) (*Key, error) {
		if len(keys) > 0 && old.mac != k.mac {
			return nil, errMixedKeys
		}
		if prev, ok := keys[k.kid]; ok {
			if !sameMaterial(prev, k) {
				return nil, configErr("duplicate kid %q for a different key", k.kid)
			}
			return old.signing, nil
		}
		keys[k.kid] = k
		return old.signing, nil
	})
}

// RemoveKey retires a verify-only key; the signing key cannot be removed.
func (ks *KeySet) RemoveKey(kid string) error {
	return ks.modify(func(old *keySnapshot, keys map[string]*Key) (*Key, error) {
		if _, ok := keys[kid]; !ok {
			return nil, configErr("no key with kid %q", kid)
		}
		if old.signing != nil && old.signing.kid == kid {
			return nil, configErr("the signing key %q cannot be removed: set another signing key first", kid)
		}
		delete(keys, kid)
		return old.signing, nil
	})
}

// Generation identifies the set's current keys: it changes whenever a key
// is added, removed or made the signing key, and never returns to an
// earlier value. A token verified while Generation was g needs no new key
// lookup as long as Generation is still g (the service's token cache relies
// on it: a removed key drops the tokens it signed). The empty set is 0.
func (ks *KeySet) Generation() uint64 {
	if s := ks.cur.Load(); s != nil {
		return s.gen
	}
	return 0
}

// SigningKey returns the current signing key.
func (ks *KeySet) SigningKey() *Key {
	if s := ks.cur.Load(); s != nil {
		return s.signing
	}
	return nil
}

// Key returns the key with that kid, if the set holds it.
func (ks *KeySet) Key(kid string) (*Key, bool) {
	if s := ks.cur.Load(); s != nil {
		k, ok := s.keys[kid]
		return k, ok
	}
	return nil, false
}

// JWKS returns the JSON Web Key Set of the public verification keys, and false
// when the set holds only symmetric keys.
//
// Members are kty, crv, x, y, n, e, kid, alg and use ("sig"); private members
// never appear. The signing key comes first, then the others by kid. The
// document is built once per key change; each call returns a fresh copy.
func (ks *KeySet) JWKS() ([]byte, bool) {
	s := ks.cur.Load()
	if s == nil || s.jwks == nil {
		return nil, false
	}
	return bytes.Clone(s.jwks), true
}
