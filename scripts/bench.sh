#!/usr/bin/env bash
# Runs every benchmark of the bench module in ONE go test invocation and
# prints the markdown tables of BENCHMARKS.md: medians, ratios to each
# group's baseline, and the verdict on every target.
#
# Each group (one router or the bare guard, one algorithm) runs ROUNDS
# rounds; a round runs every contender of the group once, for BENCHTIME, so
# the contenders are measured interleaved, under the same load. (go test
# -count repeats each sub-benchmark back to back instead; COUNT multiplies
# the samples of each round.)
#
#   ./scripts/bench.sh                          the full run (about 8 minutes on 2 cores)
#   AUTHGUARD_BENCH_TOKENS=1,1000 ./scripts/bench.sh   only these counts of distinct tokens
#   ROUNDS=5 BENCHTIME=50ms ./scripts/bench.sh  a quicker, noisier run
#   BENCH='Guard' ./scripts/bench.sh            only the matching benchmarks
#   RAW=out.txt ./scripts/bench.sh              also keep the raw go test output
#   STRICT=1 ./scripts/bench.sh                 exit 1 when a target is missed
#   SCHEDSTAT=1 RAW=out.txt ./scripts/bench.sh  also record, per benchmark, how the
#                                               benchmark thread's wall time splits into
#                                               running (run-ns/op) and waiting for a
#                                               core (wait-ns/op); Linux only, in out.txt
#
# Absolute times depend on the machine and its load; compare the ratios.
set -euo pipefail
cd "$(dirname "$0")/../bench"
export GOTOOLCHAIN=local

count=${COUNT:-1}
rounds=${ROUNDS:-15}
benchtime=${BENCHTIME:-100ms}
bench=${BENCH:-.}
raw=${RAW:-$(mktemp)}
tool=$(mktemp -d)
trap 'rm -rf "$tool"; [ -n "${RAW:-}" ] || rm -f "$raw"' EXIT

echo "# authguard benchmarks"
echo
echo "- $(go version)"
echo "- $(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo unknown)"
echo "- load average before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
echo "- AUTHGUARD_BENCH_TOKENS=${AUTHGUARD_BENCH_TOKENS:-1,1000,100000} AUTHGUARD_BENCH_ROUNDS=$rounds${SCHEDSTAT:+ AUTHGUARD_BENCH_SCHEDSTAT=$SCHEDSTAT} go test -run '^\$' -bench '$bench' -benchmem -count $count -benchtime $benchtime"
echo

# Build the table tool first so its compilation does not overlap the run.
go build -o "$tool/benchtable" ./cmd/benchtable

start=$(date +%s)
AUTHGUARD_BENCH_ROUNDS=$rounds AUTHGUARD_BENCH_SCHEDSTAT=${SCHEDSTAT:-} \
	go test -run '^$' -bench "$bench" -benchmem -count "$count" -benchtime "$benchtime" -timeout 0 . >"$raw" 2>&1 || {
	cat "$raw" >&2
	echo "bench.sh: go test failed" >&2
	exit 1
}
echo "- load average after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown); run took $(( $(date +%s) - start ))s"
echo

# The project's targets, each checked on wall time (ns/op) and on process
# CPU time (cpu-ns/op, steadier when the machine is shared). Groups are
# <Guard|Chi|Gin|Fiber>/<alg>/tokens-<n>: n distinct live tokens presented
# in turn. "authguard" is the default service (its token cache warm: a
# cache hit), "authguard-cold" the same guard with the cache off (every
# request verifies: a token's first sight).
counts=${AUTHGUARD_BENCH_TOKENS:-1,1000,100000}
targets=()
for metric in ns/op cpu-ns/op; do
	targets+=(
		"Guard/EdDSA/tokens-1: authguard-cold $metric <= 1.1 x golang-jwt"
		"Guard/HS256/tokens-1: authguard-cold $metric <= 1.5 x golang-jwt"
		"Guard/EdDSA/tokens-1: authguard-cold $metric <= 1 x jwtauth"
		"Guard/HS256/tokens-1: authguard-cold $metric <= 1 x jwtauth"
	)
	for alg in EdDSA HS256; do
		for n in ${counts//,/ }; do
			targets+=(
				"Guard/$alg/tokens-$n: authguard $metric <= 1000"
				"Guard/$alg/tokens-$n: authguard $metric <= 0.2 x golang-jwt"
				"Guard/$alg/tokens-$n: authguard $metric <= 0.2 x jwtauth"
			)
		done
	done
done
for alg in EdDSA HS256; do
	for rp in Chi:jwtauth Gin:gin-jwt Fiber:contrib-jwt; do
		router=${rp%%:*} peer=${rp#*:}
		for n in ${counts//,/ }; do
			g="$router/$alg/tokens-$n"
			for metric in ns/op cpu-ns/op; do
				targets+=(
					"$g: authguard $metric over none <= 1000"
					"$g: authguard $metric over none <= 0.2 x $peer"
					"$g: authguard-cold $metric <= 1 x $peer"
				)
			done
			for metric in allocs/op B/op; do
				targets+=("$g: authguard-cold $metric <= 1 x $peer")
			done
		done
	done
done
args=()
for t in "${targets[@]}"; do args+=(-target "$t"); done
[ -z "${STRICT:-}" ] || args+=(-strict)

"$tool/benchtable" -baseline golang-jwt,jwtauth,gin-jwt,contrib-jwt -open none -order Guard,Chi,Gin,Fiber "${args[@]}" <"$raw"
