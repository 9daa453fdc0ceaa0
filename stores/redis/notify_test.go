package redisstore_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/authguard/authguard/core/storetest"
	redisstore "github.com/authguard/authguard/stores/redis"
)

// TestNotify: two instances over one prefix, each with its own client, as
// two processes would be; B's client has a name of its own so that the test
// can kill B's subscription and no one else's.
func TestNotify(t *testing.T) {
	testClient(t) // skip (or fail) once, not in every subtest
	storetest.RunNotify(t, func(t *testing.T) storetest.NotifyPair {
		ca := testClient(t)
		var b [6]byte
		_, _ = rand.Read(b[:])
		name := "authguard-notify-test-" + hex.EncodeToString(b[:])
		opt := *ca.Options()
		opt.ClientName = name
		cb := redis.NewClient(&opt)
		t.Cleanup(func() { _ = cb.Close() })
		prefix := testPrefix(t, ca)
		a := newStoreAt(t, ca, prefix)
		bs := newStoreAt(t, cb, prefix)
		return storetest.NotifyPair{A: a, B: bs, CutB: func(t *testing.T) { killPubSub(t, ca, name) }}
	})
}

func newStoreAt(t *testing.T, c *redis.Client, prefix string) *redisstore.Store {
	t.Helper()
	st, err := redisstore.New(t.Context(), c, redisstore.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// killPubSub kills the subscribed connections of the client named name
// (CLIENT KILL ID, found in CLIENT LIST TYPE pubsub), and fails unless it
// killed one.
func killPubSub(t *testing.T, c *redis.Client, name string) {
	t.Helper()
	ctx := context.Background()
	list, err := c.ClientList(ctx).Result() // every type: TYPE pubsub lists RESP2 subscribers only
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	sc := bufio.NewScanner(strings.NewReader(list))
	for sc.Scan() {
		f := map[string]string{}
		for _, kv := range strings.Fields(sc.Text()) {
			k, v, _ := strings.Cut(kv, "=")
			f[k] = v
		}
		if f["name"] != name || f["sub"] == "0" || f["sub"] == "" {
			continue
		}
		if err := c.Do(ctx, "CLIENT", "KILL", "ID", f["id"]).Err(); err != nil {
			t.Fatal(err)
		}
		killed++
	}
	if killed == 0 {
		t.Fatalf("no subscribed connection named %s in CLIENT LIST", name)
	}
}
