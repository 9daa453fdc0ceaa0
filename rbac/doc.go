// Package rbac enforces casbin role-based policies behind authguard's
// core.Authorizer. It is the only part of authguard that imports casbin.
//
// An [Authorizer] answers RequirePermission and route guards with casbin's
// Enforce, and RequireRole from the policy's roles (core.RoleChecker), not
// from the access token: a role removed in the policy is refused on the next
// request although the token still lists it. It denies by default, turns an
// enforcer error into an error (which the core answers with 503), and keeps
// a bounded cache of decisions that every policy change empties.
//
// Two models are ready: [ModelRBAC] (subject, object, action, with role
// inheritance) and [ModelDomains] (the same per tenant, the tenant of a
// request named by a [DomainFunc]). Policies come from a string
// ([DefaultPolicy]), a file (casbin's file adapter) or the application's
// SQLite or PostgreSQL database ([SQLAdapter], whose table the store modules'
// migrations create).
package rbac
