//go:build race

package core_test

// raceEnabled: the race detector changes allocation counts, so those are
// not asserted under it.
const raceEnabled = true
