package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/authguard/authguard/core/store"
)

type scanner interface{ Scan(dest ...any) error }

// scanSession scans sessionCols.
func scanSession(row scanner) (store.Session, error) {
	var (
		s                                                  store.Session
		auth, created, used, idle, abs, revoked, rotatedAt sql.NullInt64
	)
	err := row.Scan(&s.ID, &s.Subject, &s.DeviceName, &s.IP, &s.UserAgent, &auth, &created,
		&used, &idle, &abs, &revoked, &s.RevokeReason, &s.Generation, &s.TokenDigest, &s.SecretDigest,
		&rotatedAt, &s.GraceReplays, &s.Successor, &s.RetryOpen, &s.Version)
	if err != nil {
		return store.Session{}, err
	}
	s.AuthTime, s.CreatedAt, s.LastUsedAt = fromMs(auth), fromMs(created), fromMs(used)
	s.IdleExpiresAt, s.AbsoluteExpiresAt = fromMs(idle), fromMs(abs)
	s.RevokedAt, s.RotatedAt = fromMs(revoked), fromMs(rotatedAt)
	return s, nil
}

// sessionArgs returns the columns of s after id, in sessionCols order.
func sessionArgs(s store.Session) []any {
	return []any{s.Subject, s.DeviceName, s.IP, s.UserAgent,
		ms(s.AuthTime), ms(s.CreatedAt), ms(s.LastUsedAt), ms(s.IdleExpiresAt), ms(s.AbsoluteExpiresAt),
		ms(s.RevokedAt), s.RevokeReason, s.Generation, blob(s.TokenDigest), blob(s.SecretDigest),
		ms(s.RotatedAt), s.GraceReplays, blob(s.Successor), s.RetryOpen, s.Version}
}

// blob returns b, or nil (NULL) when b is empty.
func blob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// CreateSession stores s as it is given (the core sets Version to 1). It
// returns store.ErrConflict if the id exists.
func (st *Store) CreateSession(ctx context.Context, s store.Session) error {
	return st.write(ctx, "create session", func(tx *sql.Tx) error {
		_, err := st.inTx(ctx, tx, qInsertSession).ExecContext(ctx, append([]any{s.ID}, sessionArgs(s)...)...)
		return err
	})
}

// Session returns the session with the given id, revoked or expired ones
// included, or store.ErrNotFound.
func (st *Store) Session(ctx context.Context, id string) (store.Session, error) {
	s, err := scanSession(st.read(qSession).QueryRowContext(ctx, id))
	if err != nil {
		return store.Session{}, wrap("session", err)
	}
	return s, nil
}

// UpdateSession writes u.Session over the stored session if its version is
// still u.Version, and appends (ID, RevokedAt) to the revocation feed when
// u.Revoked, in one BEGIN IMMEDIATE transaction: one conditional UPDATE and,
// for a revocation, one INSERT. It returns store.ErrStale when the version
// moved on and store.ErrNotFound when the session is gone; either way
// nothing is written. An update that fails store.Update.Check is refused
// with an error.
func (st *Store) UpdateSession(ctx context.Context, u store.Update) error {
	s := u.Session
	if err := u.Check(); err != nil {
		return fmt.Errorf("sqlitestore: %w", err)
	}
	args := append(sessionArgs(s), s.ID, u.Version)
	return st.write(ctx, "update session", func(tx *sql.Tx) error {
		res, err := st.inTx(ctx, tx, qUpdateSession).ExecContext(ctx, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected() // changes()
		if err != nil {
			return err
		}
		if n == 0 {
			var exists bool
			if err := st.inTx(ctx, tx, qSessionExists).QueryRowContext(ctx, s.ID).Scan(&exists); err != nil {
				return err
			}
			if exists {
				return store.ErrStale
			}
			return store.ErrNotFound
		}
		if u.Revoked {
			_, err = st.inTx(ctx, tx, qInsertFeed).ExecContext(ctx, s.ID, ms(s.RevokedAt))
		}
		return err
	})
}

// ListSessions returns the subject's sessions that are active at now (not
// revoked, both deadlines after now), oldest first.
func (st *Store) ListSessions(ctx context.Context, subject string, now time.Time) ([]store.Session, error) {
	n := now.UnixMilli()
	rows, err := st.read(qListSessions).QueryContext(ctx, subject, n, n)
	if err != nil {
		return nil, wrap("list sessions", err)
	}
	defer rows.Close()
	out := []store.Session{}
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, wrap("list sessions", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list sessions", err)
	}
	return out, nil
}

// Revocations returns feed entries with Seq > after, in Seq order, at most
// limit of them (limit <= 0: all).
func (st *Store) Revocations(ctx context.Context, after int64, limit int) ([]store.Revocation, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := st.read(qRevocations).QueryContext(ctx, after, limit)
	if err != nil {
		return nil, wrap("revocations", err)
	}
	defer rows.Close()
	out := []store.Revocation{}
	for rows.Next() {
		var (
			r  store.Revocation
			at sql.NullInt64
		)
		if err := rows.Scan(&r.Seq, &r.SessionID, &at); err != nil {
			return nil, wrap("revocations", err)
		}
		r.RevokedAt = fromMs(at)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("revocations", err)
	}
	return out, nil
}

// Prune deletes sessions whose idle or absolute deadline or revocation time
// is before cutoff, feed entries revoked before cutoff, and throttle counters
// whose window ended before cutoff. It returns how many sessions it deleted.
// Sequence numbers are never reused (the feed's key is AUTOINCREMENT).
func (st *Store) Prune(ctx context.Context, cutoff time.Time) (int, error) {
	c := cutoff.UnixMilli()
	deleted := 0
	err := st.write(ctx, "prune", func(tx *sql.Tx) error {
		res, err := st.inTx(ctx, tx, qPruneSessions).ExecContext(ctx, c)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if _, err := st.inTx(ctx, tx, qPruneFeed).ExecContext(ctx, c); err != nil {
			return err
		}
		if _, err := st.inTx(ctx, tx, qPruneThrottle).ExecContext(ctx, c); err != nil {
			return err
		}
		deleted = int(n)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return deleted, nil
}

// Footprint reports the rows of every table of the database as Records, and
// the summed length() of the sessions' text and blob columns as Bytes.
func (st *Store) Footprint(ctx context.Context) (store.Footprint, error) {
	var f store.Footprint
	rows, err := st.r.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`)
	if err != nil {
		return f, wrap("footprint", err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return f, wrap("footprint", err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return f, wrap("footprint", err)
	}
	for _, name := range tables {
		var n int64
		q := `SELECT COUNT(*) FROM "` + strings.ReplaceAll(name, `"`, `""`) + `"`
		if err := st.r.QueryRowContext(ctx, q).Scan(&n); err != nil {
			return f, wrap("footprint", err)
		}
		f.Records += n
	}
	err = st.r.QueryRowContext(ctx, `SELECT COALESCE(SUM(length(id) + length(subject) + length(device_name)
	+ length(ip) + length(user_agent) + length(revoke_reason) + COALESCE(length(token_digest), 0)
	+ COALESCE(length(secret_digest), 0) + COALESCE(length(successor), 0)), 0) FROM sessions`).Scan(&f.Bytes)
	if err != nil {
		return f, wrap("footprint", err)
	}
	return f, nil
}
