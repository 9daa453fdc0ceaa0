package rbac

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	pgstore "github.com/authguard/authguard/stores/postgres"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Dialect is the SQL dialect of a SQLAdapter's database.
type Dialect int

const (
	// SQLite is SQLite, through the driver stores/sqlite uses
	// (modernc.org/sqlite, driver name "sqlite").
	SQLite Dialect = iota + 1
	// PostgreSQL is PostgreSQL, through pgx's database/sql driver
	// (github.com/jackc/pgx/v5/stdlib; stdlib.OpenDBFromPool shares a
	// pgxpool.Pool with the store).
	PostgreSQL
)

// DefaultTable is the policy table the store modules' migrations create:
// "casbin_rule" in SQLite, and in PostgreSQL in the store's schema
// (pgstore's default: "authguard.casbin_rule").
const DefaultTable = "casbin_rule"

// maxRuleValues is the number of value columns, v0 to v5.
const maxRuleValues = 6

// VersionTable is the one-row table, in the schema of the policy table,
// that holds the policy's version (stores/sqlite from schema 4,
// stores/postgres from schema 3).
const VersionTable = "casbin_policy_version"

// SQLAdapter is a casbin adapter (persist.Adapter and BatchAdapter, with
// their context variants) over a database/sql handle, storing the policy in
// the table the store modules' migrations create (DefaultTable). Writes are
// idempotent: adding a rule that is stored already, or removing one that is
// not, succeeds. Every change, batch and SavePolicy is one transaction,
// which also adds one to the policy version (VersionTable) and, in
// PostgreSQL, announces it with pg_notify on Channel: a Watcher on every
// instance reloads the policy when it sees the version move. It is safe
// for concurrent use.
type SQLAdapter struct {
	noDeadline // casbin's methods without a context

	db      *sql.DB
	d       Dialect
	table   string // quoted
	channel string // PostgreSQL: pgstore.PolicyChannel(schema)

	load, insert, remove, bump, version string
}

var (
	_ persist.BatchAdapter        = (*SQLAdapter)(nil)
	_ persist.ContextBatchAdapter = (*SQLAdapter)(nil)
)

// NewSQLAdapter returns an adapter over db in dialect d, storing rules in
// table ("" for DefaultTable; "schema.table" for a PostgreSQL schema, such
// as "authguard.casbin_rule"). Table names are letters, digits and
// underscores. For SQLite, open db with the store's settings
// ("?_txlock=immediate&_busy_timeout=5000&_journal_mode=WAL"), so that its
// writes queue behind the store's instead of failing with SQLITE_BUSY.
func NewSQLAdapter(db *sql.DB, d Dialect, table string) (*SQLAdapter, error) {
	if db == nil {
		return nil, errors.New("rbac: NewSQLAdapter: nil *sql.DB")
	}
	if d != SQLite && d != PostgreSQL {
		return nil, fmt.Errorf("rbac: NewSQLAdapter: unknown dialect %d", d)
	}
	if table == "" {
		table = DefaultTable
	}
	parts := strings.Split(table, ".")
	if len(parts) > 2 || (len(parts) == 2 && d == SQLite) {
		return nil, fmt.Errorf("rbac: NewSQLAdapter: table %q: want name or, for PostgreSQL, schema.name", table)
	}
	for _, p := range parts {
		if !validIdent(p) {
			return nil, fmt.Errorf("rbac: NewSQLAdapter: table %q: %q is not a plain identifier", table, p)
		}
	}
	quote := func(ps ...string) string { return `"` + strings.Join(ps, `"."`) + `"` }
	a := &SQLAdapter{db: db, d: d, table: quote(parts...)}
	a.noDeadline = noDeadline{a}
	vtable := quote(VersionTable)
	if len(parts) == 2 {
		vtable = quote(parts[0], VersionTable)
	}
	a.version = "SELECT version FROM " + vtable + " WHERE id = 1"
	a.bump = "UPDATE " + vtable + " SET version = version + 1 WHERE id = 1 RETURNING version"
	if d == PostgreSQL {
		schema := "public" // where an unqualified name usually resolves
		if len(parts) == 2 {
			schema = parts[0]
		}
		a.channel = pgstore.PolicyChannel(schema)
	}
	cols := "ptype, v0, v1, v2, v3, v4, v5"
	a.load = "SELECT id, " + cols + " FROM " + a.table + " ORDER BY id"
	a.insert = "INSERT INTO " + a.table + " (" + cols + ") VALUES (" + a.params(1, 7, ", ") + ") ON CONFLICT DO NOTHING"
	a.remove = "DELETE FROM " + a.table + " WHERE " + a.match(1, []string{"ptype", "v0", "v1", "v2", "v3", "v4", "v5"})
	return a, nil
}

func validIdent(s string) bool {
	if s == "" || len(s) > 63 || ('0' <= s[0] && s[0] <= '9') {
		return false
	}
	for _, r := range s {
		if !(r == '_' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return false
		}
	}
	return true
}

// param is the n-th placeholder (from 1) of the dialect.
func (a *SQLAdapter) param(n int) string {
	if a.d == PostgreSQL {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// params lists placeholders from to last.
func (a *SQLAdapter) params(from, last int, sep string) string {
	ps := make([]string, 0, last-from+1)
	for n := from; n <= last; n++ {
		ps = append(ps, a.param(n))
	}
	return strings.Join(ps, sep)
}

// match is "c1 = p1 AND c2 = p2 ...", numbering from first.
func (a *SQLAdapter) match(first int, cols []string) string {
	conds := make([]string, len(cols))
	for i, c := range cols {
		conds[i] = c + " = " + a.param(first+i)
	}
	return strings.Join(conds, " AND ")
}

// row is ptype and the six values of rule, empty beyond its length.
func row(ptype string, rule []string) ([]any, error) {
	if ptype == "" {
		return nil, errors.New("rbac: empty policy type")
	}
	if len(rule) > maxRuleValues {
		return nil, fmt.Errorf("rbac: a %s rule of %d values (at most %d are stored)", ptype, len(rule), maxRuleValues)
	}
	args := make([]any, 1+maxRuleValues)
	args[0] = ptype
	for i := range maxRuleValues {
		args[1+i] = ""
		if i < len(rule) {
			args[1+i] = rule[i]
		}
	}
	return args, nil
}

// LoadPolicyCtx loads every stored rule into m, in the order they were added.
func (a *SQLAdapter) LoadPolicyCtx(ctx context.Context, m model.Model) error {
	rows, err := a.db.QueryContext(ctx, a.load)
	if err != nil {
		return fmt.Errorf("rbac: load policy: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		r := make([]string, 1+maxRuleValues)
		if err := rows.Scan(&id, &r[0], &r[1], &r[2], &r[3], &r[4], &r[5], &r[6]); err != nil {
			return fmt.Errorf("rbac: load policy: %w", err)
		}
		r = fitRule(m, r)
		if r[0] == "" || len(r) < 2 {
			return fmt.Errorf("rbac: load policy: row %d of %s has no policy type or no value", id, a.table)
		}
		if err := persist.LoadPolicyArray(r, m); err != nil {
			return fmt.Errorf("rbac: load policy: row %d of %s: %w", id, a.table, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("rbac: load policy: %w", err)
	}
	return nil
}

// fitRule returns the stored rule r (its policy type, then its values)
// with the width m's policy type has: trailing empty values are dropped,
// then empty values are added up to the model's number of fields, so that
// a rule whose last values are empty loads as it was stored (casbin wants
// a "p" rule of exactly the model's width). A type m does not define is
// returned without its trailing empty values.
func fitRule(m model.Model, r []string) []string {
	for len(r) > 1 && r[len(r)-1] == "" {
		r = r[:len(r)-1]
	}
	if r[0] == "" {
		return r
	}
	if ast, ok := m[r[0][:1]][r[0]]; ok {
		for len(r) < 1+len(ast.Tokens) {
			r = append(r, "")
		}
	}
	return r
}

// SavePolicyCtx replaces every stored rule with the rules of m, in one
// transaction.
func (a *SQLAdapter) SavePolicyCtx(ctx context.Context, m model.Model) error {
	return a.inTx(ctx, "save policy", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+a.table); err != nil {
			return err
		}
		for _, sec := range []string{"p", "g"} {
			ptypes := make([]string, 0, len(m[sec]))
			for ptype := range m[sec] {
				ptypes = append(ptypes, ptype)
			}
			slices.Sort(ptypes)
			for _, ptype := range ptypes {
				if err := a.exec(ctx, tx, a.insert, ptype, m[sec][ptype].Policy); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// AddPolicyCtx stores one rule (nothing if it is stored already).
func (a *SQLAdapter) AddPolicyCtx(ctx context.Context, _ string, ptype string, rule []string) error {
	return a.AddPoliciesCtx(ctx, "", ptype, [][]string{rule})
}

// RemovePolicyCtx deletes one rule (nothing if it is not stored).
func (a *SQLAdapter) RemovePolicyCtx(ctx context.Context, _ string, ptype string, rule []string) error {
	return a.RemovePoliciesCtx(ctx, "", ptype, [][]string{rule})
}

// AddPoliciesCtx stores rules in one transaction.
func (a *SQLAdapter) AddPoliciesCtx(ctx context.Context, _ string, ptype string, rules [][]string) error {
	return a.inTx(ctx, "add policy", func(tx *sql.Tx) error { return a.exec(ctx, tx, a.insert, ptype, rules) })
}

// RemovePoliciesCtx deletes rules in one transaction.
func (a *SQLAdapter) RemovePoliciesCtx(ctx context.Context, _ string, ptype string, rules [][]string) error {
	return a.inTx(ctx, "remove policy", func(tx *sql.Tx) error { return a.exec(ctx, tx, a.remove, ptype, rules) })
}

// RemoveFilteredPolicyCtx deletes the rules of ptype whose values from
// fieldIndex on equal fieldValues, an empty value matching anything.
func (a *SQLAdapter) RemoveFilteredPolicyCtx(ctx context.Context, _ string, ptype string, fieldIndex int, fieldValues ...string) error {
	if ptype == "" || fieldIndex < 0 || fieldIndex+len(fieldValues) > maxRuleValues {
		return fmt.Errorf("rbac: remove filtered policy: bad filter (type %q, fields %d to %d)", ptype, fieldIndex, fieldIndex+len(fieldValues)-1)
	}
	cols, args := []string{"ptype"}, []any{ptype}
	for i, v := range fieldValues {
		if v != "" {
			cols = append(cols, "v"+strconv.Itoa(fieldIndex+i))
			args = append(args, v)
		}
	}
	return a.inTx(ctx, "remove filtered policy", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM "+a.table+" WHERE "+a.match(1, cols), args...)
		return err
	})
}

// exec runs query once per rule of ptype in tx.
func (a *SQLAdapter) exec(ctx context.Context, tx *sql.Tx, query, ptype string, rules [][]string) error {
	stmt, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, rule := range rules {
		args, err := row(ptype, rule)
		if err != nil {
			return err
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// inTx runs f in a transaction that then adds one to the policy version
// (and in PostgreSQL announces it), committed when all that succeeds.
func (a *SQLAdapter) inTx(ctx context.Context, what string, f func(*sql.Tx) error) error {
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("rbac: %s: %w", what, err)
	}
	if err = f(tx); err == nil {
		_, err = a.bumpVersion(ctx, tx)
	}
	if err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("rbac: %s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("rbac: %s: %w", what, err)
	}
	return nil
}

// bumpVersion adds one to the policy version in tx, returns the new one
// and, in PostgreSQL, queues its announcement, which the server delivers
// when, and only if, tx commits.
func (a *SQLAdapter) bumpVersion(ctx context.Context, tx *sql.Tx) (int64, error) {
	var v int64
	err := tx.QueryRowContext(ctx, a.bump).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("no row in %s: is the store migrated?", VersionTable)
	}
	if err != nil || a.d != PostgreSQL {
		return v, err
	}
	_, err = tx.ExecContext(ctx, "SELECT pg_notify($1, $2)", a.channel, strconv.FormatInt(v, 10))
	return v, err
}

// PolicyVersion returns the stored policy's version, which every change
// through a SQLAdapter raises (a PolicyVersioner, for Watch).
func (a *SQLAdapter) PolicyVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := a.db.QueryRowContext(ctx, a.version).Scan(&v); err != nil {
		return 0, fmt.Errorf("rbac: policy version: %w", err)
	}
	return v, nil
}

// Channel returns the PostgreSQL LISTEN/NOTIFY channel on which every
// change is announced (pgstore.PolicyChannel of the table's schema,
// "public" for an unqualified table), and "" for SQLite, which has none.
func (a *SQLAdapter) Channel() string { return a.channel }

// Notifier returns the push channel of a PostgreSQL adapter for Watch (see
// WithNotifier): it listens on Channel on a dedicated connection made from
// pool's configuration (the store's pool), never one of pool's own. SQLite
// has no push channel: its watchers poll.
func (a *SQLAdapter) Notifier(pool *pgxpool.Pool) (PolicyNotifier, error) {
	if a.d != PostgreSQL || pool == nil {
		return nil, errors.New("rbac: SQLAdapter.Notifier: needs a PostgreSQL adapter and its pool")
	}
	return NotifierFunc(func(ctx context.Context, wake func()) error {
		return pgstore.WatchChannel(ctx, pool, a.channel, wake)
	}), nil
}
