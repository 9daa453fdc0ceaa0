package pgstore

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/core/storetest"
)

// The test server behind a proxy that pauses, slows, cuts and drops
// answers: nobody is logged out, no session is lost or forked.
func TestFaults(t *testing.T) {
	direct := testPool(t)
	storetest.RunFaults(t, func(t *testing.T) (store.Store, *storetest.Proxy) {
		cc := direct.Config().ConnConfig
		p := storetest.NewProxy(t, net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port))))
		cfg := direct.Config()
		host, port, _ := net.SplitHostPort(p.Addr())
		n, _ := strconv.Atoi(port)
		cfg.ConnConfig.Host, cfg.ConnConfig.Port = host, uint16(n)
		cfg.ConnConfig.Fallbacks = nil
		cfg.ConnConfig.ConnectTimeout = time.Second
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		st, err := New(ctx, pool, WithSchema(freshSchema(t, direct)))
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return st, p
	})
}
