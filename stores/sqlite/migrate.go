package sqlitestore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"time"

	"github.com/authguard/authguard/core/store/migration"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrations returns the embedded migrations in version order.
func migrations() ([]migration.File, error) { return migration.Load(migrationFS, "migrations") }

// SchemaVersion is the schema version this release migrates to (the number of
// the last embedded migration).
const SchemaVersion = 4

// migrate brings the schema to SchemaVersion, one write transaction per
// version. It is idempotent, safe when several processes open the same file
// at once (BEGIN IMMEDIATE serialises them), and refuses a database whose
// version is newer than SchemaVersion.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if len(ms) != SchemaVersion {
		return fmt.Errorf("sqlitestore: %d embedded migrations, SchemaVersion is %d", len(ms), SchemaVersion)
	}
	for {
		done := false
		err := s.write(ctx, "migrate", func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
	version    INTEGER PRIMARY KEY,
	applied_at INTEGER NOT NULL
) STRICT`); err != nil {
				return err
			}
			var cur int
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&cur); err != nil {
				return err
			}
			if cur > len(ms) {
				return fmt.Errorf("%w (database version %d, known %d)", ErrSchemaTooNew, cur, len(ms))
			}
			if cur == len(ms) {
				done = true
				return nil
			}
			m := ms[cur] // version cur+1
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, applied_at) VALUES (?, ?)`, m.Version, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// schemaVersion returns the database's current schema version.
func (s *Store) schemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v)
	return v, wrap("schema version", err)
}
