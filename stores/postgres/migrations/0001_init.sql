-- 0001_init: the authguard store schema.
--
-- Every name is qualified with the schema the store was given ({{schema}} is
-- replaced with the quoted schema name before the file runs). Times are
-- timestamptz (microseconds); NULL stands for the zero time. Refresh tokens
-- are never stored: only the digests the core computes, and a successor
-- sealed by the core that the store cannot open.

CREATE TABLE {{schema}}.users (
	id            text COLLATE "C" PRIMARY KEY,
	email         text COLLATE "C" NOT NULL UNIQUE,
	password_hash text COLLATE "C" NOT NULL DEFAULT '',
	roles         text[]  NOT NULL DEFAULT '{}',
	disabled      boolean NOT NULL DEFAULT false,
	locked        boolean NOT NULL DEFAULT false,
	created_at    timestamptz
);

CREATE TABLE {{schema}}.sessions (
	id                  text COLLATE "C" PRIMARY KEY,
	subject             text COLLATE "C" NOT NULL,
	device_name         text     NOT NULL DEFAULT '',
	ip                  text     NOT NULL DEFAULT '',
	user_agent          text     NOT NULL DEFAULT '',
	auth_time           timestamptz,
	created_at          timestamptz,
	last_used_at        timestamptz,
	idle_expires_at     timestamptz,
	absolute_expires_at timestamptz,
	revoked_at          timestamptz,
	revoke_reason       text     NOT NULL DEFAULT '',
	generation          bigint   NOT NULL DEFAULT 0,
	token_digest        bytea,
	secret_digest       bytea,
	rotated_at          timestamptz,
	grace_replays       integer  NOT NULL DEFAULT 0,
	successor           bytea, -- sealed by the core; opaque here
	retry_open          boolean  NOT NULL DEFAULT false,
	version             bigint   NOT NULL DEFAULT 1,
	-- insertion order, to list sessions created at the same instant stably
	created_seq         bigint   GENERATED ALWAYS AS IDENTITY
);

CREATE INDEX sessions_subject ON {{schema}}.sessions (subject, created_at, created_seq);
CREATE INDEX sessions_idle_expires_at ON {{schema}}.sessions (idle_expires_at);
CREATE INDEX sessions_absolute_expires_at ON {{schema}}.sessions (absolute_expires_at);
CREATE INDEX sessions_revoked_at ON {{schema}}.sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- An identity sequence: numbers are never reused, even after a prune.
CREATE TABLE {{schema}}.revocations (
	seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	session_id text COLLATE "C" NOT NULL,
	revoked_at timestamptz NOT NULL
);

CREATE INDEX revocations_revoked_at ON {{schema}}.revocations (revoked_at);

CREATE TABLE {{schema}}.throttle (
	key          text COLLATE "C" PRIMARY KEY,
	count        integer     NOT NULL,
	window_start timestamptz NOT NULL,
	window_end   timestamptz NOT NULL -- window_start + window at the last hit, for Prune
);

CREATE INDEX throttle_window_end ON {{schema}}.throttle (window_end);
