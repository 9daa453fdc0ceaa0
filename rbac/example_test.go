package rbac_test

import (
	"context"
	"fmt"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/rbac"
)

// An Authorizer over the default policy, where the subject "u-42" is an
// admin. Set it as core.Config.Authorizer: RequirePermission and the route
// guards ask Authorize, RequireRole asks HasAnyRole.
func Example() {
	e, err := rbac.NewEnforcer(rbac.ModelRBAC, rbac.PolicyFromString(rbac.DefaultPolicy+"g, u-42, admin\n"))
	if err != nil {
		panic(err)
	}
	a, err := rbac.New(e)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	p := &core.Principal{Subject: "u-42"}
	canDelete, _ := a.Authorize(ctx, p, "reports", "delete")
	canWipe, _ := a.Authorize(ctx, p, "reports", "wipe")
	isUser, _ := a.HasAnyRole(ctx, p, "user") // admin inherits user

	// Taking the role away denies the next request.
	if _, err := e.DeleteRoleForUser("u-42", "admin"); err != nil {
		panic(err)
	}
	a.PolicyChanged()
	afterRemoval, _ := a.Authorize(ctx, p, "reports", "delete")

	fmt.Println(canDelete, canWipe, isUser, afterRemoval)
	// Output: true false true false
}
