package redisstore

import "github.com/redis/go-redis/v9"

// Every script touches keys of one hash slot only (its KEYS share a hash
// tag, and the few keys it derives from an argument carry the same tag), so
// each runs on a Cluster. go-redis runs them by SHA (EVALSHA) and loads them
// on a NOSCRIPT answer.

// keepAtLua is when a key written now must expire: retention after the
// later of until (Unix ms) and the server's clock, so a key lives at least
// retention after its last write, whatever the clock of the writer says.
// The answer is a string for SET's PXAT and PEXPIREAT.
const keepAtLua = `
local function keepAt(untilMs, retention)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  return string.format('%.0f', math.max(tonumber(untilMs), now) + tonumber(retention))
end
`

// subjectLua extracts the subject from a stored session (see encodeSession).
const subjectLua = `
local function subjectOf(v)
  local n = tonumber(string.sub(v, 41, 50))
  return string.sub(v, 51, 50 + n)
end
`

// createScript: KEYS session; ARGV blob, keep-until ms, retention ms.
// Returns 1, or 0 when the id exists.
var createScript = redis.NewScript(keepAtLua + `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', keepAt(ARGV[2], ARGV[3]))
return 1
`)

// updateScript is the compare-and-set of a session. KEYS session, its
// pending revocations; ARGV expected version header, blob, keep-until ms,
// retention ms, revocation nonce ("" when the write revokes nothing), the
// revocation's feed entry ("" likewise). Returns 1, or 2 when the write
// changed the session's subject, 0 when the session is missing, -1 when its
// version moved on, -2 when the revocation's announcement was already given
// up (see Store.UpdateSession). The session is one SET with its expiry: one
// key, one write.
var updateScript = redis.NewScript(keepAtLua + subjectLua + `
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
if string.sub(cur, 1, 20) ~= ARGV[1] then return -1 end
local at = keepAt(ARGV[3], ARGV[4])
if ARGV[5] ~= '' then
  if redis.call('HGET', KEYS[2], ARGV[5]) == 'x' then return -2 end
  redis.call('HSET', KEYS[2], ARGV[5], ARGV[6])
  redis.call('PEXPIREAT', KEYS[2], at)
end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', at)
if subjectOf(cur) ~= subjectOf(ARGV[2]) then return 2 end
return 1
`)

// pruneScript: KEYS session; ARGV cutoff ms. Deletes the session when its
// earliest end (deadline or revocation) is before cutoff. Returns {1,
// subject} when deleted, {0, subject} when kept, {-1} when missing.
var pruneScript = redis.NewScript(subjectLua + `
local cur = redis.call('GET', KEYS[1])
if not cur then return {-1} end
if tonumber(string.sub(cur, 21, 40)) < tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  return {1, subjectOf(cur)}
end
return {0, subjectOf(cur)}
`)

// resolveScript settles an announced revocation whose writer did not
// publish it: KEYS pending; ARGV nonce, retention ms. Returns the feed entry
// when the session write landed, or "" after fencing the nonce so that the
// write can never land later.
var resolveScript = redis.NewScript(`
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v then
  if v == 'x' then return '' end
  return v
end
redis.call('HSET', KEYS[1], ARGV[1], 'x')
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return ''
`)

// publishScript appends a revocation to the feed once: KEYS log, time, seq,
// intent, done marker of the nonce; ARGV intent member, entry tail
// ("<RFC3339Nano>\n<sid>"), revocation ms, retention ms, notification
// channel. It announces the new entry on the channel (a channel is not a
// key: PUBLISH runs on any node, and a Cluster broadcasts it), within the
// script, so no subscriber hears of an entry it cannot read yet. Returns
// the Seq, or 0 when the nonce was already published.
var publishScript = redis.NewScript(`
redis.call('ZREM', KEYS[4], ARGV[1])
if redis.call('EXISTS', KEYS[5]) == 1 then return 0 end
local seq = redis.call('INCR', KEYS[3])
local entry = seq .. '\n' .. ARGV[2]
redis.call('ZADD', KEYS[1], seq, entry)
redis.call('ZADD', KEYS[2], ARGV[3], entry)
redis.call('SET', KEYS[5], seq, 'PX', ARGV[4])
redis.call('PUBLISH', ARGV[5], seq)
return seq
`)

// serverNowLua reads the server's clock in Unix ms: announcements are dated,
// and their age judged, by the clock of the feed's node, so instances whose
// clocks differ agree on when one is past the grace period.
const serverNowLua = `
local function serverNow()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`

// announceScript: KEYS intent; ARGV member. Adds the member dated by the
// server's clock.
var announceScript = redis.NewScript(serverNowLua + `
redis.call('ZADD', KEYS[1], string.format('%.0f', serverNow()), ARGV[1])
return 1
`)

// readFeedScript: KEYS log, intent; ARGV after, limit, grace ms. Returns
// the entries after the cursor and the announcements older than the grace
// period by the server's clock (at most 100).
var readFeedScript = redis.NewScript(serverNowLua + `
local r
if tonumber(ARGV[2]) > 0 then
  r = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'LIMIT', 0, ARGV[2])
else
  r = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf')
end
local i = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', string.format('%.0f', serverNow() - tonumber(ARGV[3])), 'LIMIT', 0, 100)
return {r, i}
`)

// pruneFeedScript: KEYS time, log; ARGV cutoff ms. Deletes up to 1000
// entries revoked before cutoff and returns how many.
var pruneFeedScript = redis.NewScript(`
local e = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, 1000)
for _, m in ipairs(e) do
  redis.call('ZREM', KEYS[1], m)
  redis.call('ZREM', KEYS[2], m)
end
return #e
`)

// indexAddScript: KEYS a session index; ARGV member. Adds the member dated
// by the server's clock, the clock zremOlderScript judges its age by on the
// same node: instances whose clocks differ agree on it.
var indexAddScript = redis.NewScript(serverNowLua + `
return redis.call('ZADD', KEYS[1], string.format('%.0f', serverNow()), ARGV[1])
`)

// zremOlderScript: KEYS a session index; ARGV age ms, members. Removes the
// members last added (see indexAddScript) more than age ago by the server's
// clock, so a member added by a write in flight is never removed.
var zremOlderScript = redis.NewScript(serverNowLua + `
local threshold = serverNow() - tonumber(ARGV[1])
local n = 0
for i = 2, #ARGV do
  local sc = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if sc and tonumber(sc) < threshold then n = n + redis.call('ZREM', KEYS[1], ARGV[i]) end
end
return n
`)
