package rbac

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/store"
	"github.com/casbin/casbin/v2/persist"
)

// RoleEditor is the part of a casbin enforcer the role administration
// uses; casbin's *Enforcer, *SyncedEnforcer and *CachedEnforcer implement
// it. With auto-save on (casbin's default), every change is written through
// the enforcer's adapter before it is applied in memory.
type RoleEditor interface {
	Enforcer
	// GetRolesForUser returns the roles given to name directly.
	GetRolesForUser(name string, domain ...string) ([]string, error)
	// AddRoleForUser gives role to user; false when it was held already.
	AddRoleForUser(user, role string, domain ...string) (bool, error)
	// DeleteRoleForUser takes role from user; false when it was not held.
	DeleteRoleForUser(user, role string, domain ...string) (bool, error)
	// GetAllSubjects returns the subjects of the permission rules.
	GetAllSubjects() ([]string, error)
	// GetAllRoles returns the roles of the role rules.
	GetAllRoles() ([]string, error)
}

// SubjectFunc reports whether subject is a known account. An error is an
// outage of the directory (503), not an unknown subject.
type SubjectFunc func(ctx context.Context, subject string) (bool, error)

// SubjectsFromStore is the SubjectFunc of an authguard user store: a
// subject is known when UserByID finds it.
func SubjectsFromStore(users store.Users) SubjectFunc {
	return func(ctx context.Context, subject string) (bool, error) {
		_, err := users.UserByID(ctx, subject)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, store.ErrNotFound):
			return false, nil
		default:
			return false, err
		}
	}
}

// RoleChange is one grant or revocation: who asks, from where, and what
// (core.RoleChange, the type the HTTP role administration hands over).
type RoleChange = core.RoleChange

// RoleAdmin lists, gives and takes the policy roles of subjects, the logic
// behind the role administration endpoints (GET, PUT and DELETE
// /auth/admin/roles/{subject}[/{role}]) without a transport. Its errors
// are the core's: core.ErrNotFound for an unknown subject (404),
// core.ErrInvalidRequest for a role the policy does not define, or a
// subject that is itself one of its roles (400), and
// core.ErrUnavailable when the enforcer, its adapter or the directory
// fails (503). Every change, and every refused change, writes an audit line
// through the service. It is safe for concurrent use.
type RoleAdmin struct {
	svc   *core.Service
	a     *Authorizer
	e     RoleEditor
	known SubjectFunc
}

// NewRoleAdmin returns the role administration of a's policy, edited
// through a's enforcer (which must be a RoleEditor, as casbin's are), with
// the subjects known to known; svc writes the audit lines. Roles within
// domains are not administered: a must not use WithDomain.
func NewRoleAdmin(svc *core.Service, a *Authorizer, known SubjectFunc) (*RoleAdmin, error) {
	if svc == nil || a == nil || known == nil {
		return nil, errors.New("rbac: NewRoleAdmin: service, authorizer and subject function are required")
	}
	if a.opts.domain != nil {
		return nil, errors.New("rbac: NewRoleAdmin: roles within domains are not administered")
	}
	e, ok := a.e.(RoleEditor)
	if !ok {
		return nil, fmt.Errorf("rbac: NewRoleAdmin: the enforcer (%T) cannot edit roles", a.e)
	}
	return &RoleAdmin{svc: svc, a: a, e: e, known: known}, nil
}

// Roles returns the roles given to subject directly, sorted (inherited
// roles are the policy's business). An unknown subject is core.ErrNotFound.
func (r *RoleAdmin) Roles(ctx context.Context, subject string) ([]string, error) {
	if err := r.checkSubject(ctx, subject); err != nil {
		return nil, err
	}
	roles, err := r.e.GetRolesForUser(subject)
	if err != nil {
		return nil, unavailable("roles", err)
	}
	roles = append([]string{}, roles...)
	slices.Sort(roles)
	return slices.Compact(roles), nil
}

// Grant gives c.Role to c.Subject; giving a role already held succeeds.
// The grant is stored even when this instance has not yet reloaded another
// instance's revocation of it.
func (r *RoleAdmin) Grant(ctx context.Context, c RoleChange) error {
	return r.change(ctx, "role_granted", c, r.add)
}

// add gives role to user. casbin writes a rule to the adapter only when its
// memory lacks it; when its memory holds it and the policy is one that
// other instances change (its adapter is a PolicyVersioner), the rule may
// be one another instance has removed from the store since this one last
// loaded it, so the stored policy is loaded again and the rule added to
// that. A policy kept in memory only (PolicyFromString) is never reloaded
// here: that would undo the changes made since it was loaded.
func (r *RoleAdmin) add(user, role string, _ ...string) (bool, error) {
	added, err := r.e.AddRoleForUser(user, role)
	if added || err != nil {
		return added, err
	}
	if a, ok := r.e.(interface{ GetAdapter() persist.Adapter }); !ok {
		return false, nil
	} else if _, shared := a.GetAdapter().(PolicyVersioner); !shared {
		return false, nil
	}
	if err := r.e.LoadPolicy(); err != nil {
		return false, err
	}
	return r.e.AddRoleForUser(user, role)
}

// Revoke takes c.Role from c.Subject; taking a role not held succeeds. The
// subject's next request is decided without it, on this instance at once.
func (r *RoleAdmin) Revoke(ctx context.Context, c RoleChange) error {
	return r.change(ctx, "role_revoked", c, r.e.DeleteRoleForUser)
}

// change validates c, applies it with apply, empties the decision cache
// and audits the outcome.
func (r *RoleAdmin) change(ctx context.Context, event string, c RoleChange, apply func(user, role string, domain ...string) (bool, error)) error {
	err := r.checkSubject(ctx, c.Subject)
	if err == nil {
		err = r.checkRole(c.Subject, c.Role)
	}
	changed := false
	if err == nil {
		r.a.edit.Lock() // never between a Reload's read and its apply
		changed, err = apply(c.Subject, c.Role)
		r.a.PolicyChanged() // also after a failure: the enforcer may have half-applied it
		r.a.edit.Unlock()
		if err != nil {
			err = unavailable("change role", err)
		}
	}
	actor, sid := "", ""
	if c.Actor != nil {
		actor, sid = c.Actor.Subject, c.Actor.SessionID
	}
	attrs := []slog.Attr{slog.String("target", c.Subject), slog.String("role", c.Role), slog.Bool("changed", changed)}
	if err != nil {
		r.svc.Audit(ctx, "role_change_refused", err, c.Client, actor, sid, append(attrs, slog.String("change", event))...)
		return err
	}
	r.svc.Audit(ctx, event, nil, c.Client, actor, sid, attrs...)
	return nil
}

// checkSubject refuses a subject the directory does not know.
func (r *RoleAdmin) checkSubject(ctx context.Context, subject string) error {
	if subject == "" || len(subject) > 256 {
		return &core.Error{Kind: core.ErrNotFound, Reason: "unknown_subject"}
	}
	ok, err := r.known(ctx, subject)
	if err != nil {
		return unavailable("subject lookup", err)
	}
	if !ok {
		return &core.Error{Kind: core.ErrNotFound, Reason: "unknown_subject"}
	}
	return nil
}

// checkRole refuses a role that is no role of the policy (a name that
// permission rules are given to, or that role rules give), and a subject
// that is one: a role is no account, and changing its roles would change
// those of everyone who holds it (giving "admin" to a subject named "user"
// would make every user an admin).
func (r *RoleAdmin) checkRole(subject, role string) error {
	subjects, err := r.e.GetAllSubjects()
	if err != nil {
		return unavailable("roles", err)
	}
	roles, err := r.e.GetAllRoles()
	if err != nil {
		return unavailable("roles", err)
	}
	isRole := func(name string) bool { return slices.Contains(subjects, name) || slices.Contains(roles, name) }
	if role == "" || !isRole(role) {
		return &core.Error{Kind: core.ErrInvalidRequest, Reason: "unknown_role"}
	}
	if isRole(subject) {
		return &core.Error{Kind: core.ErrInvalidRequest, Reason: "subject_is_role"}
	}
	return nil
}

func unavailable(what string, err error) error {
	return &core.Error{Kind: core.ErrUnavailable, Reason: "policy", Err: fmt.Errorf("rbac: %s: %w", what, err)}
}
