#!/usr/bin/env bash
# Compares authguard's guard benchmarks at another revision with the working
# tree, on one machine at one time: both benchmark binaries are built first,
# then run alternately RUNS times, so both see the same load, and the table
# shows each group's "after" row against its "before" row (medians of the
# runs, and the ratio). The router alone (the "none" row of a router group)
# runs too, as "none-before" and "none-after": the guard's cost is its row
# minus that one.
#
#   ./scripts/bench-ab.sh REV                    e.g. a commit before a change
#   RUNS=10 BENCHTIME=300ms ./scripts/bench-ab.sh REV
#   BENCH='/HS256//^authguard$' ./scripts/bench-ab.sh REV   (group/alg/tokens-n/contender)
#
# Absolute times depend on the machine and its load; compare the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local

rev=${1:?usage: $0 REV}
runs=${RUNS:-10}
benchtime=${BENCHTIME:-200ms}
bench=${BENCH:-///^(authguard|none)$}
tmp=$(mktemp -d)
trap 'git worktree remove --force "$tmp/before" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT

git worktree add --detach "$tmp/before" "$rev" >/dev/null
(cd "$tmp/before/bench" && go test -c -o "$tmp/before.test" .)
(cd bench && go test -c -o "$tmp/after.test" .)
(cd bench && go build -o "$tmp/benchtable" ./cmd/benchtable)

echo "# authguard before ($rev) and after ($(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes'))"
echo
echo "- $(go version); $(nproc) CPU(s); load average before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
echo "- $runs alternating runs of -bench '$bench' -benchtime $benchtime"
echo
for i in $(seq 1 "$runs"); do
	for side in before after; do
		(cd bench && AUTHGUARD_BENCH_ROUNDS=1 "$tmp/$side.test" -test.run '^$' -test.bench "$bench" \
			-test.benchmem -test.benchtime "$benchtime") |
			sed -E -e "s#/authguard(\#[0-9]+)?-([0-9]+)#/$side-\2#" -e "s#/none(\#[0-9]+)?-([0-9]+)#/none-$side-\2#" >>"$tmp/raw.txt"
	done
done
"$tmp/benchtable" -baseline before <"$tmp/raw.txt"
