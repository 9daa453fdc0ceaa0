package redisstore

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// A throttle counter is a hash {c: count, w: window start in Unix ms} in its
// own slot, expiring when its window ends (and at least a window after its
// last hit by the server's clock).

// hitScript: KEYS counter; ARGV now ms, window ms. Returns {count, start}.
var hitScript = redis.NewScript(keepAtLua + `
local now, win = tonumber(ARGV[1]), tonumber(ARGV[2])
local w = tonumber(redis.call('HGET', KEYS[1], 'w') or '')
local c = tonumber(redis.call('HGET', KEYS[1], 'c') or '0')
if not w or w <= now - win then
  w, c = now, 1
else
  c = c + 1
end
redis.call('HSET', KEYS[1], 'c', c, 'w', string.format('%.0f', w))
redis.call('PEXPIREAT', KEYS[1], keepAt(string.format('%.0f', w), ARGV[2]))
return {c, string.format('%.0f', w)}
`)

// peekScript: KEYS counter; ARGV now ms, window ms. Returns {count, start}
// or {} when the window ended.
var peekScript = redis.NewScript(`
local w = tonumber(redis.call('HGET', KEYS[1], 'w') or '')
if not w or w <= tonumber(ARGV[1]) - tonumber(ARGV[2]) then return {} end
return {tonumber(redis.call('HGET', KEYS[1], 'c')), string.format('%.0f', w)}
`)

// forgiveScript: KEYS counter; ARGV window start ms.
var forgiveScript = redis.NewScript(`
local w = redis.call('HGET', KEYS[1], 'w')
if w ~= ARGV[1] then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'c')) > 0 then redis.call('HINCRBY', KEYS[1], 'c', -1) end
return 1
`)

// Hit adds one failure to key in a fixed window (times at ms precision).
func (s *Store) Hit(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	return s.counter(ctx, "hit", hitScript, key, now, window)
}

// Peek returns the key's count and window start, or 0 and the zero time.
func (s *Store) Peek(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	return s.counter(ctx, "peek", peekScript, key, now, window)
}

func (s *Store) counter(ctx context.Context, op string, sc *redis.Script, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return 0, time.Time{}, err
	}
	defer cancel()
	res, err := sc.Run(ctx, s.c, []string{s.throttleKey(key)}, now.UnixMilli(), window.Milliseconds()).Slice()
	if err != nil {
		return 0, time.Time{}, wrap(op, err)
	}
	if len(res) != 2 {
		return 0, time.Time{}, nil
	}
	n, _ := res[0].(int64)
	w, _ := res[1].(string)
	start, err := parseMs(w)
	return int(n), start, wrap(op, err)
}

// Reset deletes the key's counter.
func (s *Store) Reset(ctx context.Context, key string) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	return wrap("reset", s.c.Del(ctx, s.throttleKey(key)).Err())
}

// Forgive takes back one hit of the window that started at windowStart.
func (s *Store) Forgive(ctx context.Context, key string, windowStart time.Time) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	return wrap("forgive", forgiveScript.Run(ctx, s.c, []string{s.throttleKey(key)}, windowStart.UnixMilli()).Err())
}

// parseMs reads Unix milliseconds as a UTC time.
func parseMs(v string) (time.Time, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(n).UTC(), nil
}
