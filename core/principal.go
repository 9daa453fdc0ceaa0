package core

import (
	"context"
	"slices"
	"time"
)

// Principal is the authenticated caller of a guarded request. The one
// Service.Authenticate returns for a cached token is shared by every
// request presenting that token, concurrently: treat it as read-only.
type Principal struct {
	// Subject is the user id (sub).
	Subject string
	// SessionID is the session the access token belongs to (sid).
	SessionID string
	// Roles are the roles the token carries.
	Roles []string
	// Tenant is the tenant the account belongs to (the token's "tenant"
	// claim, from Identity.Tenant at login or refresh); empty when the
	// token names none.
	Tenant string
	// TokenID is the access token's jti.
	TokenID string
	// IssuedAt, ExpiresAt and AuthTime come from iat, exp and auth_time.
	IssuedAt  time.Time
	ExpiresAt time.Time
	AuthTime  time.Time
}

// HasRole reports whether the principal carries role.
func (p *Principal) HasRole(role string) bool {
	return p != nil && slices.Contains(p.Roles, role)
}

type principalKey struct{}

// ContextWithPrincipal returns a copy of ctx carrying p.
func ContextWithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFromContext returns the principal a guard stored in ctx, if any.
func PrincipalFromContext(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}
