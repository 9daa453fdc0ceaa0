//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package rbac_test

import "time"

// processCPU is not available here; the cpu-ns/op metric is left out.
func processCPU() (time.Duration, bool) { return 0, false }
