package demo

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/rbac"
	pgstore "github.com/authguard/authguard/stores/postgres"
	redisstore "github.com/authguard/authguard/stores/redis"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/redis/go-redis/v9"
)

// Query parameters of AUTHGUARD_STORE that the demo reads itself and removes
// before the URL reaches the driver.
const (
	// RedisPrefixParam names the key prefix in a redis:// URL (default
	// redisstore.DefaultPrefix, "authguard:").
	RedisPrefixParam = "prefix"
	// PostgresSchemaParam names the schema in a postgres:// URL (default
	// pgstore.DefaultSchema, "authguard").
	PostgresSchemaParam = "schema"
)

// splitParam removes the query parameter name from the URL raw and returns
// the URL without it and the parameter's value (def when it is absent).
// raw has been checked by ParseStore, so it parses.
func splitParam(raw, name, def string) (string, string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url's error quotes the input, password included: not repeated.
		return "", "", fmt.Errorf("%s is not a valid URL", redactURL(raw))
	}
	q := u.Query()
	v, ok := def, q.Has(name)
	if ok {
		v = q.Get(name)
		q.Del(name)
		u.RawQuery = q.Encode()
	}
	return u.String(), v, nil
}

// openRedis connects to the redis:// URL of spec and opens the store over
// the client; release closes the client after the store. The policy lives
// under the store's key prefix, through the same client.
func openRedis(ctx context.Context, spec StoreSpec, logger *slog.Logger) (store.Store, func() error, policyBackend, error) {
	fail := func(err error) (store.Store, func() error, policyBackend, error) {
		return nil, nil, policyBackend{}, fmt.Errorf("demo: opening %s=%s: %w", EnvStore, spec, err)
	}
	raw, prefix, err := splitParam(spec.Location, RedisPrefixParam, redisstore.DefaultPrefix)
	if err != nil {
		return fail(err)
	}
	opts, err := redis.ParseURL(raw)
	if err != nil {
		return fail(err)
	}
	opts.ContextTimeoutEnabled = true // a hung Redis costs a request core.Config.StoreTimeout, not ReadTimeout
	var client redis.UniversalClient = redis.NewClient(opts)
	st, err := redisstore.New(ctx, client, redisstore.WithPrefix(prefix), redisstore.WithLogger(logger))
	if err != nil {
		_ = client.Close()
		return fail(err)
	}
	return st, client.Close, policyBackend{redis: client, prefix: prefix}, nil
}

// openPostgres opens a pool on the postgres:// URL of spec and the store
// (migrating its schema) over it; release closes the pool after the store.
// The policy handle is pgx's database/sql driver over the same pool, on the
// casbin_rule table of the store's schema, and the pool also gives the
// watcher its LISTEN connection.
func openPostgres(ctx context.Context, spec StoreSpec) (store.Store, func() error, policyBackend, error) {
	fail := func(err error) (store.Store, func() error, policyBackend, error) {
		return nil, nil, policyBackend{}, fmt.Errorf("demo: opening %s=%s: %w", EnvStore, spec, err)
	}
	raw, schema, err := splitParam(spec.Location, PostgresSchemaParam, pgstore.DefaultSchema)
	if err != nil {
		return fail(err)
	}
	pool, err := pgxpool.New(ctx, raw)
	if err != nil {
		return fail(err)
	}
	st, err := pgstore.New(ctx, pool, pgstore.WithSchema(schema))
	if err != nil {
		pool.Close()
		return fail(err)
	}
	pdb := policyBackend{db: stdlib.OpenDBFromPool(pool), dialect: rbac.PostgreSQL, table: st.Schema() + "." + rbac.DefaultTable, pool: pool}
	return st, func() error { pool.Close(); return nil }, pdb, nil
}
