package core_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
)

// policyRoles is an Authorizer whose policy says which roles a subject
// holds, whatever its token lists.
type policyRoles struct {
	roles map[string][]string
	err   error
}

func (policyRoles) Authorize(context.Context, *core.Principal, string, string) (bool, error) {
	return false, nil
}

func (a policyRoles) HasAnyRole(_ context.Context, p *core.Principal, roles ...string) (bool, error) {
	if a.err != nil {
		return false, a.err
	}
	for _, r := range roles {
		if slices.Contains(a.roles[p.Subject], r) {
			return true, nil
		}
	}
	return false, nil
}

// CheckRole reads the token's roles claim unless the Authorizer is a
// RoleChecker: then the policy alone decides, and its failure is 503.
func TestCheckRole(t *testing.T) {
	ctx := context.Background()
	token := &core.Principal{Subject: "u1", Roles: []string{"admin"}}

	static := authtest.New(t, authtest.Options{}).Service
	if err := static.CheckRole(ctx, token, "user", "admin"); err != nil {
		t.Errorf("token roles: CheckRole(admin) = %v, want nil", err)
	}
	if err := static.CheckRole(ctx, token, "auditor"); !errors.Is(err, core.ErrInsufficientScope) {
		t.Errorf("token roles: CheckRole(auditor) = %v, want ErrInsufficientScope", err)
	}

	policy := policyRoles{roles: map[string][]string{"u1": {"user"}}}
	svc := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.Authorizer = policy }}).Service
	if err := svc.CheckRole(ctx, token, "admin"); !errors.Is(err, core.ErrInsufficientScope) {
		t.Errorf("policy roles: CheckRole(admin) with admin only in the token = %v, want ErrInsufficientScope", err)
	}
	if err := svc.CheckRole(ctx, &core.Principal{Subject: "u1"}, "auditor", "user"); err != nil {
		t.Errorf("policy roles: CheckRole(user) with no role in the token = %v, want nil", err)
	}

	down := errors.New("policy engine down")
	failing := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.Authorizer = policyRoles{err: down} }}).Service
	err := failing.CheckRole(ctx, token, "admin")
	if !errors.Is(err, core.ErrUnavailable) || !errors.Is(err, down) {
		t.Errorf("failing policy: CheckRole = %v, want ErrUnavailable wrapping the cause", err)
	}
}
