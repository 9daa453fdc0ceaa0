package wire

import (
	"context"
	"net/url"
	"strings"

	"github.com/authguard/authguard/core"
)

// RoleAdmin is the engine behind the role administration endpoints: the
// rbac module's *rbac.RoleAdmin implements it. Its errors are the core's:
// core.ErrNotFound for an unknown subject (404), core.ErrInvalidRequest for
// a role the policy does not define (400), core.ErrUnavailable when the
// policy engine or its store fails (503). Grant and Revoke are idempotent.
type RoleAdmin interface {
	// Roles returns the roles given to subject, sorted.
	Roles(ctx context.Context, subject string) ([]string, error)
	// Grant gives c.Role to c.Subject.
	Grant(ctx context.Context, c core.RoleChange) error
	// Revoke takes c.Role from c.Subject.
	Revoke(ctx context.Context, c core.RoleChange) error
}

// The permissions that guard the role administration.
const (
	// RolesObject is the object of the role administration's permissions.
	RolesObject = "roles"
	// RolesRead is the action that lists a subject's roles.
	RolesRead = "read"
	// RolesWrite is the action that gives or takes a role.
	RolesWrite = "write"
)

// RoleAdminPath is the path under which the role administration is
// served, below the configured mount prefix ("/auth/admin/roles/"). Its
// routes are:
//
//	GET    {prefix}/admin/roles/{subject}         permission roles/read
//	PUT    {prefix}/admin/roles/{subject}/{role}  permission roles/write
//	DELETE {prefix}/admin/roles/{subject}/{role}  permission roles/write
//
// An adapter registers the three methods on RoleAdminPath followed by a
// catch-all and hands every request to ServeRoleAdmin, which reads the
// subject and the role from the path itself.
func (s *Server) RoleAdminPath() string { return s.prefix + "/admin/roles/" }

type rolesJSON struct {
	Subject string   `json:"subject"`
	Roles   []string `json:"roles"`
}

// ServeRoleAdmin answers one request of the role administration. method is
// the request's method, as routed (override headers are never read);
// escapedPath is the request's path as sent (percent-encoded). A path that
// is not exactly RoleAdminPath plus one segment (GET) or two (PUT, DELETE),
// each non-empty and no dot segment, is 404 before anything else; then the
// caller must hold the permission (roles/read or roles/write: 401 without
// a credential, 403 insufficient_scope with an audit line when denied, 503
// when the Authorizer fails), then a is asked.
func (s *Server) ServeRoleAdmin(ctx context.Context, a RoleAdmin, method string, r Request, escapedPath string) *Response {
	segs, ok := roleSegments(escapedPath, s.RoleAdminPath())
	action := RolesWrite
	switch {
	case !ok:
	case method == "GET" && len(segs) == 1:
		action = RolesRead
	case (method == "PUT" || method == "DELETE") && len(segs) == 2:
	default:
		ok = false
	}
	if !ok || a == nil {
		return s.ErrorResponse(newError(core.ErrNotFound, "unknown_role_path"))
	}
	p, resp := s.RequirePermission(RolesObject, action).Check(ctx, r, nil, nil)
	if resp != nil {
		return resp
	}
	if action == RolesRead {
		roles, err := a.Roles(ctx, segs[0])
		if err != nil {
			return s.ErrorResponse(err)
		}
		return jsonResponse(200, rolesJSON{Subject: segs[0], Roles: nonNil(roles)})
	}
	c := core.RoleChange{Actor: p, Client: s.ClientInfo(r), Subject: segs[0], Role: segs[1]}
	change := a.Grant
	if method == "DELETE" {
		change = a.Revoke
	}
	if err := change(ctx, c); err != nil {
		return s.ErrorResponse(err)
	}
	return noContent()
}

// roleSegments splits the escaped path after base into its decoded
// segments. It refuses a path outside base, an empty or dot segment, a
// segment that does not decode, and one that decodes to a slash or a
// control character: an encoded slash never moves a segment boundary.
func roleSegments(escapedPath, base string) ([]string, bool) {
	rest, ok := strings.CutPrefix(escapedPath, base)
	if !ok || rest == "" {
		return nil, false
	}
	raw := strings.Split(rest, "/")
	if len(raw) > 2 {
		return nil, false
	}
	out := make([]string, 0, len(raw))
	for _, seg := range raw {
		v, err := url.PathUnescape(seg)
		if err != nil || v == "" || v == "." || v == ".." || strings.ContainsFunc(v, badSegmentRune) {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

func badSegmentRune(r rune) bool { return r == '/' || r == ';' || r < 0x20 || r == 0x7f }
