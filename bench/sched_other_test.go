//go:build !linux

package bench_test

import "time"

// threadSched is not available here; the schedstat metrics are left out.
func threadSched() (run, wait time.Duration, ok bool) { return 0, 0, false }
