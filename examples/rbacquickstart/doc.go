// Package rbacquickstart is the quick start of the rbac module's README, per
// router: the authorizer built from the policy in the store's database, set
// as core.Config.Authorizer, the role administration mounted, and routes
// guarded by RequirePermission and AuthorizeRoute. The README shows the
// bodies of NewService, Chi, Gin and Fiber as they are (a test compares
// them), and the tests serve real requests through each router.
//
// It lives in the examples module because the adapters do not import rbac
// (only rbac and the examples import casbin), and the rbac module does not
// require the routers.
package rbacquickstart
