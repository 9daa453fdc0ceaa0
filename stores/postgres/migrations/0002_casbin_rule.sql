-- 0002_casbin_rule: the authorization policy, for the rbac module's SQL
-- adapter (casbin's usual layout). A rule is its policy type ("p", "g")
-- and up to six values, '' for those it does not use; a rule is stored
-- once, and id keeps the order rules were added in.

CREATE TABLE {{schema}}.casbin_rule (
	id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	ptype text COLLATE "C" NOT NULL,
	v0    text COLLATE "C" NOT NULL DEFAULT '',
	v1    text COLLATE "C" NOT NULL DEFAULT '',
	v2    text COLLATE "C" NOT NULL DEFAULT '',
	v3    text COLLATE "C" NOT NULL DEFAULT '',
	v4    text COLLATE "C" NOT NULL DEFAULT '',
	v5    text COLLATE "C" NOT NULL DEFAULT '',
	UNIQUE (ptype, v0, v1, v2, v3, v4, v5)
);
