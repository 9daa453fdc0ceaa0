// Package redisstore is an authguard store (the contract of package
// github.com/authguard/authguard/core/store) on Redis, through a
// caller-owned go-redis [redis.UniversalClient]: a single node, a Sentinel
// failover client or a Cluster client.
//
// Every conditional write is one Lua script (loaded once and called by SHA)
// whose keys share one hash slot, so the store runs unchanged on a Cluster.
// The revocation feed lives in its own slot; how a revocation reaches it
// without ever being lost or invented is described on [Store.UpdateSession].
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authguard/authguard/core/store"
)

// ErrClosed is returned by every method of a closed Store.
var ErrClosed = errors.New("redisstore: store is closed")

// DefaultPrefix is the key prefix of a Store created without WithPrefix.
const DefaultPrefix = "authguard:"

// DefaultRetention is how long a session's keys outlive the later of its
// deadlines (and its last write) before Redis expires them.
const DefaultRetention = 7 * 24 * time.Hour

type options struct {
	prefix    string
	retention time.Duration
	timeout   time.Duration
	log       *slog.Logger
	sweep     time.Duration
	skew      time.Duration // tests: how far this process's clock is off
}

// Option configures a Store.
type Option func(*options) error

// WithPrefix sets the prefix of every key the store writes (default
// "authguard:"), so that several applications, or tests, share one Redis.
// The prefix may not contain '{' or '}' (they would change the hash slots).
func WithPrefix(p string) Option {
	return func(o *options) error {
		if strings.ContainsAny(p, "{}") {
			return fmt.Errorf("redisstore: prefix %q contains a brace", p)
		}
		o.prefix = p
		return nil
	}
}

// WithRetention sets how long the keys of a session live after the later
// of its deadlines, its revocation and its last write (default 7 days). It
// must be at least the retention the core prunes with (24 hours or more):
// Redis expiry is a backstop for Prune, never a replacement for it.
func WithRetention(d time.Duration) Option {
	return func(o *options) error {
		if d < time.Hour {
			return fmt.Errorf("redisstore: retention %v is under an hour", d)
		}
		o.retention = d
		return nil
	}
}

// WithCallTimeout bounds every call of the store with a context timeout
// (default 0: only the caller's context bounds it; the core bounds each of
// its calls with core.Config.StoreTimeout already).
func WithCallTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("redisstore: negative call timeout %v", d)
		}
		o.timeout = d
		return nil
	}
}

// WithLogger sets the logger of the store's warnings (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("redisstore: nil logger")
		}
		o.log = l
		return nil
	}
}

// Store is a store.Store on Redis. It is safe for concurrent use.
type Store struct {
	c      redis.UniversalClient
	o      options
	closed atomic.Bool
	mine   unsettled
}

// withSweepAfter sets how old an announced revocation must be before a
// reader of the feed settles it (default 10s; tests shorten it).
func withSweepAfter(d time.Duration) Option {
	return func(o *options) error {
		o.sweep = d
		return nil
	}
}

// withClockSkew sets this process's clock off by d, as a machine whose
// clock is wrong has it (tests only).
func withClockSkew(d time.Duration) Option {
	return func(o *options) error {
		o.skew = d
		return nil
	}
}

var (
	_ store.Store       = (*Store)(nil)
	_ store.UserCounter = (*Store)(nil)
	_ store.Pinger      = (*Store)(nil)
	_ store.Footprinter = (*Store)(nil)
	_ store.Notifier    = (*Store)(nil)
)

// New returns a Store over client, which stays the caller's: Close does not
// close it. New pings the server and warns (through the logger) when its
// maxmemory-policy may evict keys.
//
// New refuses a Cluster or Sentinel client that sends reads to replicas
// (ClusterOptions.ReadOnly, RouteByLatency or RouteRandomly,
// FailoverOptions.ReplicaOnly or RouteRandomly): a replica that lags, even
// by a millisecond, answers "no such session" for a session just created on
// the primary (a user logged out by a guard on another instance) and an old
// version of one just rotated. Give the store a client that reads from
// primaries.
func New(ctx context.Context, client redis.UniversalClient, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: nil client")
	}
	if cc, ok := client.(*redis.ClusterClient); ok && cc.Options().ReadOnly {
		return nil, errors.New("redisstore: the client reads from replicas (ReadOnly, RouteByLatency or RouteRandomly): a lagging replica would log users out; use a client that reads from primaries")
	}
	o := options{prefix: DefaultPrefix, retention: DefaultRetention, log: slog.Default(), sweep: 10 * time.Second}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	s := &Store{c: client, o: o}
	s.checkContextTimeouts()
	if err := s.Ping(ctx); err != nil {
		return nil, err
	}
	s.checkEviction(ctx)
	return s, nil
}

// checkContextTimeouts logs a warning when the client ignores context
// deadlines on its sockets (go-redis does unless ContextTimeoutEnabled is
// set): a Redis that hangs then holds every call for the client's
// ReadTimeout, not for the core's StoreTimeout or WithCallTimeout.
func (s *Store) checkContextTimeouts() {
	var enabled bool
	var read time.Duration
	switch c := s.c.(type) {
	case *redis.Client:
		enabled, read = c.Options().ContextTimeoutEnabled, c.Options().ReadTimeout
	case *redis.ClusterClient:
		enabled, read = c.Options().ContextTimeoutEnabled, c.Options().ReadTimeout
	case *redis.Ring:
		enabled, read = c.Options().ContextTimeoutEnabled, c.Options().ReadTimeout
	default:
		return // a wrapper of the caller's: its deadlines are its own
	}
	if !enabled {
		s.o.log.Warn("redisstore: the Redis client ignores context deadlines (ContextTimeoutEnabled is false): when Redis hangs, each call waits for the client's ReadTimeout instead of the store timeout; set ContextTimeoutEnabled: true in its options",
			slog.Duration("read_timeout", read))
	}
}

// checkEviction logs a warning when a server's maxmemory-policy can evict
// the store's keys: an evicted session is a user logged out, an evicted
// feed a revocation other instances never learn of.
func (s *Store) checkEviction(ctx context.Context) {
	check := func(ctx context.Context, c redis.Cmdable) error {
		m, err := c.ConfigGet(ctx, "maxmemory-policy").Result()
		if err != nil {
			s.o.log.Warn("redisstore: cannot read maxmemory-policy; make sure it is noeviction", slog.String("error", err.Error()))
			return nil
		}
		if p := m["maxmemory-policy"]; evicts(p) {
			s.o.log.Warn("redisstore: Redis may evict keys: an evicted session is a logged-out user and an evicted feed a lost revocation; set maxmemory-policy noeviction",
				slog.String("maxmemory-policy", p))
		}
		return nil
	}
	if cc, ok := s.c.(*redis.ClusterClient); ok {
		_ = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return check(ctx, c) })
		return
	}
	_ = check(ctx, s.c)
}

// evicts reports whether a maxmemory-policy can evict keys of the store.
// volatile-* policies evict keys with a TTL, which every session has.
func evicts(policy string) bool { return policy != "" && policy != "noeviction" }

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	return wrap("ping", s.c.Ping(ctx).Err())
}

// Close marks the store closed: every later call returns ErrClosed. It does
// not close the client, which belongs to the caller. Calling it twice is safe.
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}

// begin checks the store and the context before a call and applies the call
// timeout.
func (s *Store) begin(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if s.closed.Load() {
		return ctx, func() {}, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return ctx, func() {}, fmt.Errorf("redisstore: %w", err)
	}
	if s.o.timeout > 0 {
		ctx, cancel := context.WithTimeout(ctx, s.o.timeout)
		return ctx, cancel, nil
	}
	return ctx, func() {}, nil
}

// wrap wraps a Redis error with the operation's name; nil stays nil.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}

// Key layout. Every key starts with the prefix; the part in braces is the
// hash tag that picks the Cluster slot.
//
//	{s:<sid>}        one session (a string: see encodeSession)
//	{s:<sid>}:p      the session's revocations not yet in the feed
//	{x:<subject>}    the subject's session ids (sorted set, for ListSessions)
//	{all}            every session id (sorted set, for Prune)
//	{feed}:log       the revocation feed by Seq (sorted set)
//	{feed}:time      the same entries by revocation time (for Prune)
//	{feed}:seq       the Seq counter (never deleted)
//	{feed}:intent    revocations announced before their session write
//	{feed}:n:<nonce> a revocation already in the feed (deduplication)
//	{u}:i:<id>       a user (hash); {u}:e:<email> its e-mail; {u}:ids the ids
//	{t:<key>}        a throttle counter (hash)
func (s *Store) sessionKey(id string) string  { return s.o.prefix + "{s:" + id + "}" }
func (s *Store) pendingKey(id string) string  { return s.o.prefix + "{s:" + id + "}:p" }
func (s *Store) subjectKey(sub string) string { return s.o.prefix + "{x:" + sub + "}" }
func (s *Store) allKey() string               { return s.o.prefix + "{all}" }
func (s *Store) feedKey(name string) string   { return s.o.prefix + "{feed}:" + name }
func (s *Store) userKey(id string) string     { return s.o.prefix + "{u}:i:" + id }
func (s *Store) emailPrefix() string          { return s.o.prefix + "{u}:e:" }
func (s *Store) userIDsKey() string           { return s.o.prefix + "{u}:ids" }
func (s *Store) throttleKey(k string) string  { return s.o.prefix + "{t:" + k + "}" }

// ms converts t to Unix milliseconds, the zero time to the minimum.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return minMs
	}
	return t.UnixMilli()
}

// minMs stands for the zero time in millisecond arguments of the scripts
// (exactly representable as a Lua number).
const minMs = -(1 << 52)

// Footprint counts the keys under the prefix and the memory Redis reports
// for them (MEMORY USAGE). Sessions are O(1) keys of constant size whatever
// their number of rotations.
func (s *Store) Footprint(ctx context.Context) (store.Footprint, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.Footprint{}, err
	}
	defer cancel()
	var fp atomic.Int64
	var recs atomic.Int64
	scan := func(ctx context.Context, c redis.Cmdable) error {
		it := c.Scan(ctx, 0, globEscape(s.o.prefix)+"*", 500).Iterator()
		for it.Next(ctx) {
			n, err := c.MemoryUsage(ctx, it.Val(), 0).Result()
			if errors.Is(err, redis.Nil) {
				continue // expired or deleted meanwhile
			}
			if err != nil {
				return err
			}
			recs.Add(1)
			fp.Add(n)
		}
		return it.Err()
	}
	if cc, ok := s.c.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	} else {
		err = scan(ctx, s.c)
	}
	if err != nil {
		return store.Footprint{}, wrap("footprint", err)
	}
	return store.Footprint{Records: recs.Load(), Bytes: fp.Load()}, nil
}

// globEscape escapes the glob metacharacters of a SCAN MATCH pattern.
func globEscape(p string) string {
	var b strings.Builder
	for _, r := range p {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
