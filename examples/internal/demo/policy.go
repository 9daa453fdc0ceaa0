package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/rbac"
	"github.com/casbin/casbin/v2/persist"
)

// Policy sources reported by PolicySource.
const (
	// PolicyInStore: the casbin policy lives in the store's database (the
	// casbin_rule table of SQLite or PostgreSQL), seeded on first start; a
	// role given or taken through the administration survives a restart.
	PolicyInStore = "store"
	// PolicyEmbedded: the memory and Redis stores have no policy table; the
	// policy is rbac.DefaultPolicy plus the demo users' roles, built at every
	// start, and role changes live in this process only.
	PolicyEmbedded = "embedded"
)

// policyDB is the database/sql handle on the store's database that the
// casbin adapter uses (nil for the stores without a policy table).
type policyDB struct {
	db      *sql.DB
	dialect rbac.Dialect
	table   string
}

// openPolicy builds the casbin enforcer of the demo API (rbac.ModelRBAC,
// rbac.DefaultPolicy: user may read reports; admin inherits user and may
// also delete reports, read stats and read and write roles) with the demo
// users' roles as "g, <user id>, <role>" lines. On SQLite and PostgreSQL the
// policy is read from the store's casbin_rule table and seeded there when
// the table is empty; otherwise it is built from the embedded text.
func (a *App) openPolicy(ctx context.Context) (*rbac.Authorizer, error) {
	seed, err := seedPolicy(ctx, a.store)
	if err != nil {
		return nil, err
	}
	var ad persist.Adapter = rbac.PolicyFromString(seed)
	a.PolicySource = PolicyEmbedded
	if a.policy.db != nil {
		sa, err := rbac.NewSQLAdapter(a.policy.db, a.policy.dialect, a.policy.table)
		if err != nil {
			return nil, fmt.Errorf("demo: policy adapter: %w", err)
		}
		if err := seedStoredPolicy(ctx, sa, seed); err != nil {
			return nil, err
		}
		ad, a.PolicySource = sa, PolicyInStore
	}
	e, err := rbac.NewEnforcer(rbac.ModelRBAC, ad)
	if err != nil {
		return nil, fmt.Errorf("demo: policy: %w", err)
	}
	authz, err := rbac.New(e)
	if err != nil {
		return nil, fmt.Errorf("demo: policy: %w", err)
	}
	return authz, nil
}

// seedPolicy is rbac.DefaultPolicy plus a "g" line per role of each demo
// user found in the store.
func seedPolicy(ctx context.Context, users store.Users) (string, error) {
	var b strings.Builder
	b.WriteString(rbac.DefaultPolicy)
	for _, du := range DemoUsers {
		u, err := users.UserByEmail(ctx, core.NormalizeEmail(du.Email))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("demo: looking up demo user %s: %w", du.Email, err)
		}
		for _, role := range du.Roles {
			fmt.Fprintf(&b, "g, %s, %s\n", u.ID, role)
		}
	}
	return b.String(), nil
}

// seedStoredPolicy writes seed into the policy table when the table holds
// no rule yet. Two instances starting together write the same rules, and
// the adapter's writes are idempotent.
func seedStoredPolicy(ctx context.Context, sa *rbac.SQLAdapter, seed string) error {
	stored, err := rbac.NewEnforcer(rbac.ModelRBAC, sa)
	if err != nil {
		return fmt.Errorf("demo: reading the stored policy: %w", err)
	}
	p, err := stored.GetPolicy()
	if err != nil {
		return fmt.Errorf("demo: reading the stored policy: %w", err)
	}
	g, err := stored.GetGroupingPolicy()
	if err != nil {
		return fmt.Errorf("demo: reading the stored policy: %w", err)
	}
	if len(p)+len(g) > 0 {
		return nil
	}
	fresh, err := rbac.NewEnforcer(rbac.ModelRBAC, rbac.PolicyFromString(seed))
	if err != nil {
		return fmt.Errorf("demo: seeding the policy: %w", err)
	}
	if err := sa.SavePolicyCtx(ctx, fresh.GetModel()); err != nil {
		return fmt.Errorf("demo: seeding the policy: %w", err)
	}
	return nil
}
