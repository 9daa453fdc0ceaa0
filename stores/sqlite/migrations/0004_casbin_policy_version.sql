-- 0004_casbin_policy_version: the version of the authorization policy in
-- casbin_rule. The rbac module's SQL adapter adds one to it in the
-- transaction of every change, and its watcher reloads the policy when it
-- sees a version it has not loaded. One row, id 1.

CREATE TABLE casbin_policy_version (
	id      INTEGER PRIMARY KEY CHECK (id = 1),
	version INTEGER NOT NULL
) STRICT;

INSERT INTO casbin_policy_version (id, version) VALUES (1, 0);
