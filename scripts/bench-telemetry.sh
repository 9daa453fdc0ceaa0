#!/usr/bin/env bash
# Counts the instructions of the warm guard (core/wire BenchmarkWarmGuard:
# a token the cache holds, no MeterProvider or TracerProvider) with the
# OpenTelemetry hooks compiled in, as shipped, and compiled out, and prints
# the ratio. Instruction counts do not depend on the machine's load, so a
# difference of a few percent is resolved where wall-clock timings on a
# shared machine cannot resolve it.
#
# The "compiled out" build is the same tree with every hook call on the
# guard's path deleted (the guard-decision counter in core/wire/guard.go and
# the token-cache lookup counter in core/authenticate.go), given to the
# compiler with -overlay; nothing in the repository changes. The script
# stops when the deletion no longer finds exactly the calls it expects.
#
# Each binary runs under valgrind's callgrind, collecting only inside the
# benchmark's measured call (warmCheck, which wraps wire.(*Guard).Check and
# runs only in the loop, after a first request has filled the cache), and
# the count is divided by the calls. Counts vary a little between runs: the
# collector and the service's background goroutines sometimes run inside a
# measured call, which only adds instructions. So both builds run RUNS
# times, alternately, and the table shows the median and the least.
#
#   ./scripts/bench-telemetry.sh                   N=40000 requests, 5 runs (about 3 minutes)
#   N=10000 RUNS=1 ./scripts/bench-telemetry.sh    quicker
#
# Needs valgrind (Debian: apt-get install valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local
command -v valgrind >/dev/null || {
	echo "bench-telemetry.sh: valgrind not found (Debian: apt-get install valgrind)" >&2
	exit 1
}
n=${N:-40000}
runs=${RUNS:-5}
root=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# strip FILE PATTERN COUNT: writes FILE without the lines matching PATTERN
# to $tmp and checks that exactly COUNT lines went.
strip() {
	local out="$tmp/$(basename "$1")" got
	grep -v -- "$2" "$1" >"$out" || true
	got=$(($(wc -l <"$1") - $(wc -l <"$out")))
	if [ "$got" != "$3" ]; then
		echo "bench-telemetry.sh: expected $3 lines matching '$2' in $1, found $got: update this script" >&2
		exit 1
	fi
	printf '"%s": "%s"' "$root/$1" "$out"
}
{
	printf '{"Replace": {'
	strip core/wire/guard.go 'svc\.RecordGuard(ctx, ' 4
	printf ', '
	strip core/authenticate.go 's\.tel\.CacheLookup(ctx, ' 2
	printf '}}\n'
} >"$tmp/overlay.json"

(cd core && go test -c -o "$tmp/in.test" ./wire)
(cd core && go test -c -overlay "$tmp/overlay.json" -o "$tmp/out.test" ./wire)

# count BIN BENCH ITERATIONS: instructions per call of warmCheck.
count() {
	# Without asynchronous preemption (its signals upset callgrind) and
	# without RDTSCP (valgrind does not decode it).
	(cd core/wire && GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off valgrind --tool=callgrind \
		--callgrind-out-file="$tmp/cg.out" --toggle-collect='*/core/wire_test.warmCheck' \
		"$1" -test.run '^$' -test.bench "^BenchmarkWarmGuard/$2\$" -test.benchtime "${3}x" >/dev/null 2>&1)
	# b.Loop calls the body once with b.N = 1, then N times.
	awk -v n="$3" '/^totals:/ { printf "%.1f\n", $2 / (n + 1); exit }' "$tmp/cg.out"
}

echo "# authguard: the warm guard's instructions with telemetry compiled in and out"
echo
echo "- $(go version); valgrind $(valgrind --version | sed 's/^valgrind-//'); N=$n, $runs runs"
echo "- instructions per warm request (wire.(*Guard).Check on a cached token), the two builds"
echo "  run alternately; the median of the runs, and the least in brackets"
echo
echo "| guard | compiled out | compiled in, no provider | in / out |"
echo "|---|--:|--:|--:|"
for alg in EdDSA HS256; do
	: >"$tmp/in.txt"
	: >"$tmp/out.txt"
	for _ in $(seq 1 "$runs"); do
		for side in out in; do
			count "$tmp/$side.test" "$alg" "$n" >>"$tmp/$side.txt"
		done
	done
	med() { sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%s %s", v[int((NR + 1) / 2)], v[1] }'; }
	read -r out lo_out <<<"$(med "$tmp/out.txt")"
	read -r in lo_in <<<"$(med "$tmp/in.txt")"
	echo "| $alg, 1 token | $out [$lo_out] | $in [$lo_in] | $(awk -v o="$out" -v i="$in" 'BEGIN { printf "%.3f", i / o }') [$(awk -v o="$lo_out" -v i="$lo_in" 'BEGIN { printf "%.3f", i / o }')] |"
done
