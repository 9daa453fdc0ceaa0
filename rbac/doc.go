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
// SQLite or PostgreSQL database ([SQLAdapter], whose tables the store
// modules' migrations create) or Redis ([RedisAdapter]).
//
// [Watch] keeps every instance's policy in step with the stored one: each
// change through those adapters raises a stored version (and announces it
// with pg_notify or PUBLISH); the [Watcher] reads the version on every push
// and every poll interval, reloads when it moved, and makes decisions fail
// ([ErrPolicyStale], 503) rather than allow on a policy it could not check
// for longer than the maximal staleness.
package rbac
