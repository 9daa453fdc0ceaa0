package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
)

// The SQL of the store. Every statement is prepared once per connection
// (parsing costs more than running these statements).

const sessionCols = `id, subject, device_name, ip, user_agent, auth_time, created_at,
	last_used_at, idle_expires_at, absolute_expires_at, revoked_at, revoke_reason,
	generation, token_digest, secret_digest, rotated_at, grace_replays, successor, retry_open, version`

// activeAt is the SQL form of store.Session.Active at ?, where the parameter
// appears twice.
const activeAt = `revoked_at IS NULL AND idle_expires_at > ? AND absolute_expires_at > ?`

// pruneCond selects the sessions Prune deletes (parameter ?1: cutoff).
const pruneCond = `idle_expires_at IS NULL OR idle_expires_at < ?1
	OR absolute_expires_at IS NULL OR absolute_expires_at < ?1
	OR (revoked_at IS NOT NULL AND revoked_at < ?1)`

const userCols = `id, email, password_hash, roles, disabled, locked, created_at`

// Reads (reader pool).
const (
	qSession      = `SELECT ` + sessionCols + ` FROM sessions WHERE id = ?`
	qListSessions = `SELECT ` + sessionCols + ` FROM sessions
WHERE subject = ? AND ` + activeAt + `
ORDER BY created_at, rowid`
	qRevocations = `SELECT seq, session_id, revoked_at FROM revocations
WHERE seq > ? ORDER BY seq LIMIT ?`
	qPeek        = `SELECT count, window_start FROM throttle WHERE key = ?`
	qUserByEmail = `SELECT ` + userCols + ` FROM users WHERE email = ?`
	qUserByID    = `SELECT ` + userCols + ` FROM users WHERE id = ?`
	qCountUsers  = `SELECT COUNT(*) FROM users`
)

// Writes (writer connection, inside BEGIN IMMEDIATE).
const (
	qInsertSession = `INSERT INTO sessions (` + sessionCols + `)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	// qUpdateSession writes a complete state over the version read
	// (parameters: the state without id, then id and the version read).
	qUpdateSession = `UPDATE sessions SET subject = ?, device_name = ?, ip = ?, user_agent = ?,
	auth_time = ?, created_at = ?, last_used_at = ?, idle_expires_at = ?, absolute_expires_at = ?,
	revoked_at = ?, revoke_reason = ?, generation = ?, token_digest = ?, secret_digest = ?,
	rotated_at = ?, grace_replays = ?, successor = ?, retry_open = ?, version = ?
WHERE id = ? AND version = ?`
	qSessionExists = `SELECT EXISTS (SELECT 1 FROM sessions WHERE id = ?)`
	qInsertFeed    = `INSERT INTO revocations (session_id, revoked_at) VALUES (?, ?)`
	qPruneSessions = `DELETE FROM sessions WHERE ` + pruneCond
	qPruneFeed     = `DELETE FROM revocations WHERE revoked_at < ?`
	qPruneThrottle = `DELETE FROM throttle WHERE window_end < ?`
	qHit           = `INSERT INTO throttle (key, count, window_start, window_end)
VALUES (?1, 1, ?2, ?2 + ?3)
ON CONFLICT (key) DO UPDATE SET
	count        = CASE WHEN window_start <= ?2 - ?3 THEN 1 ELSE count + 1 END,
	window_start = CASE WHEN window_start <= ?2 - ?3 THEN ?2 ELSE window_start END,
	window_end   = CASE WHEN window_start <= ?2 - ?3 THEN ?2 ELSE window_start END + ?3
RETURNING count, window_start` // on the right of SET, columns are the old row's
	qResetThrottle = `DELETE FROM throttle WHERE key = ?`
	qForgive       = `UPDATE throttle SET count = count - 1 WHERE key = ? AND window_start = ? AND count > 0`
	qInsertUser    = `INSERT INTO users (` + userCols + `) VALUES (?, ?, ?, ?, ?, ?, ?)`
	qUpdateUser    = `UPDATE users SET email = ?, password_hash = ?, roles = ?, disabled = ?, locked = ?
WHERE id = ?`
	// qUpdatePasswordHash is the compare-and-swap of a password hash
	// (parameters: new hash, id, old hash).
	qUpdatePasswordHash = `UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?`
	qUserExists         = `SELECT EXISTS (SELECT 1 FROM users WHERE id = ?)`
)

var readQueries = []string{qSession, qListSessions, qRevocations, qPeek, qUserByEmail, qUserByID, qCountUsers}

var writeQueries = []string{qInsertSession, qUpdateSession, qSessionExists, qInsertFeed,
	qPruneSessions, qPruneFeed, qPruneThrottle, qHit, qResetThrottle, qForgive, qInsertUser, qUpdateUser,
	qUpdatePasswordHash, qUserExists}

func prepareAll(ctx context.Context, db *sql.DB, queries []string) (map[string]*sql.Stmt, error) {
	m := make(map[string]*sql.Stmt, len(queries))
	for _, q := range queries {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			closeAll(m)
			return nil, fmt.Errorf("sqlitestore: prepare: %w", err)
		}
		m[q] = st
	}
	return m, nil
}

func closeAll(m map[string]*sql.Stmt) {
	for _, st := range m {
		st.Close()
	}
}

// read returns the prepared reader statement for q.
func (s *Store) read(q string) *sql.Stmt { return s.rs[q] }

// inTx returns the prepared writer statement for q bound to tx (database/sql
// reuses the statement already prepared on the writer connection).
func (s *Store) inTx(ctx context.Context, tx *sql.Tx, q string) *sql.Stmt {
	return tx.StmtContext(ctx, s.ws[q])
}
