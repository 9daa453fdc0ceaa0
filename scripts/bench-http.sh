#!/usr/bin/env bash
# Measures the example servers from outside, side by side with each
# router's bare router and established JWT middleware (bench/cmd/peerserver)
# on the same key and the same tokens, and prints the "HTTP level" tables and
# target verdicts of BENCHMARKS.md (bench/cmd/httpbench does the work; see
# its doc).
#
# Servers run on CPU SERVER_CPU, the load generator (wrk, one thread) on
# LOAD_CPU. Two phases:
#   - fresh processes: HEALTHZ_ROUNDS rounds (5) in which every example and
#     its peer are started anew (no logins), warmed up alike with
#     HEALTHZ_WARMUP /healthz requests (5000) and their /healthz measured
#     back to back for HEALTHZ_DURATION (3s), the order alternating; the
#     "at most 5 % for the base middleware" target is judged here, on the
#     median of the per-round ratios example / bare router;
#   - with logins: TOKENS sessions logged in per example, then requests per
#     second of /healthz and of the guarded /api/profile with one token and
#     with TOKENS distinct tokens, median of ROUNDS rounds with the
#     contenders interleaved (/healthz there is the baseline of guarded /
#     /healthz in the same process).
# Both for EdDSA and HS256.
#
#   ./scripts/bench-http.sh                      the full run (about 17 minutes on 2 cores)
#   ONLY=healthz ./scripts/bench-http.sh         the fresh-process /healthz phase alone (about 4 minutes)
#   ROUNDS=3 DURATION=2s ./scripts/bench-http.sh a quicker, noisier run
#   ALGS=EdDSA ROUTERS=fiber ./scripts/bench-http.sh   a subset
#   STRICT=1 ./scripts/bench-http.sh             exit 1 when a target is missed
#
# Needs wrk and taskset (util-linux). When wrk is missing and the script runs
# as root on Debian, it installs wrk with apt-get first.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local

if ! command -v wrk >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "bench-http.sh: installing wrk (apt-get install -y wrk)" >&2
	apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y wrk >/dev/null 2>&1; } || true
fi
for tool in wrk taskset; do
	command -v "$tool" >/dev/null || {
		echo "bench-http.sh: $tool not found (Debian: apt-get install ${tool/taskset/util-linux})" >&2
		exit 1
	}
done

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
for ex in chi gin fiber; do
	go build -o "$bin/$ex" "./examples/$ex"
done
(cd bench && go build -o "$bin/peerserver" ./cmd/peerserver && go build -o "$bin/httpbench" ./cmd/httpbench)

echo "# authguard HTTP-level benchmark"
echo
echo "- $(go version)"
echo "- $(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo unknown)"
args=(-bin "$bin" -rounds "${ROUNDS:-5}" -duration "${DURATION:-3s}" -tokens "${TOKENS:-1000}"
	-conns "${CONNS:-16}" -server-cpu "${SERVER_CPU:-0}" -load-cpu "${LOAD_CPU:-1}"
	-algs "${ALGS:-EdDSA,HS256}" -routers "${ROUTERS:-chi,gin,fiber}"
	-healthz-rounds "${HEALTHZ_ROUNDS:-5}" -healthz-duration "${HEALTHZ_DURATION:-3s}"
	-healthz-warmup "${HEALTHZ_WARMUP:-5000}" -only "${ONLY:-}")
[ -z "${STRICT:-}" ] || args+=(-strict)
"$bin/httpbench" "${args[@]}"
