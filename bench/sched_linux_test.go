//go:build linux

package bench_test

import (
	"fmt"
	"os"
	"time"
)

// threadSched reads the scheduler statistics of the calling OS thread: the
// time it ran on a CPU and the time it waited, runnable, on a run queue.
func threadSched() (run, wait time.Duration, ok bool) {
	b, err := os.ReadFile("/proc/thread-self/schedstat")
	if err != nil {
		return 0, 0, false
	}
	var r, w int64
	if _, err := fmt.Sscan(string(b), &r, &w); err != nil {
		return 0, 0, false
	}
	return time.Duration(r), time.Duration(w), true
}
