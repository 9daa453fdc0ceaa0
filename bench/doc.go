// Package bench compares the per-request cost of authguard's guard with the
// raw golang-jwt parser and with the established JWT middleware of each
// router it supports (go-chi/jwtauth, appleboy/gin-jwt, gofiber/contrib jwt),
// in one `go test -bench` run, on the same token.
//
// Everything lives in the package's tests: the benchmarks (BenchmarkGuard,
// BenchmarkChi, BenchmarkGin, BenchmarkFiber) and, in the normal test run,
// the checks that every contender accepts the valid token and refuses a
// tampered or forged one, so no benchmark measures a no-op. Besides ns/op,
// B/op and allocs/op every benchmark reports cpu-ns/op, the process CPU time
// per iteration. AUTHGUARD_BENCH_ROUNDS=n runs each group n times with its
// contenders interleaved. ../scripts/bench.sh runs them all and prints the
// tables of BENCHMARKS.md with cmd/benchtable.
//
// The HTTP-level comparison runs outside go test: cmd/peerserver is a
// router with its established JWT middleware as a server, and
// cmd/httpbench starts the example servers and the peers and drives them
// with wrk (../scripts/bench-http.sh).
package bench
