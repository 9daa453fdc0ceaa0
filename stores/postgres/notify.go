package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/authguard/authguard/core/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
)

// healthEvery is how long the listening connection may stay silent before
// Watch checks it with a ping.
const healthEvery = 15 * time.Second

// channelName is the LISTEN/NOTIFY channel of a schema's revocation feed:
// "<schema>_revoked" (see schemaChannel).
func channelName(schema string) string { return schemaChannel(schema, "_revoked", "") }

// schemaChannel is "<schema><suffix>" when that fits in an identifier (63
// bytes), else the schema cut short, short, "_" and 8 bytes of the schema's
// SHA-256 in hex, so distinct schemas (and, by short, distinct uses) keep
// distinct channels.
func schemaChannel(schema, suffix, short string) string {
	if c := schema + suffix; len(c) <= 63 {
		return c
	}
	sum := sha256.Sum256([]byte(schema))
	return schema[:63-17-len(short)] + short + "_" + hex.EncodeToString(sum[:8])
}

// PolicyChannel returns the LISTEN/NOTIFY channel on which the rbac
// module's SQL adapter announces every change of the authorization policy
// kept in schema (casbin_rule): "<schema>_policy", or, when that does not
// fit in an identifier, the schema cut short, "_p_" and 8 bytes of its
// SHA-256 in hex.
func PolicyChannel(schema string) string { return schemaChannel(schema, "_policy", "_p") }

// Channel returns the LISTEN/NOTIFY channel on which the store announces
// every entry it appends to the revocation feed (see channelName). The
// payload, the entry's Seq, is only a hint; the feed stays the truth.
func (st *Store) Channel() string { return st.channel }

// listenerName is the application_name of the listening connection: the
// pool's own (or "authguard") followed by " listener".
func listenerName(cfg *pgx.ConnConfig) string {
	base := cfg.RuntimeParams["application_name"]
	if base == "" {
		base = "authguard"
	}
	return base[:min(len(base), 54)] + " listener"
}

// Watch implements store.Notifier with LISTEN/NOTIFY. The statement that
// appends a revocation to the feed also calls pg_notify, so the
// notification is delivered when, and only if, the entry commits. Watch
// listens on a dedicated connection made from the pool's configuration, its
// BeforeConnect and AfterConnect hooks included (not one of the pool's,
// which it would hold forever; application_name
// "<the pool's application_name or authguard> listener"), calls wake once
// listening and after every notification, and connects again with a
// backoff when the connection fails, until ctx ends (or the store is
// closed: ErrClosed). Notifications sent while no connection listens are
// lost; the wake that follows the next LISTEN makes the caller read them
// from the feed.
func (st *Store) Watch(ctx context.Context, wake func()) error {
	return store.WatchLoop(ctx, func(ctx context.Context) (bool, error) {
		if err := st.check(); err != nil {
			return false, wrap("watch", err)
		}
		return listen(ctx, st.pool, st.channel, st.closed.Load, wake), nil
	})
}

// WatchChannel is Watch for any channel: it listens on channel (such as
// PolicyChannel's) on a dedicated connection made as Watch makes its own
// from pool's configuration, calls wake once listening and after every
// notification, and connects again with a backoff when the connection
// fails, until ctx ends; then it returns ctx's error.
func WatchChannel(ctx context.Context, pool *pgxpool.Pool, channel string, wake func()) error {
	if pool == nil || channel == "" {
		return errors.New("pgstore: WatchChannel needs a pool and a channel")
	}
	never := func() bool { return false }
	return store.WatchLoop(ctx, func(ctx context.Context) (bool, error) {
		return listen(ctx, pool, channel, never, wake), nil
	})
}

// listen holds one connection listening on channel until it fails, ctx
// ends or closed reports true, and reports whether it ever listened.
func listen(ctx context.Context, pool *pgxpool.Pool, channel string, closed func() bool, wake func()) (listened bool) {
	pcfg := pool.Config()
	cfg := pcfg.ConnConfig.Copy()
	// The pool's hooks make its connections work (a password or token
	// fetched at connect time, a database chosen then, a role set after):
	// the listening connection is made as the pool makes its own.
	if pcfg.BeforeConnect != nil {
		if err := pcfg.BeforeConnect(ctx, cfg); err != nil {
			return false
		}
	}
	cfg.RuntimeParams["application_name"] = listenerName(cfg)
	// On a timeout, give up the read without a cancel request: a late one
	// could cancel the ping that follows.
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if pcfg.AfterConnect != nil {
		if err := pcfg.AfterConnect(ctx, conn); err != nil {
			return false
		}
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return false
	}
	wake()
	for ctx.Err() == nil && !closed() {
		wctx, cancel := context.WithTimeout(ctx, healthEvery)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			wake()
		case ctx.Err() != nil || !pgconn.Timeout(err):
			return true
		default: // silent for healthEvery: is the connection still there?
			pctx, pcancel := context.WithTimeout(ctx, healthEvery)
			err := conn.Ping(pctx)
			pcancel()
			if err != nil {
				return true
			}
		}
	}
	return true
}
