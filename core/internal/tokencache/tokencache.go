// Package tokencache is the core's cache of verified access tokens: a
// bounded, sharded map from the exact token string to what its
// verification found, so that a token seen before costs a map lookup
// instead of a signature verification.
//
// Keys are compared in full: a seeded 64-bit hash of the token's length and
// last hashedTail bytes picks the shard and the map slot, and a hit is a
// slot whose stored token equals the one presented, byte for byte. Two
// tokens of one hash take turns in one slot. Hashing the tail alone keeps a
// lookup's hashing short; the tail of a signed token is its signature,
// which nobody can choose without the signing key, and only tokens that
// passed verification are stored, so colliding tokens cannot be aimed for
// (nor could they be without the seed); a token that shares a stored one's
// tail but differs elsewhere is a miss. The cache is bounded by entries and by bytes (each entry
// is charged the size its caller states); when a shard is full, a CLOCK hand
// evicts an entry not read since the hand last passed it. Admission is the
// caller's decision (the core admits only tokens that passed every check),
// so a stream of unique tokens that fail verification never reaches it, and
// a stream of unique valid tokens only recycles a bounded set of slots. A
// hit takes one shard's read lock and sets a reference bit; it allocates
// nothing.
package tokencache

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
)

// maxShards is the most shards a cache has; fewer when the bounds are so
// small that a shard would hold under minPerShard entries.
const (
	maxShards   = 64
	minPerShard = 8
)

// hashedTail is how many of a key's last bytes its hash covers (with its
// length): an Ed25519 signature's second half, or most of an HMAC-SHA256.
const hashedTail = 32

// Cache maps token strings to values of type V. It is safe for concurrent
// use. The zero Cache is not usable; create one with New.
type Cache[V any] struct {
	seed     maphash.Seed
	shards   []shard[V]
	mask     uint64
	maxN     int // entries per shard
	maxBytes int // bytes per shard
}

type shard[V any] struct {
	mu    sync.RWMutex
	index map[uint64]int32 // token hash -> position in slots
	slots []slot[V]
	free  []int32 // positions of empty slots
	hand  int
	bytes int
	_     [64]byte // keeps two shards' locks off one cache line
}

type slot[V any] struct {
	key  string // "" when the slot is empty
	hash uint64
	val  V
	size int
	ref  atomic.Uint32 // read since the hand last passed
}

// New returns a cache holding at most maxEntries entries and maxBytes bytes
// in total (both must be positive).
func New[V any](maxEntries, maxBytes int) *Cache[V] {
	n := 1
	for n < maxShards && maxEntries/(n*2) >= minPerShard {
		n *= 2
	}
	c := &Cache[V]{
		seed:     maphash.MakeSeed(),
		shards:   make([]shard[V], n),
		mask:     uint64(n - 1),
		maxN:     max(maxEntries/n, 1),
		maxBytes: max(maxBytes/n, 1),
	}
	for i := range c.shards {
		c.shards[i].index = make(map[uint64]int32)
	}
	return c
}

func (c *Cache[V]) shard(key string) (*shard[V], uint64) {
	tail := key
	if len(tail) > hashedTail {
		tail = tail[len(tail)-hashedTail:]
	}
	h := maphash.String(c.seed, tail) ^ uint64(len(key))*0x9e3779b97f4a7c15
	return &c.shards[h&c.mask], h
}

// Get returns the value stored for exactly key.
func (c *Cache[V]) Get(key string) (v V, ok bool) {
	sh, h := c.shard(key)
	sh.mu.RLock()
	if i, found := sh.index[h]; found && sh.slots[i].key == key {
		s := &sh.slots[i]
		v, ok = s.val, true
		if s.ref.Load() == 0 {
			s.ref.Store(1)
		}
	}
	sh.mu.RUnlock()
	return v, ok
}

// Put stores v for key, charged size bytes, evicting older entries of the
// shard as needed. An entry larger than a shard's byte budget is not
// stored; Put reports whether v was stored. The cache keeps its own copy of
// key, so the caller's string may alias a buffer it reuses.
func (c *Cache[V]) Put(key string, v V, size int) bool {
	if key == "" || size > c.maxBytes {
		return false
	}
	size = max(size, 1)
	sh, h := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if i, found := sh.index[h]; found {
		s := &sh.slots[i]
		if s.key != key {
			s.key = strings.Clone(key)
		}
		sh.bytes += size - s.size
		s.val, s.size = v, size
		s.ref.Store(1)
		for sh.bytes > c.maxBytes {
			sh.evict()
		}
		return true
	}
	for len(sh.index) >= c.maxN || sh.bytes+size > c.maxBytes {
		sh.evict()
	}
	var i int32
	if n := len(sh.free); n > 0 {
		i, sh.free = sh.free[n-1], sh.free[:n-1]
	} else {
		sh.slots = append(sh.slots, slot[V]{})
		i = int32(len(sh.slots) - 1)
	}
	s := &sh.slots[i]
	s.key, s.val, s.size, s.hash = strings.Clone(key), v, size, h
	s.ref.Store(0) // admitted, not yet read: the first to go if never read
	sh.index[h] = i
	sh.bytes += size
	return true
}

// evict empties one slot: the first one under the hand whose reference bit
// is clear, clearing the bits it passes. It ends within two turns of the
// slots. The caller holds the write lock and the shard is not empty.
func (sh *shard[V]) evict() {
	for {
		if sh.hand >= len(sh.slots) {
			sh.hand = 0
		}
		s := &sh.slots[sh.hand]
		sh.hand++
		if s.key == "" {
			continue
		}
		if s.ref.Load() != 0 {
			s.ref.Store(0)
			continue
		}
		sh.remove(int32(sh.hand - 1))
		return
	}
}

// remove empties slot i. The caller holds the write lock.
func (sh *shard[V]) remove(i int32) {
	s := &sh.slots[i]
	delete(sh.index, s.hash)
	sh.bytes -= s.size
	var zero V
	s.key, s.val, s.size, s.hash = "", zero, 0, 0
	s.ref.Store(0)
	sh.free = append(sh.free, i)
}

// Replace sets the value of the entry of exactly key, if there is one,
// keeping its charge and its reference bit; it reports whether there was
// one.
func (c *Cache[V]) Replace(key string, v V) bool {
	sh, h := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if i, found := sh.index[h]; found && sh.slots[i].key == key {
		sh.slots[i].val = v
		return true
	}
	return false
}

// Delete removes the entry of exactly key, if any.
func (c *Cache[V]) Delete(key string) {
	sh, h := c.shard(key)
	sh.mu.Lock()
	if i, found := sh.index[h]; found && sh.slots[i].key == key {
		sh.remove(i)
	}
	sh.mu.Unlock()
}

// Len returns the number of entries.
func (c *Cache[V]) Len() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.RLock()
		n += len(sh.index)
		sh.mu.RUnlock()
	}
	return n
}

// Bytes returns the bytes charged to the entries.
func (c *Cache[V]) Bytes() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.RLock()
		n += sh.bytes
		sh.mu.RUnlock()
	}
	return n
}
