package rbac

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/casbin/casbin/v2/model"
	"github.com/redis/go-redis/v9"
)

// PolicySeeder stores a first policy when none was ever stored (SQLAdapter
// and RedisAdapter implement it): what an app does on its first start,
// without ever overwriting, or filling again, a policy that instances have
// changed since.
type PolicySeeder interface {
	SeedPolicyCtx(ctx context.Context, m model.Model) (bool, error)
}

var (
	_ PolicySeeder = (*SQLAdapter)(nil)
	_ PolicySeeder = (*RedisAdapter)(nil)
)

// errNotEmpty ends a seeding transaction that found rules stored.
var errNotEmpty = errors.New("rbac: a policy is stored")

// modelRules lists the rules of m, section p then g, policy types sorted.
func modelRules(m model.Model, f func(ptype string, rules [][]string) error) error {
	for _, sec := range []string{"p", "g"} {
		ptypes := make([]string, 0, len(m[sec]))
		for ptype := range m[sec] {
			ptypes = append(ptypes, ptype)
		}
		slices.Sort(ptypes)
		for _, ptype := range ptypes {
			if err := f(ptype, m[sec][ptype].Policy); err != nil {
				return err
			}
		}
	}
	return nil
}

// SeedPolicyCtx stores the rules of m if the policy was never changed (its
// version is 0) and the table holds no rule, and reports whether it did.
// It is one transaction that first raises the policy version (in
// PostgreSQL that locks the version row, in SQLite the database), then
// counts the rules: instances seeding at once store the rules once, the
// first one through, and a policy stored meanwhile, changed since or not,
// is never overwritten, not even one emptied since (nobody may do
// anything), which a later start would otherwise fill again. A seed is
// announced as any change.
func (a *SQLAdapter) SeedPolicyCtx(ctx context.Context, m model.Model) (bool, error) {
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("rbac: seed policy: %w", err)
	}
	v, err := a.bumpVersion(ctx, tx)
	if err == nil && v > 1 {
		err = errNotEmpty // changed since the store was made: maybe emptied on purpose
	}
	if err == nil {
		err = a.seedTx(ctx, tx, m)
	}
	if err != nil {
		_ = tx.Rollback()
		if errors.Is(err, errNotEmpty) {
			return false, nil
		}
		return false, fmt.Errorf("rbac: seed policy: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("rbac: seed policy: %w", err)
	}
	return true, nil
}

// seedTx stores m's rules in tx, or returns errNotEmpty when rules are
// stored.
func (a *SQLAdapter) seedTx(ctx context.Context, tx *sql.Tx, m model.Model) error {
	var stored bool
	if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM "+a.table+")").Scan(&stored); err != nil {
		return err
	}
	if stored {
		return errNotEmpty
	}
	return modelRules(m, func(ptype string, rules [][]string) error {
		return a.exec(ctx, tx, a.insert, ptype, rules)
	})
}

// seedScript stores the rules (ARGV from 2) when none is stored and the
// policy never changed (no version), then adds one to the version and
// publishes it on ARGV[1]. KEYS rules, seq, version. Returns 1 when it
// stored them, 0 when rules were stored already or have changed since.
var seedScript = redis.NewScript(`
if redis.call('ZCARD', KEYS[1]) > 0 or tonumber(redis.call('GET', KEYS[3]) or '0') > 0 then return 0 end
for i = 2, #ARGV do
  if not redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[2]), ARGV[i])
  end
end
redis.call('PUBLISH', ARGV[1], redis.call('INCR', KEYS[3]))
return 1
`)

// SeedPolicyCtx stores the rules of m if no rule is stored and the policy
// was never changed (no version), and reports whether it did: one script,
// so instances seeding at once store the rules once, and a policy stored
// meanwhile, changed since or not, is never overwritten, not even one
// emptied since. A seed is announced as any change.
func (a *RedisAdapter) SeedPolicyCtx(ctx context.Context, m model.Model) (bool, error) {
	argv := []any{a.channel}
	err := modelRules(m, func(ptype string, rules [][]string) error {
		rs, err := encodeRules(ptype, rules)
		for _, r := range rs {
			argv = append(argv, r)
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("rbac: seed policy: %w", err)
	}
	n, err := seedScript.Run(ctx, a.c, []string{a.rules, a.seq, a.version}, argv...).Int()
	if err != nil {
		return false, fmt.Errorf("rbac: seed policy: %w", err)
	}
	return n == 1, nil
}
