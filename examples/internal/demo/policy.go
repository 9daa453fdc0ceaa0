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
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// Policy sources reported by PolicySource.
const (
	// PolicyInStore: the casbin policy lives in the store (the casbin_rule
	// table of SQLite or PostgreSQL, the <prefix>{casbin}:rules key of
	// Redis), seeded on the first start; a role given or taken through the
	// administration survives a restart and reaches every instance on the
	// store within a second.
	PolicyInStore = "store"
	// PolicyEmbedded: the memory store keeps no policy; it is
	// rbac.DefaultPolicy plus the demo users' roles, built at every start,
	// and role changes live in this process only (a memory store has one
	// instance anyway).
	PolicyEmbedded = "embedded"
)

// policyBackend is where the store keeps the casbin policy: a database/sql
// handle on the store's database (SQLite, PostgreSQL, with the pool for
// PostgreSQL's LISTEN) or the store's Redis client and key prefix. The zero
// value (memory store) keeps none.
type policyBackend struct {
	db      *sql.DB
	dialect rbac.Dialect
	table   string
	pool    *pgxpool.Pool

	redis  redis.UniversalClient
	prefix string
}

// storedPolicy is what the demo needs of a policy adapter: casbin's
// adapter with context-aware batches, a version for the watcher, and an
// atomic first seed (rbac.SQLAdapter, rbac.RedisAdapter).
type storedPolicy interface {
	persist.BatchAdapter
	persist.ContextBatchAdapter
	rbac.PolicyVersioner
	rbac.PolicySeeder
}

// adapter returns the adapter on the stored policy and the options of its
// watcher, or nil when the store keeps no policy.
func (b policyBackend) adapter() (storedPolicy, []rbac.WatchOption, error) {
	switch {
	case b.db != nil:
		sa, err := rbac.NewSQLAdapter(b.db, b.dialect, b.table)
		if err != nil || b.pool == nil {
			return sa, nil, err // SQLite: polling
		}
		push, err := sa.Notifier(b.pool)
		return sa, []rbac.WatchOption{rbac.WithNotifier(push)}, err
	case b.redis != nil:
		ra, err := rbac.NewRedisAdapter(b.redis, b.prefix)
		return ra, nil, err // its own pub/sub
	}
	return nil, nil, nil
}

// openPolicy builds the casbin enforcer of the demo API (rbac.ModelRBAC,
// rbac.DefaultPolicy: user may read reports; admin inherits user and may
// also delete reports, read stats and read and write roles) with the demo
// users' roles as "g, <user id>, <role>" lines. On SQLite, PostgreSQL and
// Redis the policy is the store's, seeded when it holds no rule, and a
// watcher keeps this instance in step with the changes of the others; on
// the memory store it is built from the embedded text.
func (a *App) openPolicy(ctx context.Context) (*rbac.Authorizer, error) {
	seed, created, err := seedPolicy(ctx, a.store, a.DemoUsersCreated)
	if err != nil {
		return nil, err
	}
	sp, watchOpts, err := a.policy.adapter()
	if err != nil {
		return nil, fmt.Errorf("demo: policy adapter: %w", err)
	}
	var ad persist.Adapter = rbac.PolicyFromString(seed)
	a.PolicySource = PolicyEmbedded
	if sp != nil {
		if err := seedStoredPolicy(ctx, sp, seed, created); err != nil {
			return nil, err
		}
		ad, a.PolicySource = sp, PolicyInStore
	}
	e, err := rbac.NewEnforcer(rbac.ModelRBAC, ad)
	if err != nil {
		return nil, fmt.Errorf("demo: policy: %w", err)
	}
	authz, err := rbac.New(e)
	if err != nil {
		return nil, fmt.Errorf("demo: policy: %w", err)
	}
	if sp != nil {
		opts := append(watchOpts, rbac.WithWatchLogger(a.Logger))
		if a.watcher, err = rbac.Watch(authz, sp, opts...); err != nil {
			return nil, fmt.Errorf("demo: policy watcher: %w", err)
		}
	}
	return authz, nil
}

// seedPolicy is rbac.DefaultPolicy plus a "g" line per role of each demo
// user found in the store; created lists those lines too when this start
// created the demo users (nil otherwise).
func seedPolicy(ctx context.Context, users store.Users, demoUsersCreated bool) (string, [][]string, error) {
	var b strings.Builder
	var created [][]string
	b.WriteString(rbac.DefaultPolicy)
	for _, du := range DemoUsers {
		u, err := users.UserByEmail(ctx, core.NormalizeEmail(du.Email))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return "", nil, fmt.Errorf("demo: looking up demo user %s: %w", du.Email, err)
		}
		for _, role := range du.Roles {
			fmt.Fprintf(&b, "g, %s, %s\n", u.ID, role)
			if demoUsersCreated {
				created = append(created, []string{u.ID, role})
			}
		}
	}
	return b.String(), created, nil
}

// seedStoredPolicy stores seed when the store holds no rule yet, in one
// atomic step (rbac.PolicySeeder): instances starting together store it
// once, and a policy changed through the administration is never written
// over. An instance that has just created the demo users also stores their
// roles (created), idempotently: another instance that started at the same
// time may have seeded before those users existed.
func seedStoredPolicy(ctx context.Context, sp storedPolicy, seed string, created [][]string) error {
	m, err := seedModel(seed)
	if err != nil {
		return fmt.Errorf("demo: seeding the policy: %w", err)
	}
	seeded, err := sp.SeedPolicyCtx(ctx, m)
	if err != nil {
		return fmt.Errorf("demo: seeding the policy: %w", err)
	}
	if seeded || len(created) == 0 {
		return nil
	}
	if err := sp.AddPoliciesCtx(ctx, "g", "g", created); err != nil {
		return fmt.Errorf("demo: storing the demo users' roles: %w", err)
	}
	return nil
}

// seedModel parses a policy text into a model of rbac.ModelRBAC.
func seedModel(seed string) (model.Model, error) {
	e, err := rbac.NewEnforcer(rbac.ModelRBAC, rbac.PolicyFromString(seed))
	if err != nil {
		return nil, err
	}
	return e.GetModel(), nil
}
