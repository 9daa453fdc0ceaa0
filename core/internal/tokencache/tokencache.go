// Package tokencache is the core's cache of verified access tokens: a
// bounded, sharded map from the exact token string to what its
// verification found, so that a token seen before costs a map lookup
// instead of a signature verification.
//
// Keys are compared in full: a seeded 64-bit hash of the token's length and
// last hashedTail bytes picks the shard and, in the shard's open-addressed
// index, the home bucket and a 32-bit fingerprint; a hit is a slot whose
// fingerprint matches and whose stored token equals the one presented,
// byte for byte. Tokens of one hash are told apart by that comparison and
// are stored side by side. Hashing the tail alone keeps a lookup's hashing
// short; the tail of a signed token is its signature, which nobody can
// choose without the signing key, and only tokens that passed verification
// are stored, so colliding tokens cannot be aimed for (nor could they be
// without the seed); a token that shares a stored one's tail but differs
// elsewhere is a miss. The cache is bounded by entries and by bytes (each
// entry is charged the size its caller states); when a shard is full, a
// CLOCK hand evicts an entry not read since the hand last passed it.
// Admission is the caller's decision (the core admits only tokens that
// passed every check), so a stream of unique tokens that fail verification
// never reaches it, and a stream of unique valid tokens only recycles a
// bounded set of slots. A hit takes one shard's read lock, reads one bucket
// run of the index (usually one cache line), the entry's slot (one line)
// and the stored token, and sets a reference bit; it allocates nothing.
package tokencache

import (
	"hash/maphash"
	"math"
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

// minIndex is the number of buckets of a shard's index when it is created.
const minIndex = 16

// Cache maps token strings to values of type V. It is safe for concurrent
// use. The zero Cache is not usable; create one with New.
type Cache[V any] struct {
	seed     maphash.Seed
	shards   []shard[V]
	mask     uint64
	maxN     int // entries per shard
	maxBytes int // bytes per shard
}

// A shard's index is an open-addressed table of buckets with linear
// probing. A bucket is 0 when empty; otherwise its high 32 bits are the
// fingerprint of the key (the high half of its hash, which also names the
// key's home bucket) and its low 32 bits the key's position in slots plus
// one. A lookup reads the buckets from the home one to the first empty one:
// at most half the buckets are used, so that is usually one cache line.
// Removal shifts the following buckets back (no tombstones), so every key
// stays reachable from its home bucket without a gap.
type shard[V any] struct {
	mu    sync.RWMutex
	index []uint64 // a power of two long, at most half full
	n     int      // entries
	slots []slot[V]
	free  []int32 // positions of empty slots
	hand  int
	bytes int
	_     [64]byte // keeps two shards' locks off one cache line
}

// slot is one entry: all a hit reads besides the key's bytes. With the
// core's value (40 bytes) it is 64 bytes, one cache line.
type slot[V any] struct {
	key  string // "" when the slot is empty
	val  V
	size int32
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
		maxN:     min(max(maxEntries/n, 1), math.MaxInt32-1), // positions are int32
		maxBytes: max(maxBytes/n, 1),
	}
	for i := range c.shards {
		c.shards[i].index = make([]uint64, minIndex)
	}
	return c
}

// hash returns the hash of key: the low bits pick the shard, the high 32
// bits are the fingerprint in the shard's index.
func (c *Cache[V]) hash(key string) uint64 {
	tail := key
	if len(tail) > hashedTail {
		tail = tail[len(tail)-hashedTail:]
	}
	return maphash.String(c.seed, tail) ^ uint64(len(key))*0x9e3779b97f4a7c15
}

func (c *Cache[V]) shard(key string) (*shard[V], uint32) {
	h := c.hash(key)
	return &c.shards[h&c.mask], uint32(h >> 32)
}

// find returns the bucket of the index holding exactly key, whose
// fingerprint is fp, and its position in slots; -1, -1 when key is not
// stored. The caller holds the lock.
func (sh *shard[V]) find(fp uint32, key string) (bucket int, pos int32) {
	m := uint32(len(sh.index) - 1)
	for b := fp & m; ; b = (b + 1) & m {
		e := sh.index[b]
		if e == 0 {
			return -1, -1
		}
		if uint32(e>>32) == fp {
			if i := int32(uint32(e)) - 1; sh.slots[i].key == key {
				return int(b), i
			}
		}
	}
}

// Get returns the value stored for exactly key.
func (c *Cache[V]) Get(key string) (v V, ok bool) {
	sh, fp := c.shard(key)
	sh.mu.RLock()
	if _, i := sh.find(fp, key); i >= 0 {
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
	if key == "" || size > c.maxBytes || size > math.MaxInt32 {
		return false
	}
	size = max(size, 1)
	sh, fp := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, i := sh.find(fp, key); i >= 0 {
		s := &sh.slots[i]
		sh.bytes += size - int(s.size)
		s.val, s.size = v, int32(size)
		s.ref.Store(1)
		for sh.bytes > c.maxBytes {
			sh.evict(c)
		}
		return true
	}
	for sh.n >= c.maxN || sh.bytes+size > c.maxBytes {
		sh.evict(c)
	}
	var i int32
	if n := len(sh.free); n > 0 {
		i, sh.free = sh.free[n-1], sh.free[:n-1]
	} else {
		sh.slots = append(sh.slots, slot[V]{})
		i = int32(len(sh.slots) - 1)
	}
	s := &sh.slots[i]
	s.key, s.val, s.size = strings.Clone(key), v, int32(size)
	s.ref.Store(0) // admitted, not yet read: the first to go if never read
	sh.insert(fp, i)
	sh.bytes += size
	return true
}

// insert adds the bucket of the key of fingerprint fp at position i of
// slots, doubling the index first if it would be over half full. The
// caller holds the write lock and key is not in the index.
func (sh *shard[V]) insert(fp uint32, i int32) {
	if 2*(sh.n+1) > len(sh.index) {
		old := sh.index
		sh.index = make([]uint64, 2*len(old))
		for _, e := range old {
			if e != 0 {
				sh.place(e)
			}
		}
	}
	sh.place(uint64(fp)<<32 | uint64(uint32(i)+1))
	sh.n++
}

// place puts bucket e in the first empty bucket from its home one.
func (sh *shard[V]) place(e uint64) {
	m := uint32(len(sh.index) - 1)
	b := uint32(e>>32) & m
	for sh.index[b] != 0 {
		b = (b + 1) & m
	}
	sh.index[b] = e
}

// unlink empties bucket b of the index, then shifts back every bucket of
// the run after it that may move closer to its home, so that no key is cut
// off from its home bucket by the hole.
func (sh *shard[V]) unlink(b int) {
	m := len(sh.index) - 1
	for j := (b + 1) & m; sh.index[j] != 0; j = (j + 1) & m {
		home := int(uint32(sh.index[j]>>32)) & m
		// The bucket at j may move to the hole at b when its home is not
		// in the cyclic range (b, j]: then b is on its probe path.
		if (j-home)&m >= (j-b)&m {
			sh.index[b] = sh.index[j]
			b = j
		}
	}
	sh.index[b] = 0
	sh.n--
}

// evict empties one slot: the first one under the hand whose reference bit
// is clear, clearing the bits it passes. It ends within two turns of the
// slots. The caller holds the write lock and the shard is not empty.
func (sh *shard[V]) evict(c *Cache[V]) {
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
		sh.remove(c, int32(sh.hand-1))
		return
	}
}

// remove empties slot i, finding its bucket from its key's hash. The
// caller holds the write lock.
func (sh *shard[V]) remove(c *Cache[V], i int32) {
	s := &sh.slots[i]
	fp := uint32(c.hash(s.key) >> 32)
	m := len(sh.index) - 1
	b := int(fp) & m
	for uint32(sh.index[b]) != uint32(i)+1 {
		b = (b + 1) & m
	}
	sh.drop(b, i)
}

// drop empties bucket b of the index and slot i, its entry.
func (sh *shard[V]) drop(b int, i int32) {
	sh.unlink(b)
	s := &sh.slots[i]
	sh.bytes -= int(s.size)
	var zero V
	s.key, s.val, s.size = "", zero, 0
	s.ref.Store(0)
	sh.free = append(sh.free, i)
}

// Replace sets the value of the entry of exactly key, if there is one,
// keeping its charge and its reference bit; it reports whether there was
// one.
func (c *Cache[V]) Replace(key string, v V) bool {
	sh, fp := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, i := sh.find(fp, key); i >= 0 {
		sh.slots[i].val = v
		return true
	}
	return false
}

// Delete removes the entry of exactly key, if any.
func (c *Cache[V]) Delete(key string) {
	sh, fp := c.shard(key)
	sh.mu.Lock()
	if b, i := sh.find(fp, key); i >= 0 {
		sh.drop(b, i)
	}
	sh.mu.Unlock()
}

// Len returns the number of entries.
func (c *Cache[V]) Len() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.RLock()
		n += sh.n
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
