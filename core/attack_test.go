package core_test

import (
	"testing"

	"github.com/authguard/authguard/core/memstore"
	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/core/storetest"
)

// TestAttack runs the adversarial lineage cases (failures in unlucky
// orders, forgeries, races, clock jumps) over the reference store.
func TestAttack(t *testing.T) {
	storetest.RunAttacks(t, func(t *testing.T) store.Store { return memstore.New() })
}
