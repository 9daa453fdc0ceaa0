package core_test

import (
	"fmt"

	"github.com/authguard/authguard/core"
)

func ExampleGenerateKey() {
	key, err := core.GenerateKey(core.AlgEdDSA)
	if err != nil {
		panic(err)
	}
	// The kid is the RFC 7638 thumbprint: 43 base64url characters.
	fmt.Println(key.Algorithm(), len(key.ID()), key.CanSign())

	// Keep the key across restarts with MarshalPEM and ParseKeyPEM.
	pemBytes, _ := key.MarshalPEM()
	again, err := core.ParseKeyPEM(pemBytes)
	if err != nil {
		panic(err)
	}
	fmt.Println(again.ID() == key.ID())
	// Output:
	// EdDSA 43 true
	// true
}

func ExampleKeySet_JWKS() {
	key, _ := core.GenerateKey(core.AlgES256)
	keys, _ := core.NewKeySet(key)
	doc, ok := keys.JWKS()
	fmt.Println(ok, len(doc) > 0)

	secret, _ := core.GenerateKey(core.AlgHS256)
	macKeys, _ := core.NewKeySet(secret)
	_, ok = macKeys.JWKS()
	fmt.Println(ok)
	// Output:
	// true true
	// false
}
