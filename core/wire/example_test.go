package wire_test

import (
	"fmt"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/wire"
)

func ExampleProblemFor() {
	p := wire.ProblemFor(core.ErrInvalidGrant)
	fmt.Println(p.Status, p.Code)
	// Output: 400 invalid_grant
}
