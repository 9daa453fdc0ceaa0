package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
)

// The SQL of the store. Every statement is prepared once per connection
// (parsing costs more than running these statements).

const sessionCols = `s.id, s.subject, s.device_name, s.ip, s.user_agent, s.auth_time, s.created_at,
	s.last_used_at, s.idle_expires_at, s.absolute_expires_at, s.revoked_at, s.revoke_reason,
	s.generation, s.rotated_at, s.grace_replays, s.successor`

// activeAt is the SQL form of store.Session.Active at ?, where the parameter
// appears twice.
const activeAt = `revoked_at IS NULL AND idle_expires_at > ? AND absolute_expires_at > ?`

// subjectCond selects the active sessions of a subject except one
// (parameters: subject, except, except, at, at).
const subjectCond = `subject = ? AND (? = '' OR id <> ?) AND ` + activeAt

// pruneCond selects the sessions Prune deletes (parameter ?1: cutoff).
const pruneCond = `idle_expires_at IS NULL OR idle_expires_at < ?1
	OR absolute_expires_at IS NULL OR absolute_expires_at < ?1
	OR (revoked_at IS NOT NULL AND revoked_at < ?1)`

const userCols = `id, email, password_hash, roles, disabled, locked, created_at`

// Reads (reader pool; qByToken also runs inside Rotate's transaction).
const (
	qSession = `SELECT ` + sessionCols + ` FROM sessions s WHERE s.id = ?`
	qByToken = `SELECT ` + sessionCols + `, t.generation
FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
WHERE t.digest = ?`
	qListSessions = `SELECT ` + sessionCols + ` FROM sessions s
WHERE s.subject = ? AND s.` + activeAt + `
ORDER BY s.created_at, s.rowid`
	qRevocations = `SELECT seq, session_id, revoked_at FROM revocations
WHERE seq > ? ORDER BY seq LIMIT ?`
	qPeek        = `SELECT count, window_start FROM throttle WHERE key = ?`
	qUserByEmail = `SELECT ` + userCols + ` FROM users WHERE email = ?`
	qUserByID    = `SELECT ` + userCols + ` FROM users WHERE id = ?`
	qCountUsers  = `SELECT COUNT(*) FROM users`
)

// Writes (writer connection, inside BEGIN IMMEDIATE).
const (
	qInsertSession = `INSERT INTO sessions (id, subject, device_name, ip, user_agent,
	auth_time, created_at, last_used_at, idle_expires_at, absolute_expires_at, revoked_at, revoke_reason,
	generation, rotated_at, grace_replays, successor)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qInsertToken = `INSERT INTO refresh_tokens (digest, session_id, generation) VALUES (?, ?, ?)`
	qRotate      = `UPDATE sessions SET generation = ?, successor = ?, rotated_at = ?,
	last_used_at = ?, idle_expires_at = ?, grace_replays = 0 WHERE id = ?`
	qReplay         = `UPDATE sessions SET grace_replays = grace_replays + 1, last_used_at = ? WHERE id = ?`
	qRevoke         = `UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE id = ?`
	qRevokeIfActive = `UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE id = ? AND ` + activeAt
	qInsertFeed     = `INSERT INTO revocations (session_id, revoked_at) VALUES (?, ?)`
	qFeedSubject    = `INSERT INTO revocations (session_id, revoked_at) SELECT id, ? FROM sessions WHERE ` + subjectCond + ` ORDER BY created_at, rowid`
	qRevokeSubject  = `UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE ` + subjectCond
	qPruneTokens    = `DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE ` + pruneCond + `)`
	qPruneSessions  = `DELETE FROM sessions WHERE ` + pruneCond
	qPruneFeed      = `DELETE FROM revocations WHERE revoked_at < ?`
	qPruneThrottle  = `DELETE FROM throttle WHERE window_end < ?`
	qHit            = `INSERT INTO throttle (key, count, window_start, window_end)
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
)

var readQueries = []string{qSession, qByToken, qListSessions, qRevocations, qPeek, qUserByEmail, qUserByID, qCountUsers}

var writeQueries = []string{qByToken, qInsertSession, qInsertToken, qRotate, qReplay, qRevoke, qRevokeIfActive,
	qInsertFeed, qFeedSubject, qRevokeSubject, qPruneTokens, qPruneSessions, qPruneFeed, qPruneThrottle,
	qHit, qResetThrottle, qForgive, qInsertUser, qUpdateUser}

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
