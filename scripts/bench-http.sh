#!/usr/bin/env bash
# Measures the example servers from outside, side by side with each
# router's established JWT middleware (bench/cmd/peerserver) on the same key
# and the same tokens, and prints the "HTTP level" tables and target verdicts
# of BENCHMARKS.md (bench/cmd/httpbench does the work; see its doc).
#
# Servers run on CPU SERVER_CPU, the load generator (wrk, one thread) on
# LOAD_CPU; requests per second of /healthz and of the guarded
# /api/profile with one token and with TOKENS distinct tokens, EdDSA and
# HS256, median of ROUNDS rounds with the contenders interleaved.
#
#   ./scripts/bench-http.sh                      the full run (about 13 minutes on 2 cores)
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
	-algs "${ALGS:-EdDSA,HS256}" -routers "${ROUTERS:-chi,gin,fiber}")
[ -z "${STRICT:-}" ] || args+=(-strict)
"$bin/httpbench" "${args[@]}"
