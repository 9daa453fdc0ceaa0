-- 0003_casbin_policy_version: the version of the authorization policy in
-- casbin_rule. The rbac module's SQL adapter adds one to it in the
-- transaction of every change (and calls pg_notify on the schema's policy
-- channel there), and its watcher reloads the policy when it sees a version
-- it has not loaded. One row, id 1.

CREATE TABLE {{schema}}.casbin_policy_version (
	id      integer PRIMARY KEY CHECK (id = 1),
	version bigint NOT NULL
);

INSERT INTO {{schema}}.casbin_policy_version (id, version) VALUES (1, 0);
