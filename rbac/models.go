package rbac

import (
	"errors"
	"fmt"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	stringadapter "github.com/casbin/casbin/v2/persist/string-adapter"
)

// ModelRBAC is the casbin model of role-based access with role inheritance:
// a request is (subject, object, action); a policy line "p, role, object,
// action" allows it when the subject holds role, directly or through "g,
// subject, role" and "g, role, parent" lines. Objects and actions match
// exactly (for route guards: the route pattern and the HTTP method).
const ModelRBAC = `[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act
`

// ModelDomains is ModelRBAC per tenant (casbin's "domain"): a request is
// (subject, domain, object, action), roles are granted within a domain with
// "g, subject, role, domain", and "p, role, domain, object, action" allows.
// An Authorizer over it needs WithDomain to name a request's domain.
const ModelDomains = `[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.obj == p.obj && r.act == p.act
`

// DefaultPolicy is the policy of the examples, for ModelRBAC: user may read
// reports; admin inherits user and may also delete reports, read stats, and
// read and write roles (the role administration). Subjects get their roles
// with lines "g, <subject>, <role>".
const DefaultPolicy = `p, user, reports, read
p, admin, reports, delete
p, admin, stats, read
p, admin, roles, read
p, admin, roles, write
g, admin, user
`

// PolicyFromString returns a read-only casbin adapter over policy text in
// casbin's CSV form (one rule a line, "#" starts a comment), such as
// DefaultPolicy: changes made through the enforcer stay in its memory, and
// a reload reads the text again. For a policy file use casbin's file
// adapter (github.com/casbin/casbin/v2/persist/file-adapter).
func PolicyFromString(policy string) persist.Adapter {
	return textPolicy{stringadapter.NewAdapter(policy)}
}

// textPolicy is casbin's string adapter with its single changes refused
// the way casbin's enforcers read as "keep the change in memory only" (the
// string adapter's own RemovePolicy empties the text, after which every
// reload fails).
type textPolicy struct{ *stringadapter.Adapter }

// errNotImplemented is the error text casbin's enforcers ignore from an
// adapter that does not store changes.
var errNotImplemented = errors.New("not implemented")

// AddPolicy keeps the text as it is.
func (textPolicy) AddPolicy(string, string, []string) error { return errNotImplemented }

// RemovePolicy keeps the text as it is.
func (textPolicy) RemovePolicy(string, string, []string) error { return errNotImplemented }

// RemoveFilteredPolicy keeps the text as it is.
func (textPolicy) RemoveFilteredPolicy(string, string, int, ...string) error {
	return errNotImplemented
}

// NewEnforcer returns a casbin SyncedEnforcer (safe while the policy
// changes under load) over the model text (ModelRBAC, ModelDomains or your
// own) and the policy adapter a, whose policy it loads. A nil a starts with
// an empty policy, which denies everything.
func NewEnforcer(modelText string, a persist.Adapter) (*casbin.SyncedEnforcer, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("rbac: model: %w", err)
	}
	var e *casbin.SyncedEnforcer
	if a == nil {
		e, err = casbin.NewSyncedEnforcer(m)
	} else {
		e, err = casbin.NewSyncedEnforcer(m, a)
	}
	if err != nil {
		return nil, fmt.Errorf("rbac: enforcer: %w", err)
	}
	return e, nil
}
