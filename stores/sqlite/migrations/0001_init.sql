-- 0001_init: the authguard store schema.
-- Times are INTEGER Unix milliseconds UTC; NULL stands for the zero time.
-- Refresh tokens are never stored: only the digests the core computes.

CREATE TABLE users (
	id            TEXT    PRIMARY KEY,
	email         TEXT    NOT NULL UNIQUE,
	password_hash TEXT    NOT NULL DEFAULT '',
	roles         TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings
	disabled      INTEGER NOT NULL DEFAULT 0,
	locked        INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER
) STRICT;

CREATE TABLE sessions (
	id                  TEXT    PRIMARY KEY,
	subject             TEXT    NOT NULL,
	device_name         TEXT    NOT NULL DEFAULT '',
	ip                  TEXT    NOT NULL DEFAULT '',
	user_agent          TEXT    NOT NULL DEFAULT '',
	auth_time           INTEGER,
	created_at          INTEGER,
	last_used_at        INTEGER,
	idle_expires_at     INTEGER,
	absolute_expires_at INTEGER,
	revoked_at          INTEGER,
	revoke_reason       TEXT    NOT NULL DEFAULT '',
	generation          INTEGER NOT NULL DEFAULT 0,
	rotated_at          INTEGER,
	grace_replays       INTEGER NOT NULL DEFAULT 0,
	successor           BLOB -- sealed by the core; opaque here
) STRICT;

CREATE INDEX sessions_subject ON sessions (subject, created_at);

-- Every generation's digest stays resolvable until the session is deleted.
CREATE TABLE refresh_tokens (
	digest     BLOB    PRIMARY KEY,
	session_id TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	generation INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- AUTOINCREMENT: sequence numbers are never reused, even after a prune.
CREATE TABLE revocations (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	session_id TEXT    NOT NULL,
	revoked_at INTEGER NOT NULL
) STRICT;

CREATE INDEX revocations_revoked_at ON revocations (revoked_at);

CREATE TABLE throttle (
	key          TEXT    PRIMARY KEY,
	count        INTEGER NOT NULL,
	window_start INTEGER NOT NULL,
	window_end   INTEGER NOT NULL -- window_start + window at the last hit, for Prune
) STRICT;

CREATE INDEX throttle_window_end ON throttle (window_end);
