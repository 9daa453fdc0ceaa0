package tokencache

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"unsafe"
)

// putFP stores key in sh under the fingerprint fp, whatever its hash: the
// index tests choose their fingerprints (and so their home buckets).
func (sh *shard[V]) putFP(fp uint32, key string, v V) {
	sh.slots = append(sh.slots, slot[V]{key: key, val: v, size: 1})
	sh.bytes++
	sh.insert(fp, int32(len(sh.slots)-1))
}

// deleteFP removes key, of fingerprint fp, from sh; it reports whether it
// was there.
func (sh *shard[V]) deleteFP(fp uint32, key string) bool {
	b, i := sh.find(fp, key)
	if i < 0 {
		return false
	}
	sh.drop(b, i)
	return true
}

// checkIndex fails t unless sh's index is consistent: at most half full,
// as many buckets used as entries, each pointing at a stored slot whose key
// has the bucket's fingerprint (when hashed by c, if given), each reachable
// from its home bucket without crossing an empty one, no slot twice.
func checkIndex[V any](t *testing.T, c *Cache[V], sh *shard[V]) {
	t.Helper()
	m := len(sh.index) - 1
	if len(sh.index)&m != 0 || 2*sh.n > len(sh.index) {
		t.Fatalf("index of %d buckets for %d entries", len(sh.index), sh.n)
	}
	used, seen := 0, map[int32]bool{}
	for b, e := range sh.index {
		if e == 0 {
			continue
		}
		used++
		fp, i := uint32(e>>32), int32(uint32(e))-1
		if i < 0 || int(i) >= len(sh.slots) || sh.slots[i].key == "" || seen[i] {
			t.Fatalf("bucket %d points at slot %d (of %d), empty or seen twice", b, i, len(sh.slots))
		}
		seen[i] = true
		if c != nil && uint32(c.hash(sh.slots[i].key)>>32) != fp {
			t.Fatalf("bucket %d: fingerprint %x is not its key's", b, fp)
		}
		for h := int(fp) & m; h != b; h = (h + 1) & m {
			if sh.index[h] == 0 {
				t.Fatalf("bucket %d (home %d) is cut off by the empty bucket %d", b, int(fp)&m, h)
			}
		}
	}
	stored := 0
	for i := range sh.slots {
		if sh.slots[i].key != "" {
			stored++
		}
	}
	if used != sh.n || stored != sh.n || stored+len(sh.free) != len(sh.slots) {
		t.Fatalf("%d buckets used, %d slots stored, %d free of %d; %d entries", used, stored, len(sh.free), len(sh.slots), sh.n)
	}
}

func checkCache[V any](t *testing.T, c *Cache[V]) {
	t.Helper()
	for i := range c.shards {
		checkIndex(t, c, &c.shards[i])
	}
}

func newShard() *shard[string] {
	return &shard[string]{index: make([]uint64, minIndex)}
}

// Keys of one fingerprint are told apart by the full key: each finds its
// own slot, a key not stored misses, and removing one keeps the others.
func TestIndexFingerprintCollisions(t *testing.T) {
	sh := newShard()
	keys := []string{"k0", "k1", "k2", "k3", "k4"}
	for _, k := range keys {
		sh.putFP(7, k, "v"+k)
	}
	checkIndex(t, nil, sh)
	for _, k := range keys {
		if _, i := sh.find(7, k); i < 0 || sh.slots[i].val != "v"+k {
			t.Fatalf("find(%q) = slot %d", k, i)
		}
	}
	if _, i := sh.find(7, "k5"); i >= 0 {
		t.Fatal("a key not stored, of a stored fingerprint, was found")
	}
	if !sh.deleteFP(7, "k2") || sh.deleteFP(7, "k2") {
		t.Fatal("deleting k2 twice: want true, then false")
	}
	checkIndex(t, nil, sh)
	for _, k := range keys {
		_, i := sh.find(7, k)
		if (i >= 0) != (k != "k2") {
			t.Fatalf("after deleting k2, find(%q) = slot %d", k, i)
		}
	}
}

// Removing a bucket at the start or in the middle of a run shifts back the
// buckets probed past it, and only those whose home allows it: every key
// stays reachable.
func TestIndexDeletionWhileProbing(t *testing.T) {
	// Homes 3, 3, 4, 3, 5, 8: a run from bucket 3 to 8 (with 8 at home).
	fps := []uint32{3, 3 + 16, 4, 3 + 32, 5, 8}
	for del := range fps {
		sh := newShard()
		for j, fp := range fps {
			sh.putFP(fp, strconv.Itoa(j), "")
		}
		checkIndex(t, nil, sh)
		if !sh.deleteFP(fps[del], strconv.Itoa(del)) {
			t.Fatalf("key %d not found", del)
		}
		checkIndex(t, nil, sh)
		for j, fp := range fps {
			if _, i := sh.find(fp, strconv.Itoa(j)); (i >= 0) != (j != del) {
				t.Fatalf("after deleting key %d, find(key %d) = slot %d", del, j, i)
			}
		}
		if e := sh.index[8]; del != 5 && uint32(e) != 6 {
			t.Fatalf("the key at home in bucket 8 moved: bucket 8 = %x", e)
		}
	}
}

// A run that passes the last bucket goes on at the first one, for lookups,
// insertions and the backward shift of removals.
func TestIndexWraparound(t *testing.T) {
	fps := []uint32{15, 15, 14, 0, 15, 1}
	for del := range fps {
		sh := newShard()
		for j, fp := range fps {
			sh.putFP(fp, strconv.Itoa(j), "")
		}
		if sh.index[0] == 0 || sh.index[1] == 0 {
			t.Fatal("the run did not wrap around")
		}
		checkIndex(t, nil, sh)
		sh.deleteFP(fps[del], strconv.Itoa(del))
		checkIndex(t, nil, sh)
		for j, fp := range fps {
			if _, i := sh.find(fp, strconv.Itoa(j)); (i >= 0) != (j != del) {
				t.Fatalf("after deleting key %d, find(key %d) = slot %d", del, j, i)
			}
		}
	}
}

// The index doubles before it is over half full, and every key is found
// after each doubling; emptied, it finds nothing.
func TestIndexGrowth(t *testing.T) {
	sh := newShard()
	r := rand.New(rand.NewPCG(1, 2))
	fps := make([]uint32, 5000)
	for j := range fps {
		fps[j] = r.Uint32() & 0xff // many fingerprints alike, long runs
		sh.putFP(fps[j], strconv.Itoa(j), strconv.Itoa(j))
		if 2*sh.n > len(sh.index) {
			t.Fatalf("%d entries in %d buckets", sh.n, len(sh.index))
		}
	}
	checkIndex(t, nil, sh)
	if len(sh.index) != 16384 {
		t.Fatalf("%d buckets for 5000 entries; want 16384", len(sh.index))
	}
	for j, fp := range fps {
		if _, i := sh.find(fp, strconv.Itoa(j)); i < 0 || sh.slots[i].val != strconv.Itoa(j) {
			t.Fatalf("key %d: slot %d", j, i)
		}
	}
	for _, j := range r.Perm(len(fps)) {
		if !sh.deleteFP(fps[j], strconv.Itoa(j)) {
			t.Fatalf("key %d not found for deletion", j)
		}
	}
	checkIndex(t, nil, sh)
	for _, e := range sh.index {
		if e != 0 {
			t.Fatal("a bucket is still used in an emptied index")
		}
	}
}

// A full shard recycles its slots: the index never grows past twice the
// bound, and stays consistent through eviction by the CLOCK hand (which
// finds an evicted key's bucket from its hash).
func TestIndexFullShard(t *testing.T) {
	c := New[int](8, 1<<30) // one shard of 8
	if len(c.shards) != 1 {
		t.Fatalf("%d shards", len(c.shards))
	}
	for i := range 10000 {
		k := "tok-" + strconv.Itoa(i)
		c.Put(k, i, 1)
		if i%3 == 0 {
			c.Get(k)
		}
		checkCache(t, c)
		if v, ok := c.Get(k); !ok || v != i {
			t.Fatalf("the key just put: %d, %v", v, ok)
		}
	}
	sh := &c.shards[0]
	if sh.n != 8 || len(sh.slots) != 8 || len(sh.index) != 16 {
		t.Fatalf("%d entries, %d slots, %d buckets; want 8, 8, 16", sh.n, len(sh.slots), len(sh.index))
	}
}

// A slot with the core's value (two pointers and three 8-byte words) is one
// cache line.
func TestSlotIsOneCacheLine(t *testing.T) {
	type value struct {
		p, q    *int
		a, b, c int64
	}
	if n := unsafe.Sizeof(slot[value]{}); n != 64 {
		t.Fatalf("slot is %d bytes; want 64", n)
	}
}

// op is one step of a run against a reference map: 0 Put, 1 Get, 2 Delete,
// 3 Replace, on key k (of a small set, so steps meet) with value v.
type op struct {
	kind, k uint8
	v       uint16
}

// runAgainstMap applies ops to a cache large enough never to evict and to
// a map[string]int, and fails t at the first difference; keys of a few
// lengths share their tails, so shards and runs see many neighbours.
func runAgainstMap(t *testing.T, ops []op) {
	t.Helper()
	c := New[int](1<<14, 1<<30) // shards of 256: no eviction
	ref := map[string]int{}
	key := func(k uint8) string {
		return fmt.Sprintf("%0*d.%s", 1+int(k%5), k, "same-tail-of-every-key-0123456789")
	}
	for n, o := range ops {
		k, v := key(o.k), int(o.v)
		switch o.kind % 4 {
		case 0:
			if !c.Put(k, v, 1+v%7) {
				t.Fatalf("op %d: Put refused", n)
			}
			ref[k] = v
		case 1:
			got, ok := c.Get(k)
			want, wok := ref[k]
			if ok != wok || got != want {
				t.Fatalf("op %d: Get(%q) = %d, %v; want %d, %v", n, k, got, ok, want, wok)
			}
		case 2:
			c.Delete(k)
			delete(ref, k)
		case 3:
			_, wok := ref[k]
			if c.Replace(k, v) != wok {
				t.Fatalf("op %d: Replace(%q) = %v; want %v", n, k, !wok, wok)
			}
			if wok {
				ref[k] = v
			}
		}
		if c.Len() != len(ref) {
			t.Fatalf("op %d: %d entries; want %d", n, c.Len(), len(ref))
		}
	}
	checkCache(t, c)
	for k, want := range ref {
		if got, ok := c.Get(k); !ok || got != want {
			t.Fatalf("at the end: Get(%q) = %d, %v; want %d", k, got, ok, want)
		}
	}
}

func TestAgainstMap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 50 {
		ops := make([]op, 2000)
		for i := range ops {
			ops[i] = op{uint8(r.IntN(4)), uint8(r.IntN(200)), uint16(r.IntN(1000))}
		}
		runAgainstMap(t, ops)
	}
}

func FuzzAgainstMap(f *testing.F) {
	f.Add([]byte{0, 1, 5, 1, 1, 0, 2, 1, 0, 1, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		ops := make([]op, 0, len(b)/3)
		for i := 0; i+2 < len(b); i += 3 {
			ops = append(ops, op{b[i], b[i+1], uint16(b[i+2])})
		}
		runAgainstMap(t, ops)
	})
}

// With eviction, the cache holds a subset of the reference: every hit is
// the reference's value for exactly that key, and the bounds hold.
func TestAgainstMapWithEviction(t *testing.T) {
	const limit = 64
	c := New[int](limit, 1<<30)
	ref := map[string]int{}
	r := rand.New(rand.NewPCG(5, 6))
	for n := range 200000 {
		k, v := "tok-"+strconv.Itoa(r.IntN(400)), r.IntN(1000)
		switch r.IntN(4) {
		case 0:
			c.Put(k, v, 1)
			ref[k] = v
		case 1:
			if got, ok := c.Get(k); ok && got != ref[k] {
				t.Fatalf("op %d: Get(%q) = %d; want %d", n, k, got, ref[k])
			}
		case 2:
			c.Delete(k)
			delete(ref, k)
		case 3:
			if c.Replace(k, v) {
				ref[k] = v
			}
		}
		if c.Len() > limit {
			t.Fatalf("op %d: %d entries, bound %d", n, c.Len(), limit)
		}
	}
	checkCache(t, c)
}

// Many goroutines behind a barrier Get, Put, Delete and Replace
// overlapping keys in small shards (so the CLOCK hand and the backward
// shift run all the time): every hit is a value stored for exactly its key,
// and the index is consistent at the end. Run with -race.
func TestConcurrentIndex(t *testing.T) {
	const workers, ops, keys = 16, 4000, 300
	c := New[string](128, 1<<30)
	var start, done sync.WaitGroup
	start.Add(1)
	errs := make(chan string, workers)
	for w := range workers {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for range ops {
				k := "k" + strconv.Itoa(r.IntN(keys))
				switch r.IntN(8) {
				case 0, 1:
					c.Put(k, k+"/put", 8)
				case 2:
					c.Delete(k)
				case 3:
					c.Replace(k, k+"/replaced")
				default:
					if v, ok := c.Get(k); ok && v != k+"/put" && v != k+"/replaced" {
						errs <- fmt.Sprintf("Get(%q) = %q", k, v)
						return
					}
				}
			}
		}()
	}
	start.Done()
	done.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	checkCache(t, c)
	if c.Len() > 128 {
		t.Fatalf("%d entries, bound 128", c.Len())
	}
}

// Under a byte bound, Put of new keys and of stored keys with a new size
// (up to the whole shard's budget, or nothing) evicts until the entry fits:
// the charges always add up to the shard's byte count, within the bound,
// and every hit is exactly its key's value. Half the keys share one length
// and one tail, so they share a hash and long probe runs.
func TestAgainstMapWithByteEviction(t *testing.T) {
	const maxBytes = 4000
	c := New[int](256, maxBytes) // 32 shards of 125 bytes: about 8 entries
	if len(c.shards) != 32 {
		t.Fatalf("%d shards, want 32", len(c.shards))
	}
	ref := map[string]int{}
	r := rand.New(rand.NewPCG(7, 8))
	key := func(k int) string {
		if k%2 == 0 {
			return fmt.Sprintf("%04d.same-tail-of-every-key-0123456789", k)
		}
		return "tok-" + strconv.Itoa(k)
	}
	for n := range 100000 {
		k, v := key(r.IntN(300)), r.IntN(1000)
		switch r.IntN(5) {
		case 0, 1:
			size := r.IntN(40) - 5 // some not positive: charged one byte
			switch r.IntN(50) {
			case 0:
				size = c.maxBytes
			case 1:
				size = c.maxBytes + 1
			case 2:
				size = math.MaxInt32
			}
			if c.Put(k, v, size) != (size <= c.maxBytes) {
				t.Fatalf("op %d: Put of size %d (budget %d) = %v", n, size, c.maxBytes, size <= c.maxBytes)
			}
			if size <= c.maxBytes {
				ref[k] = v
			}
		case 2:
			if got, ok := c.Get(k); ok && got != ref[k] {
				t.Fatalf("op %d: Get(%q) = %d; want %d", n, k, got, ref[k])
			}
		case 3:
			c.Delete(k)
			delete(ref, k)
		case 4:
			if c.Replace(k, v) {
				ref[k] = v
			}
		}
		if b := c.Bytes(); b > maxBytes {
			t.Fatalf("op %d: %d bytes, bound %d", n, b, maxBytes)
		}
		for i := range c.shards {
			if sh := &c.shards[i]; sh.bytes > c.maxBytes {
				t.Fatalf("op %d: shard %d holds %d bytes, budget %d", n, i, sh.bytes, c.maxBytes)
			}
		}
	}
	checkCache(t, c)
	for i := range c.shards {
		sh := &c.shards[i]
		sum := 0
		for j := range sh.slots {
			if sh.slots[j].key != "" {
				sum += int(sh.slots[j].size)
			}
		}
		if sum != sh.bytes {
			t.Fatalf("shard %d: charges add up to %d, byte count %d", i, sum, sh.bytes)
		}
	}
}
