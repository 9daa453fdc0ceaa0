package rbac

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
)

// cacheShards spreads the decision cache over locks.
const cacheShards = 64

// maxKeyBytes bounds the bytes of a cached decision's names: a decision on
// longer names (a tenant or an action a caller spells at will) is computed
// every time, so that the cache holds at most about size times this much.
const maxKeyBytes = 512

// cacheKey names one decision: a permission (sub, dom, obj, act) or, with
// role, whether sub holds the role obj in dom.
type cacheKey struct {
	role               bool
	sub, dom, obj, act string
}

// cacheEntry is a decision and the full key it answers (maps are keyed by
// the key's hash, so that a lookup hashes the key once).
type cacheEntry struct {
	key   cacheKey
	gen   uint64
	allow bool
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[uint64]cacheEntry
	_  [32]byte // 64 bytes a shard: neighbouring locks share no cache line
}

// decisionCache is a bounded map of decisions tagged with the policy
// generation they were computed under. Every policy change increments the
// generation, which hides every older entry at once (checked on each read),
// and then clears the maps.
type decisionCache struct {
	gen      atomic.Uint64
	seed     maphash.Seed
	perShard int
	shards   [cacheShards]cacheShard
}

func newDecisionCache(size int) *decisionCache {
	c := &decisionCache{seed: maphash.MakeSeed(), perShard: max(1, (size+cacheShards-1)/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[uint64]cacheEntry)
	}
	return c
}

// locate returns the hash of k and its shard.
func (c *decisionCache) locate(k *cacheKey) (uint64, *cacheShard) {
	h := maphash.Comparable(c.seed, *k)
	return h, &c.shards[h%cacheShards]
}

// get returns the cached decision of k if it belongs to the current
// generation, and that generation, under which the caller caches the
// decision it computes on a miss.
func (c *decisionCache) get(k cacheKey) (allow, hit bool, gen uint64) {
	gen = c.gen.Load()
	h, s := c.locate(&k)
	s.mu.RLock()
	e, ok := s.m[h]
	s.mu.RUnlock()
	if ok && e.gen == gen && e.key == k {
		return e.allow, true, gen
	}
	return false, false, gen
}

// put caches a decision computed under generation gen, unless the policy
// changed since or its names are longer than maxKeyBytes. A full shard
// drops one entry first.
func (c *decisionCache) put(k cacheKey, gen uint64, allow bool) {
	if len(k.sub)+len(k.dom)+len(k.obj)+len(k.act) > maxKeyBytes {
		return
	}
	// The key's strings may share memory with a request's buffers: copy them.
	k.sub, k.dom, k.obj, k.act = strings.Clone(k.sub), strings.Clone(k.dom), strings.Clone(k.obj), strings.Clone(k.act)
	h, s := c.locate(&k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	if _, ok := s.m[h]; !ok && len(s.m) >= c.perShard {
		for old := range s.m {
			delete(s.m, old)
			break
		}
	}
	s.m[h] = cacheEntry{key: k, gen: gen, allow: allow}
}

// invalidate forgets every decision: first for readers (the generation),
// then in memory.
func (c *decisionCache) invalidate() {
	c.gen.Add(1)
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.m)
		s.mu.Unlock()
	}
}

// len returns the number of cached decisions.
func (c *decisionCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
