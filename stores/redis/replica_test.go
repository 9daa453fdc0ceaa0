package redisstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	redisstore "github.com/authguard/authguard/stores/redis"
)

// A client that sends reads to replicas is refused. Over one that did (a
// primary and a replica whose link to it was down, as a lagging replica is
// for a moment), a guard on a second instance answered 401 session_unknown
// to every user who had just logged in on the first. The same clients
// reading from primaries are accepted.
func TestReplicaReadsRefused(t *testing.T) {
	addr := testClient(t).Options().Addr
	slots := func(context.Context) ([]redis.ClusterSlot, error) {
		return []redis.ClusterSlot{{Start: 0, End: 16383, Nodes: []redis.ClusterNode{{Addr: addr}}}}, nil
	}
	for name, c := range map[string]redis.UniversalClient{
		"cluster ReadOnly":       redis.NewClusterClient(&redis.ClusterOptions{ClusterSlots: slots, ReadOnly: true}),
		"cluster RouteByLatency": redis.NewClusterClient(&redis.ClusterOptions{ClusterSlots: slots, RouteByLatency: true}),
		"cluster RouteRandomly":  redis.NewClusterClient(&redis.ClusterOptions{ClusterSlots: slots, RouteRandomly: true}),
		"sentinel ReplicaOnly":   redis.NewFailoverClusterClient(&redis.FailoverOptions{MasterName: "m", SentinelAddrs: []string{addr}, ReplicaOnly: true}),
		"sentinel RouteRandomly": redis.NewFailoverClusterClient(&redis.FailoverOptions{MasterName: "m", SentinelAddrs: []string{addr}, RouteRandomly: true}),
		"universal ReadOnly":     redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{addr, addr}, ReadOnly: true}),
	} {
		t.Cleanup(func() { _ = c.Close() })
		st, err := redisstore.New(t.Context(), c)
		if err == nil || !strings.Contains(err.Error(), "replicas") {
			t.Errorf("%s: New = %v, %v; want a refusal naming replicas", name, st, err)
		}
	}
	primary := redis.NewClusterClient(&redis.ClusterOptions{ClusterSlots: slots})
	t.Cleanup(func() { _ = primary.Close() })
	st, err := redisstore.New(t.Context(), primary, redisstore.WithPrefix(testPrefix(t, testClient(t))))
	if err != nil {
		t.Fatalf("a cluster client reading from primaries: %v", err)
	}
	if _, err := st.Revocations(t.Context(), 0, 0); err != nil {
		t.Fatalf("Revocations through a cluster client reading from primaries: %v", err)
	}
}
