package rbacquickstart

import (
	"context"
	"database/sql"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/rbac"
	sqlitestore "github.com/authguard/authguard/stores/sqlite"
)

// NewService builds the service of every router's quick start: st is the
// SQLite store (its migrations create the policy table casbin_rule), db a
// database/sql handle on the same file, cfg the usual configuration
// (Issuer, Audience, Keys, Store, Authenticator).
func NewService(ctx context.Context, st *sqlitestore.Store, db *sql.DB, cfg core.Config) (*core.Service, *rbac.RoleAdmin, error) {
	ad, err := rbac.NewSQLAdapter(db, rbac.SQLite, "") // PostgreSQL: rbac.PostgreSQL, "authguard.casbin_rule"
	if err != nil {
		return nil, nil, err
	}
	e, err := rbac.NewEnforcer(rbac.ModelRBAC, ad) // loads the stored policy
	if err != nil {
		return nil, nil, err
	}
	authz, err := rbac.New(e) // decision cache on; every policy change empties it
	if err != nil {
		return nil, nil, err
	}
	cfg.Authorizer = authz // RequirePermission, AuthorizeRoute and RequireRole ask the policy
	svc, err := core.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	roles, err := rbac.NewRoleAdmin(svc, authz, rbac.SubjectsFromStore(st))
	if err != nil {
		svc.Close()
		return nil, nil, err
	}
	return svc, roles, nil
}
