package pgstore

import (
	"strconv"
	"strings"
)

// The SQL of the store, with every table qualified by the store's schema.
// pgx prepares each statement once per connection and caches it.

const sessionCols = `id, subject, device_name, ip, user_agent, auth_time, created_at,
	last_used_at, idle_expires_at, absolute_expires_at, revoked_at, revoke_reason,
	generation, token_digest, secret_digest, rotated_at, grace_replays, successor, retry_open, version`

const userCols = `id, email, password_hash, roles, disabled, locked, created_at`

// queries holds the statements of one schema ({{s}} stands for it below,
// {{c}} for its notification channel as a string literal, {{k}} for
// feedLockKey).
type queries struct {
	schema string // quoted

	session, listSessions, revocations, countUsers     string
	insertSession, updateSession, sessionExists        string
	pruneSessions, pruneFeed, pruneThrottle, footprint string
	peek, hit, resetThrottle, forgive                  string
	insertUser, userByEmail, userByID, updateUser      string
	updatePasswordHash, userExists                     string
}

// feedLockKey is the first key of the advisory lock that orders the feed's
// appends; the second is hashtext(channel), one per schema.
const feedLockKey = 0x61676664 // "agfd"

func newQueries(schema, channel string) queries {
	r := strings.NewReplacer("{{s}}", schema, "{{c}}", "'"+channel+"'", "{{k}}", strconv.Itoa(feedLockKey))
	return queries{
		schema:  schema,
		session: r.Replace(`SELECT ` + sessionCols + ` FROM {{s}}.sessions WHERE id = $1`),
		listSessions: r.Replace(`SELECT ` + sessionCols + ` FROM {{s}}.sessions
WHERE subject = $1 AND revoked_at IS NULL AND idle_expires_at > $2 AND absolute_expires_at > $2
ORDER BY created_at, created_seq`),
		// LIMIT NULL is no limit.
		revocations: r.Replace(`SELECT seq, session_id, revoked_at FROM {{s}}.revocations
WHERE seq > $1 ORDER BY seq LIMIT $2`),
		countUsers: r.Replace(`SELECT count(*) FROM {{s}}.users`),

		insertSession: r.Replace(`INSERT INTO {{s}}.sessions (` + sessionCols + `)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`),
		// updateSession writes a complete state over the version read and,
		// when $22 is true, appends the revocation to the feed in the same
		// statement, which notifies the store's channel of the new entry
		// (delivered at commit, so never before the entry can be read); it
		// returns the number of rows written (0 or 1).
		//
		// Before the entry takes its seq, the statement takes the schema's
		// feed lock (transaction-scoped: released after the commit has made
		// the entry visible), so entries become visible in seq order. Without
		// it, a seq taken before a commit that lands after a later seq's
		// would appear below the cursor of a reader that already moved past
		// it, and that reader would never see the revocation.
		updateSession: r.Replace(`WITH upd AS (
	UPDATE {{s}}.sessions SET subject = $2, device_name = $3, ip = $4, user_agent = $5,
		auth_time = $6, created_at = $7, last_used_at = $8, idle_expires_at = $9,
		absolute_expires_at = $10, revoked_at = $11, revoke_reason = $12, generation = $13,
		token_digest = $14, secret_digest = $15, rotated_at = $16, grace_replays = $17,
		successor = $18, retry_open = $19, version = $20
	WHERE id = $1 AND version = $21
	RETURNING id, revoked_at
), lk AS (
	SELECT pg_advisory_xact_lock({{k}}, hashtext({{c}})) FROM upd WHERE $22::boolean
), feed AS (
	INSERT INTO {{s}}.revocations (session_id, revoked_at)
	SELECT id, revoked_at FROM upd, lk WHERE $22::boolean
	RETURNING seq, pg_notify({{c}}, seq::text)
)
SELECT (SELECT count(*) FROM upd), (SELECT count(*) FROM feed)`),
		sessionExists: r.Replace(`SELECT EXISTS (SELECT 1 FROM {{s}}.sessions WHERE id = $1)`),
		pruneSessions: r.Replace(`DELETE FROM {{s}}.sessions
WHERE idle_expires_at IS NULL OR idle_expires_at < $1
	OR absolute_expires_at IS NULL OR absolute_expires_at < $1
	OR revoked_at < $1`),
		pruneFeed:     r.Replace(`DELETE FROM {{s}}.revocations WHERE revoked_at < $1`),
		pruneThrottle: r.Replace(`DELETE FROM {{s}}.throttle WHERE window_end < $1`),
		footprint: r.Replace(`SELECT
	(SELECT count(*) FROM {{s}}.schema_version) + (SELECT count(*) FROM {{s}}.users)
	+ (SELECT count(*) FROM {{s}}.sessions) + (SELECT count(*) FROM {{s}}.revocations)
	+ (SELECT count(*) FROM {{s}}.throttle),
	(SELECT COALESCE(SUM(octet_length(id) + octet_length(subject) + octet_length(device_name)
		+ octet_length(ip) + octet_length(user_agent) + octet_length(revoke_reason)
		+ COALESCE(octet_length(token_digest), 0) + COALESCE(octet_length(secret_digest), 0)
		+ COALESCE(octet_length(successor), 0)), 0)::bigint FROM {{s}}.sessions)`),

		peek: r.Replace(`SELECT count, window_start FROM {{s}}.throttle WHERE key = $1`),
		// hit: $2 is now, $3 the window in microseconds. On the right of SET,
		// t.* is the stored row.
		hit: r.Replace(`INSERT INTO {{s}}.throttle AS t (key, count, window_start, window_end)
VALUES ($1, 1, $2::timestamptz, $2::timestamptz + $3::bigint * interval '1 microsecond')
ON CONFLICT (key) DO UPDATE SET
	count        = CASE WHEN t.window_start <= $2::timestamptz - $3::bigint * interval '1 microsecond' THEN 1 ELSE t.count + 1 END,
	window_start = CASE WHEN t.window_start <= $2::timestamptz - $3::bigint * interval '1 microsecond' THEN $2::timestamptz ELSE t.window_start END,
	window_end   = CASE WHEN t.window_start <= $2::timestamptz - $3::bigint * interval '1 microsecond' THEN $2::timestamptz ELSE t.window_start END
		+ $3::bigint * interval '1 microsecond'
RETURNING count, window_start`),
		resetThrottle: r.Replace(`DELETE FROM {{s}}.throttle WHERE key = $1`),
		forgive:       r.Replace(`UPDATE {{s}}.throttle SET count = count - 1 WHERE key = $1 AND window_start = $2 AND count > 0`),

		insertUser:  r.Replace(`INSERT INTO {{s}}.users (` + userCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7)`),
		userByEmail: r.Replace(`SELECT ` + userCols + ` FROM {{s}}.users WHERE email = $1`),
		userByID:    r.Replace(`SELECT ` + userCols + ` FROM {{s}}.users WHERE id = $1`),
		updateUser: r.Replace(`UPDATE {{s}}.users SET email = $2, password_hash = $3, roles = $4, disabled = $5, locked = $6
WHERE id = $1`),
		// updatePasswordHash is the compare-and-swap of a password hash
		// (parameters: id, old hash, new hash); the columns are COLLATE "C",
		// so = compares byte for byte.
		updatePasswordHash: r.Replace(`UPDATE {{s}}.users SET password_hash = $3 WHERE id = $1 AND password_hash = $2`),
		userExists:         r.Replace(`SELECT EXISTS (SELECT 1 FROM {{s}}.users WHERE id = $1)`),
	}
}
