package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/authguard/authguard/core/store"
	"github.com/jackc/pgx/v5"
)

// scanSession scans sessionCols.
func scanSession(row pgx.Row) (store.Session, error) {
	var (
		s                                                  store.Session
		auth, created, used, idle, abs, revoked, rotatedAt *time.Time
	)
	err := row.Scan(&s.ID, &s.Subject, &s.DeviceName, &s.IP, &s.UserAgent, &auth, &created,
		&used, &idle, &abs, &revoked, &s.RevokeReason, &s.Generation, &s.TokenDigest, &s.SecretDigest,
		&rotatedAt, &s.GraceReplays, &s.Successor, &s.RetryOpen, &s.Version)
	if err != nil {
		return store.Session{}, err
	}
	s.AuthTime, s.CreatedAt, s.LastUsedAt = fromTs(auth), fromTs(created), fromTs(used)
	s.IdleExpiresAt, s.AbsoluteExpiresAt = fromTs(idle), fromTs(abs)
	s.RevokedAt, s.RotatedAt = fromTs(revoked), fromTs(rotatedAt)
	return s, nil
}

// sessionArgs returns the columns of s in sessionCols order.
func sessionArgs(s store.Session) []any {
	return []any{s.ID, s.Subject, s.DeviceName, s.IP, s.UserAgent,
		ts(s.AuthTime), ts(s.CreatedAt), ts(s.LastUsedAt), ts(s.IdleExpiresAt), ts(s.AbsoluteExpiresAt),
		ts(s.RevokedAt), s.RevokeReason, s.Generation, blob(s.TokenDigest), blob(s.SecretDigest),
		ts(s.RotatedAt), s.GraceReplays, blob(s.Successor), s.RetryOpen, s.Version}
}

// blob returns b, or nil (NULL) when b is empty.
func blob(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// CreateSession stores s as it is given (the core sets Version to 1), with
// one INSERT. It returns store.ErrConflict if the id exists.
func (st *Store) CreateSession(ctx context.Context, s store.Session) error {
	args := sessionArgs(s)
	return st.write(ctx, "create session", func(ctx context.Context) error {
		_, err := st.pool.Exec(ctx, st.q.insertSession, args...)
		return err
	})
}

// Session returns the session with the given id, revoked or expired ones
// included, or store.ErrNotFound.
func (st *Store) Session(ctx context.Context, id string) (store.Session, error) {
	if err := st.check(); err != nil {
		return store.Session{}, wrap("session", err)
	}
	s, err := scanSession(st.pool.QueryRow(ctx, st.q.session, id))
	if err != nil {
		return store.Session{}, wrap("session", err)
	}
	return s, nil
}

// UpdateSession writes u.Session over the stored session if its version is
// still u.Version, and appends (ID, RevokedAt) to the revocation feed when
// u.Revoked, in one statement (a conditional UPDATE and the feed INSERT in a
// data-modifying CTE), so both commit or neither does. When no row matched,
// a second statement tells store.ErrStale (the session exists at another
// version) from store.ErrNotFound; either way nothing was written. An update
// that fails store.Update.Check is refused with an error.
func (st *Store) UpdateSession(ctx context.Context, u store.Update) error {
	s := u.Session
	if err := u.Check(); err != nil {
		return fmt.Errorf("pgstore: %w", err)
	}
	args := append(sessionArgs(s), u.Version, u.Revoked)
	return st.write(ctx, "update session", func(ctx context.Context) error {
		var updated, appended int64
		if err := st.pool.QueryRow(ctx, st.q.updateSession, args...).Scan(&updated, &appended); err != nil {
			return err
		}
		if updated == 1 {
			if u.Revoked && appended != 1 {
				// Cannot happen: the CTE inserts one row per updated row.
				return fmt.Errorf("revocation of %q appended %d feed entries", s.ID, appended)
			}
			return nil
		}
		var exists bool
		if err := st.pool.QueryRow(ctx, st.q.sessionExists, s.ID).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return store.ErrStale
		}
		return store.ErrNotFound
	})
}

// ListSessions returns the subject's sessions that are active at now (not
// revoked, both deadlines after now), oldest first (by CreatedAt, then in
// the order they were created).
func (st *Store) ListSessions(ctx context.Context, subject string, now time.Time) ([]store.Session, error) {
	if err := st.check(); err != nil {
		return nil, wrap("list sessions", err)
	}
	rows, err := st.pool.Query(ctx, st.q.listSessions, subject, ts(now))
	if err != nil {
		return nil, wrap("list sessions", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Session, error) { return scanSession(r) })
	if err != nil {
		return nil, wrap("list sessions", err)
	}
	if out == nil {
		out = []store.Session{}
	}
	return out, nil
}

// Revocations returns feed entries with Seq > after, in Seq order, at most
// limit of them (limit <= 0: all).
func (st *Store) Revocations(ctx context.Context, after int64, limit int) ([]store.Revocation, error) {
	if err := st.check(); err != nil {
		return nil, wrap("revocations", err)
	}
	var lim *int64 // NULL: no limit
	if limit > 0 {
		l := int64(limit)
		lim = &l
	}
	rows, err := st.pool.Query(ctx, st.q.revocations, after, lim)
	if err != nil {
		return nil, wrap("revocations", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Revocation, error) {
		var (
			rv store.Revocation
			at time.Time
		)
		err := r.Scan(&rv.Seq, &rv.SessionID, &at)
		rv.RevokedAt = at.UTC()
		return rv, err
	})
	if err != nil {
		return nil, wrap("revocations", err)
	}
	if out == nil {
		out = []store.Revocation{}
	}
	return out, nil
}

// Prune deletes sessions whose idle or absolute deadline or revocation time
// is before cutoff, feed entries revoked before cutoff, and throttle counters
// whose window ended before cutoff, in one transaction. It returns how many
// sessions it deleted. Sequence numbers are never reused (the feed's key is
// an identity column).
func (st *Store) Prune(ctx context.Context, cutoff time.Time) (int, error) {
	c := ts(cutoff)
	deleted := 0
	err := st.write(ctx, "prune", func(ctx context.Context) error {
		return st.inTx(ctx, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, st.q.pruneSessions, c)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, st.q.pruneFeed, c); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, st.q.pruneThrottle, c); err != nil {
				return err
			}
			deleted = int(tag.RowsAffected())
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	return deleted, nil
}

// Footprint reports the rows of the store's tables (schema_version, users,
// sessions, revocations, throttle) as Records, and the summed octet_length
// of the sessions' text and bytea columns as Bytes.
func (st *Store) Footprint(ctx context.Context) (store.Footprint, error) {
	var f store.Footprint
	if err := st.check(); err != nil {
		return f, wrap("footprint", err)
	}
	if err := st.pool.QueryRow(ctx, st.q.footprint).Scan(&f.Records, &f.Bytes); err != nil {
		return store.Footprint{}, wrap("footprint", err)
	}
	return f, nil
}
