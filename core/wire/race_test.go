//go:build race

package wire_test

// raceEnabled: the race detector changes allocation counts, so those are
// not asserted under it.
const raceEnabled = true
