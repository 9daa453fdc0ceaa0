package pgstore

import (
	"context"
	"testing"

	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/core/storetest"
)

// TestInstances runs several services over one schema, each through its own
// pool, as separate processes would.
func TestInstances(t *testing.T) {
	testPool(t) // skip (or fail) once, not in every subtest
	storetest.RunInstances(t, func(t *testing.T) func() store.Store {
		schema := freshSchema(t, testPool(t))
		return func() store.Store {
			st, err := New(context.Background(), testPool(t), WithSchema(schema))
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}
	})
}
