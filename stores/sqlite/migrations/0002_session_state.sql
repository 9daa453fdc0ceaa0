-- 0002_session_state: a session holds the whole state of its refresh-token
-- lineage, in one row whose size does not grow with its rotations.
--
-- Refresh tokens of the new format carry their session id, generation and a
-- proof bound to the session's secret, so the per-generation digest table is
-- gone. Sessions written under schema 1 have no secret digest and cannot be
-- refreshed with the new token format: they are deleted here, and their
-- users log in again. Each deleted session that was not revoked gets a
-- revocation feed entry, so every instance sharing the database refuses its
-- access tokens as well.

DROP TABLE refresh_tokens;

INSERT INTO revocations (session_id, revoked_at)
SELECT id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
FROM sessions WHERE revoked_at IS NULL
ORDER BY created_at, rowid;

DELETE FROM sessions;

ALTER TABLE sessions ADD COLUMN token_digest BLOB;
ALTER TABLE sessions ADD COLUMN secret_digest BLOB;
ALTER TABLE sessions ADD COLUMN retry_open INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
