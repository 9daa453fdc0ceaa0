package core

import (
	"context"
	"log/slog"
	"strings"
)

// Authorize asks the configured Authorizer. It returns nil when allowed,
// ErrInsufficientScope when denied and ErrUnavailable when the policy engine
// fails (fail closed).
func (s *Service) Authorize(ctx context.Context, p *Principal, object, action string) error {
	ok, err := s.authz.Authorize(ctx, p, object, action)
	if err != nil {
		s.log.ErrorContext(ctx, "authguard: authorizer failed", slog.String("error", err.Error()))
		return newError(ErrUnavailable, "authorizer", err)
	}
	if !ok {
		return newError(ErrInsufficientScope, "permission_denied", nil)
	}
	return nil
}

// CheckRole returns nil when p holds at least one of roles,
// ErrInsufficientScope when it holds none, and ErrUnavailable when the
// policy engine fails (fail closed). The roles are the Authorizer's answer
// when it implements RoleChecker, else the token's roles claim.
func (s *Service) CheckRole(ctx context.Context, p *Principal, roles ...string) error {
	rc, ok := s.authz.(RoleChecker)
	if !ok {
		for _, role := range roles {
			if p.HasRole(role) {
				return nil
			}
		}
		return newError(ErrInsufficientScope, "missing_role", nil)
	}
	has, err := rc.HasAnyRole(ctx, p, roles...)
	if err != nil {
		s.log.ErrorContext(ctx, "authguard: authorizer failed", slog.String("error", err.Error()))
		return newError(ErrUnavailable, "authorizer", err)
	}
	if !has {
		return newError(ErrInsufficientScope, "missing_role", nil)
	}
	return nil
}

// StaticAuthorizer maps a role to the permissions it grants, each written
// "object:action" (split at the last colon, so route patterns such as
// "/api/reports/:id:DELETE" work); "*" matches any object or action
// ("reports:*", "*:*").
// It is the simple default until a policy engine is plugged in; a nil map
// denies everything.
type StaticAuthorizer map[string][]string

// Authorize implements Authorizer.
func (a StaticAuthorizer) Authorize(_ context.Context, p *Principal, object, action string) (bool, error) {
	if p == nil {
		return false, nil
	}
	for _, r := range p.Roles {
		for _, perm := range a[r] {
			i := strings.LastIndexByte(perm, ':')
			if i < 0 {
				continue
			}
			obj, act, ok := perm[:i], perm[i+1:], true
			if ok && (obj == "*" || obj == object) && (act == "*" || act == action) {
				return true, nil
			}
		}
	}
	return false, nil
}

// RoleChange is one grant or revocation of a policy role, as the role
// administration hands it to its engine: who asks, from where, and what.
type RoleChange struct {
	// Actor is the authenticated caller, for the audit line.
	Actor *Principal
	// Client is the caller's address and user agent, for the audit line.
	Client ClientInfo
	// Subject is the account whose roles change.
	Subject string
	// Role is the role given or taken.
	Role string
}
