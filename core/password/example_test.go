package password_test

import (
	"fmt"
	"strings"

	"github.com/authguard/authguard/core/password"
)

func ExampleHash() {
	phc, err := password.Hash("correct horse battery staple", password.DefaultParams)
	if err != nil {
		panic(err)
	}
	// phc is "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>" in unpadded
	// base64; the salt is random, so print only the parameters.
	f := strings.Split(phc, "$")
	fmt.Println(strings.Join(f[:4], "$") + "$")
	// Output: $argon2id$v=19$m=19456,t=2,p=1$
}
