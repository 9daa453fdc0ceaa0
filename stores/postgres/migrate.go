package pgstore

import (
	"context"
	"embed"
	"fmt"
	"strings"

	"github.com/authguard/authguard/core/store/migration"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// SchemaVersion is the schema version this release migrates to (the number of
// the last embedded migration).
const SchemaVersion = 3

// migrationLockKey is the first key of the advisory lock New takes while it
// migrates; the second is hashtext(schema name), so stores in different
// schemas migrate independently.
const migrationLockKey = 0x61677367 // "agsg"

// migrations returns the embedded migrations in version order.
func migrations() ([]migration.File, error) { return migration.Load(migrationFS, "migrations") }

// migrate creates the schema if needed and brings it to SchemaVersion, in one
// transaction that first takes a transaction-scoped advisory lock: of several
// instances starting at once, one migrates and the others wait for its
// commit, then find nothing to do. It refuses a schema whose version is newer
// than SchemaVersion with ErrSchemaTooNew.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if len(ms) != SchemaVersion {
		return fmt.Errorf("pgstore: %d embedded migrations, SchemaVersion is %d", len(ms), SchemaVersion)
	}
	schema := pgx.Identifier{s.opts.schema}.Sanitize()
	applied := 0
	err = s.write(ctx, "migrate", func(ctx context.Context) error {
		applied = 0
		return s.inTx(ctx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, migrationLockKey, s.opts.schema); err != nil {
				return err
			}
			if err := createVersionTable(ctx, tx, schema); err != nil {
				return err
			}
			var cur int
			if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+schema+`.schema_version`).Scan(&cur); err != nil {
				return err
			}
			if cur > len(ms) {
				return fmt.Errorf("%w (schema %s is at version %d, this release knows %d)", ErrSchemaTooNew, s.opts.schema, cur, len(ms))
			}
			for _, m := range ms[cur:] {
				if _, err := tx.Exec(ctx, strings.ReplaceAll(m.SQL, "{{schema}}", schema)); err != nil {
					return fmt.Errorf("migration %s: %w", m.Name, err)
				}
				if _, err := tx.Exec(ctx, `INSERT INTO `+schema+`.schema_version (version) VALUES ($1)`, m.Version); err != nil {
					return err
				}
				applied++
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	s.migrated = applied
	return nil
}

// createVersionTable creates the schema and its schema_version table if they
// do not exist. It checks first, so that a role without CREATE privileges can
// use a schema that is already there.
func createVersionTable(ctx context.Context, tx pgx.Tx, quoted string) error {
	var hasSchema, hasTable bool
	err := tx.QueryRow(ctx, `SELECT to_regnamespace($1) IS NOT NULL, to_regclass($2) IS NOT NULL`,
		quoted, quoted+".schema_version").Scan(&hasSchema, &hasTable)
	if err != nil {
		return err
	}
	if !hasSchema {
		if _, err := tx.Exec(ctx, `CREATE SCHEMA `+quoted); err != nil {
			return err
		}
	}
	if !hasTable {
		_, err = tx.Exec(ctx, `CREATE TABLE `+quoted+`.schema_version (
	version    integer PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
)`)
	}
	return err
}

// schemaVersion returns the schema's current version.
func (s *Store) schemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+s.q.schema+`.schema_version`).Scan(&v)
	return v, wrap("schema version", err)
}
