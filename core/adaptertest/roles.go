package adaptertest

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/core/wire"
)

// RouteJSON is the body of GET /admin, the demo route of AuthorizeRoute.
const RouteJSON = `{"route":true}`

// policies maps each case's service to the suite's policy of its fixture.
var policies sync.Map // *core.Service -> *policy

// RoleAdmin returns the role administration the factory mounts for svc
// (the adapter's MountRoleAdmin): the suite's in-memory policy of the
// case's fixture. The cases that test roles also make it the service's
// Authorizer, so that the policy, not the token, decides. It returns nil
// for a service the suite did not build.
func RoleAdmin(svc *core.Service) wire.RoleAdmin {
	if p, ok := policies.Load(svc); ok {
		return p.(*policy)
	}
	return nil
}

// policy is the suite's policy engine: an Authorizer and core.RoleChecker
// whose roles are its own (seeded with the fixture users' roles), and the
// wire.RoleAdmin that edits them. fail makes the guards' questions fail,
// failAdmin the administration's.
type policy struct {
	mu        sync.Mutex
	users     store.Users
	roles     map[string][]string
	fail      bool
	failAdmin bool
}

// policyPerms are the suite policy's permissions ("object:action", as
// core.StaticAuthorizer reads them); admin holds everything user does.
var policyPerms = core.StaticAuthorizer{
	"user":  {"reports:read"},
	"admin": {"reports:read", "reports:delete", "roles:read", "roles:write", "/admin:GET"},
}

var errPolicyDown = errors.New("adaptertest: the policy engine is down")

func (p *policy) rolesOf(subject string) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail {
		return nil, errPolicyDown
	}
	return slices.Clone(p.roles[subject]), nil
}

// Authorize implements core.Authorizer over the policy's roles.
func (p *policy) Authorize(ctx context.Context, pr *core.Principal, object, action string) (bool, error) {
	roles, err := p.rolesOf(pr.Subject)
	if err != nil {
		return false, err
	}
	return policyPerms.Authorize(ctx, &core.Principal{Subject: pr.Subject, Roles: roles}, object, action)
}

// HasAnyRole implements core.RoleChecker over the policy's roles.
func (p *policy) HasAnyRole(_ context.Context, pr *core.Principal, roles ...string) (bool, error) {
	held, err := p.rolesOf(pr.Subject)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(roles, func(r string) bool { return slices.Contains(held, r) }), nil
}

func (p *policy) known(ctx context.Context, subject string) error {
	p.mu.Lock()
	down := p.failAdmin
	p.mu.Unlock()
	if down {
		return &core.Error{Kind: core.ErrUnavailable, Reason: "policy", Err: errPolicyDown}
	}
	if _, err := p.users.UserByID(ctx, subject); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return &core.Error{Kind: core.ErrNotFound, Reason: "unknown_subject"}
		}
		return &core.Error{Kind: core.ErrUnavailable, Reason: "directory", Err: err}
	}
	return nil
}

// Roles implements wire.RoleAdmin.
func (p *policy) Roles(ctx context.Context, subject string) ([]string, error) {
	if err := p.known(ctx, subject); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	roles := slices.Clone(p.roles[subject])
	slices.Sort(roles)
	return roles, nil
}

// Grant implements wire.RoleAdmin.
func (p *policy) Grant(ctx context.Context, c core.RoleChange) error {
	return p.change(ctx, c, func(roles []string) []string {
		if slices.Contains(roles, c.Role) {
			return roles
		}
		return append(roles, c.Role)
	})
}

// Revoke implements wire.RoleAdmin.
func (p *policy) Revoke(ctx context.Context, c core.RoleChange) error {
	return p.change(ctx, c, func(roles []string) []string {
		return slices.DeleteFunc(roles, func(r string) bool { return r == c.Role })
	})
}

func (p *policy) change(ctx context.Context, c core.RoleChange, edit func([]string) []string) error {
	if err := p.known(ctx, c.Subject); err != nil {
		return err
	}
	if _, ok := policyPerms[c.Role]; !ok {
		return &core.Error{Kind: core.ErrInvalidRequest, Reason: "unknown_role"}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.roles[c.Subject] = edit(slices.Clone(p.roles[c.Subject]))
	return nil
}
