package sqlitestore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/authguard/authguard/core/store"
)

type scanner interface{ Scan(dest ...any) error }

// scanSession scans sessionCols followed by extra destinations.
func scanSession(row scanner, extra ...any) (store.Session, error) {
	var (
		s                                                  store.Session
		auth, created, used, idle, abs, revoked, rotatedAt sql.NullInt64
		successor                                          []byte
	)
	dest := append([]any{&s.ID, &s.Subject, &s.DeviceName, &s.IP, &s.UserAgent, &auth, &created,
		&used, &idle, &abs, &revoked, &s.RevokeReason, &s.Generation, &rotatedAt, &s.GraceReplays, &successor}, extra...)
	if err := row.Scan(dest...); err != nil {
		return store.Session{}, err
	}
	s.AuthTime, s.CreatedAt, s.LastUsedAt = fromMs(auth), fromMs(created), fromMs(used)
	s.IdleExpiresAt, s.AbsoluteExpiresAt = fromMs(idle), fromMs(abs)
	s.RevokedAt, s.RotatedAt = fromMs(revoked), fromMs(rotatedAt)
	if len(successor) > 0 {
		s.Successor = successor
	}
	return s, nil
}

// CreateSession stores a new session whose current token has the digest
// tokenHash (recorded with generation s.Generation, which the core sets to
// 0). It returns store.ErrConflict if the id or the digest exists.
func (st *Store) CreateSession(ctx context.Context, s store.Session, tokenHash []byte) error {
	if len(tokenHash) == 0 {
		return errors.New("sqlitestore: create session: empty token digest")
	}
	return st.write(ctx, "create session", func(tx *sql.Tx) error {
		_, err := st.inTx(ctx, tx, qInsertSession).ExecContext(ctx,
			s.ID, s.Subject, s.DeviceName, s.IP, s.UserAgent,
			ms(s.AuthTime), ms(s.CreatedAt), ms(s.LastUsedAt), ms(s.IdleExpiresAt), ms(s.AbsoluteExpiresAt),
			ms(s.RevokedAt), s.RevokeReason, s.Generation, ms(s.RotatedAt), s.GraceReplays, blob(s.Successor))
		if err != nil {
			return err
		}
		_, err = st.inTx(ctx, tx, qInsertToken).ExecContext(ctx, tokenHash, s.ID, s.Generation)
		return err
	})
}

// blob returns b, or nil (NULL) when b is empty.
func blob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
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

// SessionByToken resolves a digest of any generation to its session and the
// generation of that token, or store.ErrNotFound.
func (st *Store) SessionByToken(ctx context.Context, tokenHash []byte) (store.Session, int64, error) {
	var gen int64
	s, err := scanSession(st.read(qByToken).QueryRowContext(ctx, tokenHash), &gen)
	if err != nil {
		return store.Session{}, 0, wrap("session by token", err)
	}
	return s, gen, nil
}

// Rotate resolves tokenHash and, inside one BEGIN IMMEDIATE transaction,
// calls decide and applies the Change it returns (see store.Sessions.Rotate).
// Change.At is the time of the change: RotatedAt and LastUsedAt for
// ChangeRotate, LastUsedAt for ChangeReplay, RevokedAt for ChangeRevoke; when
// it is zero the current time is used, so a revocation never leaves RevokedAt
// zero. ChangeRevoke on an already revoked session writes nothing and reports
// ChangeNone. ChangeRotate to a digest that exists returns store.ErrConflict
// and writes nothing. If the transaction is retried after SQLITE_BUSY, decide
// is called again on the fresh state; only the committed Change is returned.
func (st *Store) Rotate(ctx context.Context, tokenHash []byte, decide store.Decide) (store.Session, store.Change, error) {
	var (
		out     store.Session
		applied store.Change
	)
	err := st.write(ctx, "rotate", func(tx *sql.Tx) error {
		var gen int64
		s, err := scanSession(st.inTx(ctx, tx, qByToken).QueryRowContext(ctx, tokenHash), &gen)
		if err != nil {
			return err
		}
		in := s
		in.Successor = bytes.Clone(s.Successor)
		ch := decide(in, gen)
		switch ch.Kind {
		case store.ChangeNone:
		case store.ChangeRotate:
			if len(ch.NewTokenHash) == 0 {
				return errors.New("empty new token digest")
			}
			when := trunc(stamp(ch.At))
			s.Generation++
			s.Successor = nil
			if len(ch.Successor) > 0 {
				s.Successor = append([]byte(nil), ch.Successor...)
			}
			s.RotatedAt, s.LastUsedAt = when, when
			s.IdleExpiresAt = trunc(ch.IdleExpiresAt)
			s.GraceReplays = 0
			if _, err := st.inTx(ctx, tx, qInsertToken).ExecContext(ctx, ch.NewTokenHash, s.ID, s.Generation); err != nil {
				return err
			}
			if _, err := st.inTx(ctx, tx, qRotate).ExecContext(ctx, s.Generation, blob(s.Successor), ms(when), ms(when), ms(s.IdleExpiresAt), s.ID); err != nil {
				return err
			}
		case store.ChangeReplay:
			when := trunc(stamp(ch.At))
			s.GraceReplays++
			s.LastUsedAt = when
			if _, err := st.inTx(ctx, tx, qReplay).ExecContext(ctx, ms(when), s.ID); err != nil {
				return err
			}
		case store.ChangeRevoke:
			if !s.RevokedAt.IsZero() {
				ch = store.Change{Kind: store.ChangeNone}
				break
			}
			when := trunc(stamp(ch.At))
			s.RevokedAt, s.RevokeReason = when, ch.Reason
			if _, err := st.inTx(ctx, tx, qRevoke).ExecContext(ctx, ms(when), ch.Reason, s.ID); err != nil {
				return err
			}
			if _, err := st.inTx(ctx, tx, qInsertFeed).ExecContext(ctx, s.ID, ms(when)); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unknown change kind %d", ch.Kind)
		}
		out = s
		applied = ch
		applied.NewTokenHash = append([]byte(nil), ch.NewTokenHash...)
		applied.Successor = append([]byte(nil), ch.Successor...)
		return nil
	})
	if err != nil {
		return store.Session{}, store.Change{}, err
	}
	return out, applied, nil
}

// stamp is t, or the current time when t is zero.
func stamp(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
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

// RevokeSession revokes the session if it is active at at (see
// store.Session.Active) and appends it to the revocation feed. It reports
// whether it changed anything; an unknown, revoked or expired session is not
// an error. A zero at means the current time.
func (st *Store) RevokeSession(ctx context.Context, id string, at time.Time, reason string) (bool, error) {
	n := trunc(stamp(at)).UnixMilli()
	changed := false
	err := st.write(ctx, "revoke session", func(tx *sql.Tx) error {
		changed = false
		res, err := st.inTx(ctx, tx, qRevokeIfActive).ExecContext(ctx, n, reason, id, n, n)
		if err != nil {
			return err
		}
		if k, err := res.RowsAffected(); err != nil || k == 0 {
			return err
		}
		if _, err := st.inTx(ctx, tx, qInsertFeed).ExecContext(ctx, id, n); err != nil {
			return err
		}
		changed = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return changed, nil
}

// RevokeSubject revokes every session of subject that is active at at, except
// the one whose id is except (empty: none), and returns how many it revoked.
// The feed gets one entry per session, oldest session first. A zero at means
// the current time.
func (st *Store) RevokeSubject(ctx context.Context, subject, except string, at time.Time, reason string) (int, error) {
	n := trunc(stamp(at)).UnixMilli()
	count := 0
	err := st.write(ctx, "revoke subject", func(tx *sql.Tx) error {
		res, err := st.inTx(ctx, tx, qFeedSubject).ExecContext(ctx, n, subject, except, except, n, n)
		if err != nil {
			return err
		}
		inserted, err := res.RowsAffected()
		if err != nil {
			return err
		}
		res, err = st.inTx(ctx, tx, qRevokeSubject).ExecContext(ctx, n, reason, subject, except, except, n, n)
		if err != nil {
			return err
		}
		updated, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if inserted != updated {
			return fmt.Errorf("revoked %d sessions but appended %d feed entries", updated, inserted)
		}
		count = int(updated)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return count, nil
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

// Prune deletes sessions (and all their digests) whose idle or absolute
// deadline or revocation time is before cutoff, feed entries revoked before
// cutoff, and throttle counters whose window ended before cutoff. It returns
// how many sessions it deleted. Sequence numbers are never reused.
func (st *Store) Prune(ctx context.Context, cutoff time.Time) (int, error) {
	c := cutoff.UnixMilli()
	deleted := 0
	err := st.write(ctx, "prune", func(tx *sql.Tx) error {
		// The foreign key cascades too; this does not depend on it.
		if _, err := st.inTx(ctx, tx, qPruneTokens).ExecContext(ctx, c); err != nil {
			return err
		}
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
