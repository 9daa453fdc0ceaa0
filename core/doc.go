// Package core is the engine of authguard, a token authentication toolkit for
// Go servers built on gin, fiber, chi or plain net/http: login, short-lived JWT
// access tokens, opaque refresh tokens with rotation and reuse detection,
// logout, multi-device sessions, route guards and role or permission checks.
//
// A team talks to one value, [Service], made by [New] from a [Config]. It
// knows no transport: adapters turn HTTP requests into calls of its methods
// and write back what it decides. Where each concern lives:
//
//   - this package: the Service and its use cases, one file each: login and
//     its throttle (login.go, throttle.go), refresh and the session state
//     machine (refresh.go, lineage.go, refreshtoken.go, repairs.go), logout
//     and the session list (sessions.go), guards' authentication and
//     liveness (authenticate.go, liveness.go), authorization (authorize.go);
//     plus Config, the errors (errors.go) and the audit log (audit.go);
//   - core/token: access tokens: keys, PEM, the key set and its rotation,
//     JWKS, signing and strict verification;
//   - core/password: Argon2id password hashing and the password
//     authenticator over a user store;
//   - core/wire: the HTTP contract without a transport: the request view an
//     adapter fills in, the responses, the endpoints, bearer parsing, client
//     IP, cookies and CSRF, and the one guard composition every adapter calls;
//   - core/httpauth: the net/http adapter (chi and gin build on it; fiber has
//     its own module);
//   - core/store: the store interfaces and their contract; core/memstore: the
//     reference in-memory store;
//   - core/storetest, core/adaptertest, core/authtest: the conformance suites
//     every store and adapter runs, and test fixtures.
//
// Errors are values: match the sentinels ([ErrInvalidGrant],
// [ErrUnavailable], ...) with errors.Is; an [*Error] carries the reason, which
// goes to the log and never to the client.
package core
