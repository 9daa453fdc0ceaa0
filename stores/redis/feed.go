package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authguard/authguard/core/store"
)

// nonceLen is the length of a revocation nonce (hex).
const nonceLen = 32

func newNonce() string {
	var b [nonceLen / 2]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// maxUnsettled bounds the revocations a Store remembers as announced by
// itself and not yet published; beyond it, they wait for the grace period
// after which any reader of the feed settles them.
const maxUnsettled = 10000

// unsettled holds the intent members ("<nonce><sid>") of the revocations
// this Store announced whose publish did not complete: the publish failed
// after the write landed, or the write's own outcome is unknown.
type unsettled struct {
	mu sync.Mutex
	m  map[string]struct{}
}

func (u *unsettled) add(member string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		u.m = make(map[string]struct{})
	}
	if len(u.m) < maxUnsettled {
		u.m[member] = struct{}{}
	}
}

// take removes and returns up to n members.
func (u *unsettled) take(n int) []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]string, 0, min(n, len(u.m)))
	for m := range u.m {
		if len(out) == n {
			break
		}
		out = append(out, m)
		delete(u.m, m)
	}
	return out
}

// Revocations returns feed entries with Seq > after, in Seq order, at most
// limit of them (limit <= 0: no limit). It first settles the revocations
// this Store announced and could not publish, then those announced longer
// than a grace period ago whose writer never published them (see
// UpdateSession).
func (s *Store) Revocations(ctx context.Context, after int64, limit int) ([]store.Revocation, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	s.settleMine(ctx)
	for range 2 {
		res, err := readFeedScript.Run(ctx, s.c, []string{s.feedKey("log"), s.feedKey("intent")},
			after, limit, s.o.sweep.Milliseconds()).Slice()
		if err != nil {
			return nil, wrap("read feed", err)
		}
		entries, _ := res[0].([]any)
		intents, _ := res[1].([]any)
		if len(intents) > 0 {
			if err := s.settle(ctx, intents); err != nil {
				return nil, err
			}
			continue // read again: settling may have appended
		}
		out := make([]store.Revocation, 0, len(entries))
		for _, e := range entries {
			str, _ := e.(string)
			r, err := parseEntry(str)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, nil
	}
	return nil, wrap("read feed", errors.New("announced revocations keep appearing"))
}

// settleMine settles some of the revocations this Store could not publish
// (as many as a feed read settles of others', so that a backlog left by an
// outage cannot make the read itself miss its deadline). What fails is
// kept for the next read.
func (s *Store) settleMine(ctx context.Context) {
	mine := s.mine.take(100)
	for i, m := range mine {
		if err := s.settle(ctx, []any{m}); err != nil {
			for _, m := range mine[i:] {
				s.mine.add(m)
			}
			return
		}
	}
}

// settle publishes or fences the announced revocations intents (members
// "<nonce><sid>" of the intent set).
func (s *Store) settle(ctx context.Context, intents []any) error {
	for _, m := range intents {
		member, _ := m.(string)
		if len(member) < nonceLen {
			_ = s.c.ZRem(ctx, s.feedKey("intent"), member).Err()
			continue
		}
		nonce, sid := member[:nonceLen], member[nonceLen:]
		tail, err := resolveScript.Run(ctx, s.c, []string{s.pendingKey(sid)}, nonce, s.o.retention.Milliseconds()).Text()
		if err != nil {
			return wrap("settle revocation", err)
		}
		if tail == "" { // the write never landed and now never will
			if err := s.c.ZRem(ctx, s.feedKey("intent"), member).Err(); err != nil {
				return wrap("settle revocation", err)
			}
			continue
		}
		if err := s.publish(ctx, sid, nonce, tail); err != nil {
			return err
		}
	}
	return nil
}

// Prune deletes the sessions whose deadlines or revocation are before
// cutoff (compared at millisecond precision), and the feed entries revoked
// before it. Sequence numbers are never reused: the counter is never
// deleted. Sessions Redis already expired are not counted.
func (s *Store) Prune(ctx context.Context, cutoff time.Time) (int, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer cancel()
	start := s.nowMs()
	deleted := 0
	var cursor uint64
	for {
		ids, next, err := s.c.ZScan(ctx, s.allKey(), cursor, "", 200).Result()
		if err != nil {
			return deleted, wrap("prune", err)
		}
		n, err := s.pruneBatch(ctx, ids, ms(cutoff), start)
		deleted += n
		if err != nil {
			return deleted, err
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	for {
		n, err := pruneFeedScript.Run(ctx, s.c, []string{s.feedKey("time"), s.feedKey("log")}, ms(cutoff)).Int()
		if err != nil {
			return deleted, wrap("prune feed", err)
		}
		if n < 1000 {
			return deleted, nil
		}
	}
}

// pruneBatch prunes the sessions of one ZSCAN page (id, score pairs) and
// removes the deleted or missing ones from the indexes.
func (s *Store) pruneBatch(ctx context.Context, page []string, cutoffMs, start int64) (int, error) {
	cmds := make([]*redis.Cmd, 0, len(page)/2)
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := 0; i+1 < len(page); i += 2 {
			cmds = append(cmds, pruneScript.Eval(ctx, p, // EVAL: a pipeline cannot fall back from EVALSHA
				[]string{s.sessionKey(page[i])}, cutoffMs))
		}
		return nil
	})
	if err != nil {
		return 0, wrap("prune", err)
	}
	deleted := 0
	var gone, missing []any // deleted now; missing (expired, or a create in flight)
	bySubject := map[string][]any{}
	for i, c := range cmds {
		id := page[2*i]
		res, err := c.Slice()
		if err != nil {
			return deleted, wrap("prune", err)
		}
		switch code, _ := res[0].(int64); code {
		case 1:
			deleted++
			gone = append(gone, id)
			sub, _ := res[1].(string)
			bySubject[sub] = append(bySubject[sub], id)
		case -1:
			missing = append(missing, id)
		}
	}
	// unindex removes ids from idx unless added again less than age ago: a
	// deleted session's id unless re-added since start (the time since start,
	// rounded up), a missing one's unless added within the grace before.
	unindex := func(idx string, ids []any, grace time.Duration) error {
		if len(ids) == 0 {
			return nil
		}
		age := s.nowMs() - start + 1 + grace.Milliseconds()
		return zremOlderScript.Run(ctx, s.c, []string{idx}, append([]any{age}, ids...)...).Err()
	}
	if err := unindex(s.allKey(), gone, 0); err != nil {
		return deleted, wrap("prune", err)
	}
	if err := unindex(s.allKey(), missing, indexGrace); err != nil {
		return deleted, wrap("prune", err)
	}
	for sub, ids := range bySubject {
		if err := unindex(s.subjectKey(sub), ids, 0); err != nil {
			return deleted, wrap("prune", err)
		}
	}
	return deleted, nil
}
