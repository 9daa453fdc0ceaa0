package rbac

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	redisstore "github.com/authguard/authguard/stores/redis"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/redis/go-redis/v9"
)

// DefaultRedisPrefix is the key prefix of a RedisAdapter unless
// NewRedisAdapter is given another: the Redis store's default.
const DefaultRedisPrefix = "authguard:"

// RedisAdapter is a casbin adapter (persist.Adapter and BatchAdapter, with
// their context variants) over a Redis client, a PolicyVersioner and a
// PolicyNotifier for Watch. Its keys share the hash tag {casbin}, so that
// every script runs on one Cluster slot:
//
//   - <prefix>{casbin}:rules, a sorted set of the rules (a JSON array of
//     the policy type and the values, trailing empty values dropped) scored
//     by the order they were added in;
//   - <prefix>{casbin}:seq, the counter of that order;
//   - <prefix>{casbin}:version, the policy version.
//
// Every change, batch and SavePolicy is one Lua script that changes the
// rules, adds one to the version and PUBLISHes the new version on Channel,
// atomically. Writes are idempotent, as SQLAdapter's are. It is safe for
// concurrent use.
type RedisAdapter struct {
	noDeadline // casbin's methods without a context

	c                   redis.UniversalClient
	rules, seq, version string
	channel             string
}

var (
	_ persist.BatchAdapter        = (*RedisAdapter)(nil)
	_ persist.ContextBatchAdapter = (*RedisAdapter)(nil)
	_ PolicyVersioner             = (*RedisAdapter)(nil)
	_ PolicyNotifier              = (*RedisAdapter)(nil)
)

// NewRedisAdapter returns an adapter over c whose keys start with prefix
// ("" for DefaultRedisPrefix; no '{' or '}', which would change the hash
// slots). As for the Redis store, enable ContextTimeoutEnabled in c's
// options so that a call to a hung server ends at its context's deadline.
func NewRedisAdapter(c redis.UniversalClient, prefix string) (*RedisAdapter, error) {
	if c == nil {
		return nil, errors.New("rbac: NewRedisAdapter: nil client")
	}
	if prefix == "" {
		prefix = DefaultRedisPrefix
	}
	if strings.ContainsAny(prefix, "{}") {
		return nil, fmt.Errorf("rbac: NewRedisAdapter: prefix %q contains a brace", prefix)
	}
	k := prefix + "{casbin}:"
	a := &RedisAdapter{c: c, rules: k + "rules", seq: k + "seq", version: k + "version", channel: k + "changed"}
	a.noDeadline = noDeadline{a}
	return a, nil
}

// Channel returns the pub/sub channel on which every change is announced:
// "<prefix>{casbin}:changed", with the new version as the message (a hint:
// the version key stays the truth).
func (a *RedisAdapter) Channel() string { return a.channel }

// changeScript changes the rules, then adds one to the version and
// publishes it. KEYS rules, seq, version; ARGV channel, operation, then:
// "add", "remove": the encoded rules; "save": the encoded rules, which
// replace every stored one; "filter": the policy type, the index of the
// first value, the values (an empty one matches anything). Returns the new
// version.
var changeScript = redis.NewScript(`
local op = ARGV[2]
local function add(from)
  for i = from, #ARGV do
    if not redis.call('ZSCORE', KEYS[1], ARGV[i]) then
      redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[2]), ARGV[i])
    end
  end
end
if op == 'add' then
  add(3)
elseif op == 'save' then
  redis.call('DEL', KEYS[1])
  add(3)
elseif op == 'remove' then
  for i = 3, #ARGV do redis.call('ZREM', KEYS[1], ARGV[i]) end
elseif op == 'filter' then
  local first = tonumber(ARGV[4])
  for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    local r = cjson.decode(m)
    if r[1] == ARGV[3] then
      local match = true
      for j = 5, #ARGV do
        if ARGV[j] ~= '' and r[2 + first + j - 5] ~= ARGV[j] then
          match = false
          break
        end
      end
      if match then redis.call('ZREM', KEYS[1], m) end
    end
  end
else
  return redis.error_reply('unknown operation ' .. op)
end
local v = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[1], v)
return v
`)

// encodeRule is the stored form of a rule: a JSON array of ptype and the
// values, trailing empty values dropped, so that a rule has one form.
func encodeRule(ptype string, rule []string) (string, error) {
	if _, err := row(ptype, rule); err != nil {
		return "", err
	}
	r := append([]string{ptype}, rule...)
	for len(r) > 1 && r[len(r)-1] == "" {
		r = r[:len(r)-1]
	}
	b, err := json.Marshal(r)
	return string(b), err
}

// change runs changeScript with op and args.
func (a *RedisAdapter) change(ctx context.Context, what, op string, args []string) error {
	argv := make([]any, 0, 2+len(args))
	argv = append(argv, a.channel, op)
	for _, s := range args {
		argv = append(argv, s)
	}
	if err := changeScript.Run(ctx, a.c, []string{a.rules, a.seq, a.version}, argv...).Err(); err != nil {
		return fmt.Errorf("rbac: %s: %w", what, err)
	}
	return nil
}

// encodeRules encodes rules of ptype.
func encodeRules(ptype string, rules [][]string) ([]string, error) {
	out := make([]string, 0, len(rules))
	for _, r := range rules {
		s, err := encodeRule(ptype, r)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// LoadPolicyCtx loads every stored rule into m, in the order they were added.
func (a *RedisAdapter) LoadPolicyCtx(ctx context.Context, m model.Model) error {
	members, err := a.c.ZRange(ctx, a.rules, 0, -1).Result()
	if err != nil {
		return fmt.Errorf("rbac: load policy: %w", err)
	}
	for _, s := range members {
		var r []string
		if err := json.Unmarshal([]byte(s), &r); err != nil || len(r) < 1 || r[0] == "" {
			return fmt.Errorf("rbac: load policy: a rule of %s is not a policy type and values", a.rules)
		}
		if r = fitRule(m, r); len(r) < 2 {
			return fmt.Errorf("rbac: load policy: a rule of %s has no value", a.rules)
		}
		if err := persist.LoadPolicyArray(r, m); err != nil {
			return fmt.Errorf("rbac: load policy: %w", err)
		}
	}
	return nil
}

// SavePolicyCtx replaces every stored rule with the rules of m, atomically.
func (a *RedisAdapter) SavePolicyCtx(ctx context.Context, m model.Model) error {
	var all []string
	for _, sec := range []string{"p", "g"} {
		ptypes := make([]string, 0, len(m[sec]))
		for ptype := range m[sec] {
			ptypes = append(ptypes, ptype)
		}
		slices.Sort(ptypes)
		for _, ptype := range ptypes {
			rs, err := encodeRules(ptype, m[sec][ptype].Policy)
			if err != nil {
				return fmt.Errorf("rbac: save policy: %w", err)
			}
			all = append(all, rs...)
		}
	}
	return a.change(ctx, "save policy", "save", all)
}

// AddPolicyCtx stores one rule (nothing if it is stored already).
func (a *RedisAdapter) AddPolicyCtx(ctx context.Context, _ string, ptype string, rule []string) error {
	return a.AddPoliciesCtx(ctx, "", ptype, [][]string{rule})
}

// RemovePolicyCtx deletes one rule (nothing if it is not stored).
func (a *RedisAdapter) RemovePolicyCtx(ctx context.Context, _ string, ptype string, rule []string) error {
	return a.RemovePoliciesCtx(ctx, "", ptype, [][]string{rule})
}

// AddPoliciesCtx stores rules atomically.
func (a *RedisAdapter) AddPoliciesCtx(ctx context.Context, _ string, ptype string, rules [][]string) error {
	rs, err := encodeRules(ptype, rules)
	if err != nil {
		return fmt.Errorf("rbac: add policy: %w", err)
	}
	return a.change(ctx, "add policy", "add", rs)
}

// RemovePoliciesCtx deletes rules atomically.
func (a *RedisAdapter) RemovePoliciesCtx(ctx context.Context, _ string, ptype string, rules [][]string) error {
	rs, err := encodeRules(ptype, rules)
	if err != nil {
		return fmt.Errorf("rbac: remove policy: %w", err)
	}
	return a.change(ctx, "remove policy", "remove", rs)
}

// RemoveFilteredPolicyCtx deletes the rules of ptype whose values from
// fieldIndex on equal fieldValues, an empty value matching anything.
func (a *RedisAdapter) RemoveFilteredPolicyCtx(ctx context.Context, _ string, ptype string, fieldIndex int, fieldValues ...string) error {
	if ptype == "" || fieldIndex < 0 || fieldIndex+len(fieldValues) > maxRuleValues {
		return fmt.Errorf("rbac: remove filtered policy: bad filter (type %q, fields %d to %d)", ptype, fieldIndex, fieldIndex+len(fieldValues)-1)
	}
	args := append([]string{ptype, strconv.Itoa(fieldIndex)}, fieldValues...)
	return a.change(ctx, "remove filtered policy", "filter", args)
}

// PolicyVersion returns the stored policy's version, which every change
// through a RedisAdapter raises (0 before the first).
func (a *RedisAdapter) PolicyVersion(ctx context.Context) (int64, error) {
	v, err := a.c.Get(ctx, a.version).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("rbac: policy version: %w", err)
	}
	return v, nil
}

// WatchPolicy subscribes to Channel (see redisstore.WatchChannel): it calls
// wake once subscribed and after every change announced, and subscribes
// again with a backoff after a failure, until ctx ends.
func (a *RedisAdapter) WatchPolicy(ctx context.Context, wake func()) error {
	return redisstore.WatchChannel(ctx, a.c, a.channel, wake)
}
