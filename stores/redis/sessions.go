package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authguard/authguard/core/store"
)

// indexGrace is how long a member of a session index is kept although its
// session is missing or belongs to another subject: the index is written
// before the session, so a young member may belong to a write in flight.
const indexGrace = time.Minute

// nowMs is this process's clock in Unix milliseconds (off by the test-only
// skew, see withClockSkew).
func (s *Store) nowMs() int64 { return time.Now().Add(s.o.skew).UnixMilli() }

// CreateSession stores a new session; ErrConflict if the id exists. The
// session is added to its subject's index and to the index Prune walks
// first: an index member without a session is harmless and cleaned later.
func (s *Store) CreateSession(ctx context.Context, sess store.Session) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	_, err = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, idx := range []string{s.allKey(), s.subjectKey(sess.Subject)} {
			indexAddScript.Eval(ctx, p, []string{idx}, sess.ID) // EVAL: a pipeline cannot fall back from EVALSHA
		}
		return nil
	})
	if err != nil {
		return wrap("create session", err)
	}
	n, err := createScript.Run(ctx, s.c, []string{s.sessionKey(sess.ID)},
		encodeSession(&sess), keepMs(&sess), s.o.retention.Milliseconds()).Int()
	if err != nil {
		return wrap("create session", err)
	}
	if n == 0 {
		return store.ErrConflict
	}
	return nil
}

// Session returns the session with the given id or ErrNotFound.
func (s *Store) Session(ctx context.Context, id string) (store.Session, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.Session{}, err
	}
	defer cancel()
	v, err := s.c.Get(ctx, s.sessionKey(id)).Result()
	if errors.Is(err, redis.Nil) {
		return store.Session{}, store.ErrNotFound
	}
	if err != nil {
		return store.Session{}, wrap("read session", err)
	}
	return decodeSession(id, v)
}

// UpdateSession writes u.Session if the stored version is still u.Version:
// one script in the session's hash slot.
//
// A revoking write must also reach the feed, which lives in another slot,
// so on a Cluster no script can do both. Appending to the feed before the
// write would publish revocations whose write then loses (every instance
// would refuse a live session's access tokens); appending after it would
// lose the revocation if the writer died in between. So a revocation goes
// through three steps, none of which can lose it or invent one:
//
//  1. announce: a random nonce and the session id are added to the feed
//     slot's intent set (an intent publishes nothing by itself);
//  2. write: the compare-and-set script writes the session and, in the same
//     slot and atomically with it, records the pending revocation under the
//     nonce, unless the nonce was fenced (step 3b), in which case nothing is
//     written and the call fails;
//  3. publish: the writer appends the pending revocation to the feed (a
//     script that takes a Seq from the counter, deduplicates on the nonce
//     and removes the intent), then drops the pending record.
//
// If the publish fails after step 2, or the write's own outcome is unknown
// (its answer was lost), the writer settles the intent itself at its next
// feed read, as below, so that other instances learn of the revocation as
// soon as Redis answers the writer again. If the writer dies, any reader of
// the feed finds the intent once it is older than a grace period (its age
// by the Redis server's clock, so instances whose clocks differ agree) and
// settles it in the session's slot: (a) when the pending record is there, it
// publishes it (the deduplication makes a second publish harmless); (b) when
// it is not, it fences the nonce, so that a write still in flight can never
// land, and drops the intent. A revocation is thus in the feed as soon as
// its write returned, or at the writer's next feed read after Redis answers
// it again, or at the latest a grace period after the writer died, and only
// revocations whose write landed ever are.
func (s *Store) UpdateSession(ctx context.Context, u store.Update) error {
	if err := u.Check(); err != nil {
		return fmt.Errorf("redisstore: %w", err)
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	var nonce string
	if u.Revoked {
		if nonce, err = s.announce(ctx, u.Session.ID); err != nil {
			return err
		}
	}
	if err := s.write(ctx, u, nonce); err != nil {
		return err
	}
	if u.Revoked {
		// The write has landed: report success whatever happens now; a
		// publish that fails here is done by the next reader of the feed.
		pctx, pcancel := publishContext(ctx)
		defer pcancel()
		if err := s.publish(pctx, u.Session.ID, nonce, feedTail(&u.Session)); err != nil {
			s.mine.add(nonce + u.Session.ID)
			s.o.log.Warn("redisstore: revocation written but not yet in the feed; the next feed read publishes it",
				"error", err.Error())
		}
	}
	return nil
}

// publishContext is the context of the feed bookkeeping that follows a
// revoking write (the publish after it landed, the withdrawal of the intent
// after it lost): it survives the caller's cancellation (a client that went
// away), but not the caller's deadline, so a hung Redis costs the caller no
// more than it allowed (the core's StoreTimeout); without a deadline, 5s.
func publishContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok {
		return context.WithDeadline(context.WithoutCancel(ctx), d)
	}
	return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
}

// announce adds a revocation intent of session sid to the feed slot and
// returns its nonce (step 1 of UpdateSession).
func (s *Store) announce(ctx context.Context, sid string) (string, error) {
	nonce := newNonce()
	err := announceScript.Run(ctx, s.c, []string{s.feedKey("intent")}, nonce+sid).Err()
	return nonce, wrap("announce revocation", err)
}

// feedTail is the feed entry of a revoked session without its Seq.
func feedTail(sess *store.Session) string {
	return sess.RevokedAt.UTC().Format(time.RFC3339Nano) + "\n" + sess.ID
}

// write is the compare-and-set of u (step 2 of UpdateSession); nonce is the
// announced revocation's, or "".
func (s *Store) write(ctx context.Context, u store.Update, nonce string) error {
	sess := &u.Session
	tail := ""
	if nonce != "" {
		tail = feedTail(sess)
	}
	code, err := updateScript.Run(ctx, s.c, []string{s.sessionKey(sess.ID), s.pendingKey(sess.ID)},
		versionHeader(u.Version), encodeSession(sess), keepMs(sess), s.o.retention.Milliseconds(), nonce, tail).Int64()
	if err != nil {
		if nonce != "" {
			s.mine.add(nonce + sess.ID) // the write may have landed: the next feed read settles it
		}
		return wrap("update session", err)
	}
	if code != 1 && code != 2 {
		if nonce != "" {
			zctx, cancel := publishContext(ctx)
			_ = s.c.ZRem(zctx, s.feedKey("intent"), nonce+sess.ID).Err() // else a reader settles it
			cancel()
		}
		switch code {
		case 0:
			return store.ErrNotFound
		case -1:
			return store.ErrStale
		default:
			return wrap("update session", errors.New("revocation announcement given up before the write"))
		}
	}
	if code == 2 {
		// The session changed subject: index it under the new one (the old
		// index is cleaned by ListSessions).
		_ = indexAddScript.Run(ctx, s.c, []string{s.subjectKey(sess.Subject)}, sess.ID).Err()
	}
	return nil
}

// publish appends the pending revocation nonce of session sid (its feed
// entry tail) to the feed and drops the pending record.
func (s *Store) publish(ctx context.Context, sid, nonce, tail string) error {
	at, err := parseTail(tail)
	if err != nil {
		return err
	}
	keys := []string{s.feedKey("log"), s.feedKey("time"), s.feedKey("seq"), s.feedKey("intent"), s.feedKey("n:" + nonce)}
	if err := publishScript.Run(ctx, s.c, keys, nonce+sid, tail, ms(at), s.o.retention.Milliseconds(), s.Channel()).Err(); err != nil {
		return wrap("publish revocation", err)
	}
	return wrap("publish revocation", s.c.HDel(ctx, s.pendingKey(sid), nonce).Err())
}

// ListSessions returns the subject's active sessions at now, oldest first.
func (s *Store) ListSessions(ctx context.Context, subject string, now time.Time) ([]store.Session, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	idx := s.subjectKey(subject)
	members, err := s.c.ZRangeWithScores(ctx, idx, 0, -1).Result()
	if err != nil {
		return nil, wrap("list sessions", err)
	}
	if len(members) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.StringCmd, len(members))
	_, err = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, m := range members {
			cmds[i] = p.Get(ctx, s.sessionKey(m.Member.(string)))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, wrap("list sessions", err)
	}
	var out []store.Session
	var stale []any
	for i, m := range members {
		id := m.Member.(string)
		v, err := cmds[i].Result()
		if errors.Is(err, redis.Nil) {
			stale = append(stale, id)
			continue
		}
		if err != nil {
			return nil, wrap("list sessions", err)
		}
		sess, err := decodeSession(id, v)
		if err != nil {
			return nil, err
		}
		if sess.Subject != subject {
			stale = append(stale, id)
			continue
		}
		if sess.Active(now) {
			out = append(out, sess)
		}
	}
	if len(stale) > 0 {
		args := append([]any{indexGrace.Milliseconds()}, stale...)
		_ = zremOlderScript.Run(ctx, s.c, []string{idx}, args...).Err() // best effort
	}
	slices.SortFunc(out, func(a, b store.Session) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// parseTail reads the revocation time of a feed entry tail.
func parseTail(tail string) (time.Time, error) {
	for i := 0; i < len(tail); i++ {
		if tail[i] == '\n' {
			t, err := time.Parse(time.RFC3339Nano, tail[:i])
			return t.UTC(), err
		}
	}
	return time.Time{}, errCorrupt
}

// parseEntry reads a feed entry "<seq>\n<RFC3339Nano>\n<sid>".
func parseEntry(e string) (store.Revocation, error) {
	for i := 0; i < len(e); i++ {
		if e[i] == '\n' {
			seq, err := strconv.ParseInt(e[:i], 10, 64)
			if err != nil {
				return store.Revocation{}, errCorrupt
			}
			rest := e[i+1:]
			at, err := parseTail(rest)
			if err != nil {
				return store.Revocation{}, errCorrupt
			}
			j := 0
			for rest[j] != '\n' {
				j++
			}
			return store.Revocation{Seq: seq, SessionID: rest[j+1:], RevokedAt: at}, nil
		}
	}
	return store.Revocation{}, errCorrupt
}
