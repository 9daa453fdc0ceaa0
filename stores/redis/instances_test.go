package redisstore_test

import (
	"testing"

	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/core/storetest"
	redisstore "github.com/authguard/authguard/stores/redis"
)

// TestInstances runs several services over one key prefix, each through its
// own client, as separate processes would.
func TestInstances(t *testing.T) {
	testClient(t) // skip (or fail) once, not in every subtest
	storetest.RunInstances(t, func(t *testing.T) func() store.Store {
		prefix := testPrefix(t, testClient(t))
		return func() store.Store {
			st, err := redisstore.New(t.Context(), testClient(t), redisstore.WithPrefix(prefix))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			return st
		}
	})
}
