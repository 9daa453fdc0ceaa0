package sqlitestore

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/core/storetest"
)

// TestInstances runs several services over one database file, each through
// its own handle, as separate processes on one host would.
func TestInstances(t *testing.T) {
	storetest.RunInstances(t, func(t *testing.T) func() store.Store {
		path := filepath.Join(t.TempDir(), "authguard.db")
		return func() store.Store {
			st, err := Open(context.Background(), path)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}
	})
}
