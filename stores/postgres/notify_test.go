package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authguard/authguard/core/storetest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestNotify: two instances over one schema, each with its own pool, as two
// processes would be; B's pool has an application_name of its own so that
// the test can terminate B's listening backend and no one else's.
func TestNotify(t *testing.T) {
	testPool(t) // skip (or fail) once, not in every subtest
	storetest.RunNotify(t, func(t *testing.T) storetest.NotifyPair {
		a, pool := newTestStore(t)
		var r [6]byte
		_, _ = rand.Read(r[:])
		name := "agtest-" + hex.EncodeToString(r[:])
		cfg := pool.Config()
		cfg.ConnConfig.RuntimeParams["application_name"] = name
		poolB, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(poolB.Close)
		b, err := New(context.Background(), poolB, WithSchema(a.Schema()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close() })
		cut := func(t *testing.T) { terminate(t, pool, name+" listener") }
		return storetest.NotifyPair{A: a, B: b, CutB: cut}
	})
}

// terminate ends the backends whose application_name is name, fails unless
// there was one, and waits until they are gone.
func terminate(t *testing.T, pool *pgxpool.Pool, name string) {
	t.Helper()
	ctx := context.Background()
	var pids []int32 // found first, terminated one by one: nobody else's
	err := pool.QueryRow(ctx, `SELECT coalesce(array_agg(pid), '{}') FROM pg_stat_activity WHERE application_name = $1`, name).Scan(&pids)
	if err != nil || len(pids) == 0 {
		t.Fatalf("finding the backends named %q: %v, %v", name, pids, err)
	}
	for _, pid := range pids {
		if _, err := pool.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		var left int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)`, pids).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("backends %v still there 5s after pg_terminate_backend", pids)
		}
	}
}

// The channel of every valid schema is a valid identifier of its own.
func TestChannelName(t *testing.T) {
	long := strings.Repeat("s", 63)
	for _, schema := range []string{"authguard", "a", long, long[:62] + "t", long[:55]} {
		c, p := channelName(schema), PolicyChannel(schema)
		if len(c) > 63 || !schemaName.MatchString(c) || len(p) > 63 || !schemaName.MatchString(p) {
			t.Errorf("channelName(%q) = %q, PolicyChannel = %q: not identifiers of at most 63 bytes", schema, c, p)
		}
		if c == p {
			t.Errorf("schema %q: the revocation and policy channels are both %q", schema, c)
		}
	}
	if channelName("authguard") != "authguard_revoked" || PolicyChannel("authguard") != "authguard_policy" {
		t.Errorf("channelName(authguard) = %q, PolicyChannel = %q", channelName("authguard"), PolicyChannel("authguard"))
	}
	if channelName(long) == channelName(long[:62]+"t") || PolicyChannel(long) == PolicyChannel(long[:62]+"t") {
		t.Error("two long schemas share a channel")
	}
}

// A pool whose connections work only through its BeforeConnect hook (here
// it picks the database; in production it often fetches a password or an
// IAM token) gets a listener too: Watch made its connection from the bare
// configuration, which could never connect, and every instance silently
// fell back to polling.
func TestWatchUsesPoolHooks(t *testing.T) {
	pool := testPool(t)
	schema := freshSchema(t, pool)
	cfg := pool.Config()
	database := cfg.ConnConfig.Database
	cfg.ConnConfig.Database = "authguard_no_such_database"
	var before, after atomic.Int32
	cfg.BeforeConnect = func(_ context.Context, c *pgx.ConnConfig) error {
		before.Add(1)
		c.Database = database
		return nil
	}
	cfg.AfterConnect = func(context.Context, *pgx.Conn) error { after.Add(1); return nil }
	hooked, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hooked.Close)
	st, err := New(context.Background(), hooked, WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	woken := make(chan struct{}, 1)
	done := make(chan error, 1)
	b0, a0 := before.Load(), after.Load()
	go func() {
		done <- st.Watch(ctx, func() {
			select {
			case woken <- struct{}{}:
			default:
			}
		})
	}()
	select {
	case <-woken:
	case <-time.After(3 * time.Second):
		t.Fatal("Watch never listened through a pool that connects with hooks")
	}
	if before.Load() == b0 || after.Load() == a0 {
		t.Errorf("the listener's connection ran BeforeConnect %d and AfterConnect %d times, want both", before.Load()-b0, after.Load()-a0)
	}
	cancel()
	<-done
}
