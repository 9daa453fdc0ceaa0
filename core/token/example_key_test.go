package token_test

import (
	"fmt"

	"github.com/authguard/authguard/core/token"
)

func ExampleGenerateKey() {
	key, err := token.GenerateKey(token.AlgEdDSA)
	if err != nil {
		panic(err)
	}
	// The kid is the RFC 7638 thumbprint: 43 base64url characters.
	fmt.Println(key.Algorithm(), len(key.ID()), key.CanSign())

	// Keep the key across restarts with MarshalPEM and ParseKeyPEM.
	pemBytes, _ := key.MarshalPEM()
	again, err := token.ParseKeyPEM(pemBytes)
	if err != nil {
		panic(err)
	}
	fmt.Println(again.ID() == key.ID())
	// Output:
	// EdDSA 43 true
	// true
}

func ExampleKeySet_JWKS() {
	key, _ := token.GenerateKey(token.AlgES256)
	keys, _ := token.NewKeySet(key)
	doc, ok := keys.JWKS()
	fmt.Println(ok, len(doc) > 0)

	secret, _ := token.GenerateKey(token.AlgHS256)
	macKeys, _ := token.NewKeySet(secret)
	_, ok = macKeys.JWKS()
	fmt.Println(ok)
	// Output:
	// true true
	// false
}
