package redisstore_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/core/storetest"
	redisstore "github.com/authguard/authguard/stores/redis"
)

// throughProxy returns a client of the test server that connects through a
// fault proxy, honouring context deadlines as redisstore requires.
func throughProxy(t *testing.T, direct *redis.Client) (*redis.Client, *storetest.Proxy) {
	t.Helper()
	p := storetest.NewProxy(t, direct.Options().Addr)
	opt := *direct.Options()
	opt.Addr = p.Addr()
	opt.ContextTimeoutEnabled = true
	c := redis.NewClient(&opt)
	t.Cleanup(func() { _ = c.Close() })
	return c, p
}

// The test server behind a proxy that pauses, slows, cuts and drops
// answers: nobody is logged out, no session is lost or forked.
func TestFaults(t *testing.T) {
	direct := testClient(t)
	storetest.RunFaults(t, func(t *testing.T) (store.Store, *storetest.Proxy) {
		c, p := throughProxy(t, direct)
		return newStoreOn(t, direct, c), p
	})
}

// newStoreOn returns a store over c in a fresh prefix whose keys are deleted
// through direct (which no fault touches) when the test ends.
func newStoreOn(t *testing.T, direct, c *redis.Client) *redisstore.Store {
	t.Helper()
	st, err := redisstore.New(t.Context(), c, redisstore.WithPrefix(testPrefix(t, direct)))
	if err != nil {
		t.Fatal(err)
	}
	return st
}
