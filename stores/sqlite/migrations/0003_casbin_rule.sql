-- 0003_casbin_rule: the authorization policy, for the rbac module's SQL
-- adapter (casbin's usual layout). A rule is its policy type ("p", "g")
-- and up to six values, '' for those it does not use; a rule is stored
-- once, and id keeps the order rules were added in.

CREATE TABLE casbin_rule (
	id    INTEGER PRIMARY KEY AUTOINCREMENT,
	ptype TEXT NOT NULL,
	v0    TEXT NOT NULL DEFAULT '',
	v1    TEXT NOT NULL DEFAULT '',
	v2    TEXT NOT NULL DEFAULT '',
	v3    TEXT NOT NULL DEFAULT '',
	v4    TEXT NOT NULL DEFAULT '',
	v5    TEXT NOT NULL DEFAULT '',
	UNIQUE (ptype, v0, v1, v2, v3, v4, v5)
) STRICT;
