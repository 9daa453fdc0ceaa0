package rbac

import (
	"sync"
	"testing"
	"unsafe"
)

// A decision computed under a policy that changed before it was cached is
// never served: the generation read before computing no longer matches.
func TestCacheDropsDecisionOfOldPolicy(t *testing.T) {
	c := newDecisionCache(16)
	k := cacheKey{sub: "bob", obj: "reports", act: "delete"}
	_, hit, gen := c.get(k)
	if hit {
		t.Fatal("hit in an empty cache")
	}
	c.invalidate() // the policy changes while the decision is computed
	c.put(k, gen, true)
	if allow, hit, _ := c.get(k); hit || allow {
		t.Fatalf("get = %v, %v after a put under an old generation; want a miss", allow, hit)
	}
	_, _, gen = c.get(k)
	c.put(k, gen, true)
	if allow, hit, _ := c.get(k); !hit || !allow {
		t.Fatalf("get = %v, %v; want the cached allow", allow, hit)
	}
	// An entry of an older generation still in a map is not served either.
	h, s := c.locate(&k)
	s.mu.Lock()
	s.m[h] = cacheEntry{key: k, gen: gen - 1, allow: true}
	s.mu.Unlock()
	if _, hit, _ := c.get(k); hit {
		t.Fatal("an entry of an older generation was served")
	}
}

// The bound holds under concurrent writers of distinct keys.
func TestCacheBoundConcurrent(t *testing.T) {
	c := newDecisionCache(cacheShards * 2)
	var start, wg sync.WaitGroup
	start.Add(1)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			for i := range 500 {
				k := cacheKey{sub: string(rune('a'+g)) + string(rune(i)), obj: "o", act: "a"}
				_, _, gen := c.get(k)
				c.put(k, gen, i%2 == 0)
				if i%100 == 0 {
					c.invalidate()
				}
			}
		}()
	}
	start.Done()
	wg.Wait()
	if n := c.len(); n > cacheShards*2 {
		t.Fatalf("cache holds %d entries, bound %d", n, cacheShards*2)
	}
}

// A key whose strings share memory with a buffer the caller reuses (as
// fasthttp's do) is copied when cached: rewriting the buffer neither
// changes the cached key nor makes another request hit it.
func TestCacheCopiesKeys(t *testing.T) {
	c := newDecisionCache(16)
	buf := []byte("alice")
	sub := unsafe.String(&buf[0], len(buf))
	k := cacheKey{sub: sub, obj: "reports", act: "delete"}
	_, _, gen := c.get(k)
	c.put(k, gen, true)
	copy(buf, "mallo")
	if _, hit, _ := c.get(cacheKey{sub: "mallo", obj: "reports", act: "delete"}); hit {
		t.Fatal("a rewritten buffer made another subject hit alice's decision")
	}
	if allow, hit, _ := c.get(cacheKey{sub: "alice", obj: "reports", act: "delete"}); !hit || !allow {
		t.Fatalf("alice's decision = %v, %v after the buffer was rewritten; want the cached allow", allow, hit)
	}
}
