package tokencache

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

func TestGetPutDeleteExactKey(t *testing.T) {
	c := New[int](1000, 1<<20)
	tok := strings.Repeat("a", 300)
	if _, ok := c.Get(tok); ok {
		t.Fatal("hit in an empty cache")
	}
	if !c.Put(tok, 7, 100) {
		t.Fatal("Put refused a small entry")
	}
	if v, ok := c.Get(tok); !ok || v != 7 {
		t.Fatalf("Get = %d, %v; want 7, true", v, ok)
	}
	// Same length, same hash prefix, one byte apart anywhere: a miss.
	for _, i := range []int{0, 150, 299} {
		other := tok[:i] + "b" + tok[i+1:]
		if _, ok := c.Get(other); ok {
			t.Fatalf("a key differing at byte %d hit", i)
		}
	}
	if _, ok := c.Get(tok[:299]); ok {
		t.Fatal("a prefix of the key hit")
	}
	if _, ok := c.Get(tok + "a"); ok {
		t.Fatal("an extension of the key hit")
	}
	c.Put(tok, 8, 120)
	if v, _ := c.Get(tok); v != 8 || c.Len() != 1 || c.Bytes() != 120 {
		t.Fatalf("after replacing: value %d, len %d, bytes %d; want 8, 1, 120", v, c.Len(), c.Bytes())
	}
	c.Delete(tok)
	if _, ok := c.Get(tok); ok || c.Len() != 0 || c.Bytes() != 0 {
		t.Fatalf("after Delete: hit %v, len %d, bytes %d", ok, c.Len(), c.Bytes())
	}
}

// The cache keeps its own copy of a key: a caller whose string aliases a
// buffer it reuses (as fasthttp's do) cannot change what is stored.
func TestPutCopiesTheKey(t *testing.T) {
	c := New[int](100, 1<<20)
	buf := []byte("token-one")
	c.Put(unsafe.String(&buf[0], len(buf)), 1, 10)
	copy(buf, "token-two")
	if _, ok := c.Get("token-one"); !ok {
		t.Fatal("the stored key changed with the caller's buffer")
	}
	if _, ok := c.Get("token-two"); ok {
		t.Fatal("the stored key follows the caller's buffer")
	}
}

func TestEntriesBound(t *testing.T) {
	const limit = 1000
	c := New[int](limit, 1<<30)
	for i := range 50 * limit {
		c.Put(fmt.Sprintf("tok-%d", i), i, 10)
		if n := c.Len(); n > limit {
			t.Fatalf("after %d puts: %d entries, bound %d", i+1, n, limit)
		}
	}
	if n := c.Len(); n < limit/2 {
		t.Fatalf("%d entries after filling a cache of %d: eviction too eager", n, limit)
	}
}

func TestBytesBound(t *testing.T) {
	const limit = 64 << 10
	c := New[int](1<<20, limit)
	for i := range 20000 {
		c.Put(fmt.Sprintf("tok-%d", i), i, 100+i%400)
		if b := c.Bytes(); b > limit {
			t.Fatalf("after %d puts: %d bytes, bound %d", i+1, b, limit)
		}
	}
	if c.Put("huge", 1, limit) {
		t.Fatal("an entry larger than a shard's budget was stored")
	}
	if _, ok := c.Get("huge"); ok {
		t.Fatal("refused entry is present")
	}
}

// The CLOCK hand evicts entries nobody read before entries in use: a hot
// set read between insertions of unique keys survives them.
func TestEvictionKeepsWhatIsRead(t *testing.T) {
	c := New[int](64, 1<<30) // 8 shards of 8
	hot := make([]string, 0, 16)
	for i := range 16 {
		k := fmt.Sprintf("hot-%d", i)
		hot = append(hot, k)
		c.Put(k, i, 1)
	}
	lost := 0
	for i := range 10000 {
		for _, k := range hot {
			if _, ok := c.Get(k); !ok {
				lost++
				c.Put(k, 0, 1)
			}
		}
		c.Put(fmt.Sprintf("cold-%d", i), i, 1)
	}
	if lost > 0 {
		t.Fatalf("hot entries evicted %d times by unread ones", lost)
	}
}

// Many goroutines behind a barrier read, write and delete overlapping keys;
// every hit returns the value stored for exactly that key, and the bounds
// hold throughout. Run with -race.
func TestConcurrentUse(t *testing.T) {
	const workers, ops, keys, limit = 32, 3000, 500, 200
	c := New[string](limit, 1<<30)
	var start, done sync.WaitGroup
	start.Add(1)
	errs := make(chan string, workers)
	for w := range workers {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			for i := range ops {
				k := fmt.Sprintf("k%d", (i*7+w*13)%keys)
				switch i % 5 {
				case 0:
					c.Put(k, "v"+k, 8)
				case 1:
					if i%15 == 1 {
						c.Delete(k)
					}
				default:
					if v, ok := c.Get(k); ok && v != "v"+k {
						errs <- fmt.Sprintf("Get(%q) = %q", k, v)
						return
					}
				}
				if i%500 == 0 && c.Len() > limit {
					errs <- fmt.Sprintf("%d entries, bound %d", c.Len(), limit)
					return
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
	if c.Len() > limit {
		t.Fatalf("%d entries, bound %d", c.Len(), limit)
	}
}

func TestGetAllocatesNothing(t *testing.T) {
	c := New[[4]int64](1000, 1<<20)
	tok := strings.Repeat("x", 400)
	c.Put(tok, [4]int64{1, 2, 3, 4}, 100)
	if n := testing.AllocsPerRun(1000, func() {
		if _, ok := c.Get(tok); !ok {
			t.Fatal("miss")
		}
	}); n != 0 {
		t.Fatalf("Get allocates %v times per call", n)
	}
}

func BenchmarkGet(b *testing.B) {
	c := New[[4]int64](100000, 64<<20)
	tok := strings.Repeat("x", 400)
	c.Put(tok, [4]int64{1, 2, 3, 4}, 100)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := c.Get(tok); !ok {
				b.Fatal("miss")
			}
		}
	})
}

// Keys of one length that share their hashed tail but differ before it
// have one hash: both are stored, side by side, and each Get returns the
// value stored for exactly its key.
func TestKeysSharingTheTail(t *testing.T) {
	c := New[string](1000, 1<<20)
	tail := strings.Repeat("s", hashedTail)
	a, b := "header.payload-a."+tail, "header.payload-b."+tail
	c.Put(a, "a", 10)
	if _, ok := c.Get(b); ok {
		t.Fatal("a key sharing the tail of a stored one hit")
	}
	c.Put(b, "b", 10)
	if v, ok := c.Get(b); !ok || v != "b" {
		t.Fatalf("Get(b) = %q, %v", v, ok)
	}
	if v, ok := c.Get(a); !ok || v != "a" {
		t.Fatalf("Get(a) = %q, %v", v, ok)
	}
	if c.Len() != 2 || c.Bytes() != 20 {
		t.Fatalf("len %d, bytes %d; want 2, 20", c.Len(), c.Bytes())
	}
	c.Delete(a)
	if _, ok := c.Get(a); ok {
		t.Fatal("a deleted key hit")
	}
	if v, ok := c.Get(b); !ok || v != "b" {
		t.Fatalf("after deleting a: Get(b) = %q, %v", v, ok)
	}
}

// Replace changes the value of exactly its key, keeping the charge, and
// stores nothing for a key that is not there.
func TestReplace(t *testing.T) {
	c := New[int](100, 1<<20)
	c.Put("tok-a", 1, 40)
	if !c.Replace("tok-a", 2) {
		t.Fatal("Replace missed a stored key")
	}
	if v, ok := c.Get("tok-a"); !ok || v != 2 || c.Bytes() != 40 {
		t.Fatalf("after Replace: %d, %v, %d bytes", v, ok, c.Bytes())
	}
	if c.Replace("tok-b", 3) || c.Replace("tok-a-", 3) {
		t.Fatal("Replace reported a key that is not stored")
	}
	if _, ok := c.Get("tok-b"); ok || c.Len() != 1 {
		t.Fatal("Replace stored a new key")
	}
}
