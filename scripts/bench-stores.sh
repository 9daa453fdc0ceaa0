#!/usr/bin/env bash
# Measures refreshes per second through the core over each store, next to
# the store's raw rate in the same run, and the latency a session's first
# sight adds to the guard (the BenchmarkService benchmarks of each store, see
# core/storetest/servicebench.go), and prints the tables of the "Stores"
# section of BENCHMARKS.md.
#
# Every store's benchmark binary runs ROUNDS rounds in one process; a round
# measures, at 1, 16 and 64 concurrent clients, the full refresh, the store's
# part of a refresh (its session read, user lookup and compare-and-set, and
# nothing of the core) and the raw operation once each, the three taking turns
# at going first, so the load of a shared machine hits them alike. Each table
# value is the median over the rounds; each ratio is the median of the
# rounds' ratios (one round's rates, measured next to each other).
#
#   ./scripts/bench-stores.sh                          Redis and PostgreSQL (about 3 minutes on 2 cores)
#   STORES='redis postgres sqlite memory' ./scripts/bench-stores.sh
#                                                      also the single-node stores, for reference
#   ROUNDS=5 BENCHTIME=100ms ./scripts/bench-stores.sh a quicker, noisier run
#   RAW=out.txt ./scripts/bench-stores.sh              also keep the raw go test output
#   STRICT=1 ./scripts/bench-stores.sh                 exit 1 when a target is missed
#   FROM=out.txt ./scripts/bench-stores.sh             only print the tables of a kept RAW output
#
# The servers are those of the tests: AUTHGUARD_REDIS_URL and
# AUTHGUARD_POSTGRES_URL (default redis://127.0.0.1:6379/0 and
# postgres://postgres@127.0.0.1:5432/test?sslmode=disable). Each run works
# under its own key prefix and schema and removes them at the end.
#
# Absolute rates depend on the machine and its load; compare the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local
export AUTHGUARD_REDIS_URL=${AUTHGUARD_REDIS_URL:-redis://127.0.0.1:6379/0}
export AUTHGUARD_POSTGRES_URL=${AUTHGUARD_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
export AUTHGUARD_REQUIRE_SERVICES=1 # a missing server fails the run instead of skipping it

stores=${STORES:-redis postgres}
rounds=${ROUNDS:-11}
benchtime=${BENCHTIME:-200ms}
raw=${FROM:-${RAW:-$(mktemp)}}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [ -n "${RAW:-}${FROM:-}" ] || rm -f "$raw"' EXIT

pkg() {
	case $1 in
	redis) echo stores/redis ;;
	postgres) echo stores/postgres ;;
	sqlite) echo stores/sqlite ;;
	memory) echo core/memstore ;;
	*)
		echo "bench-stores.sh: unknown store $1 (redis, postgres, sqlite, memory)" >&2
		exit 2
		;;
	esac
}

for s in $stores; do pkg "$s" >/dev/null; done # refuse an unknown store before building anything

echo "# authguard stores"
echo
if [ -n "${FROM:-}" ]; then
	echo "- the tables of $FROM"
	echo
else
	echo "- $(go version)"
	echo "- $(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo unknown)"
	echo "- load average before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
	echo "- in each of $(for s in $stores; do printf '%s ' "$(pkg "$s")"; done| sed 's/ $//'):" \
		"AUTHGUARD_BENCH_ROUNDS=$rounds go test -run '^\$' -bench '^BenchmarkService\$' -benchmem -benchtime $benchtime"
	echo
fi

# Build everything first so compiling does not overlap the measurements.
(cd bench && go build -o "$tmp/benchtable" ./cmd/benchtable)
[ -n "${FROM:-}" ] || for s in $stores; do
	(cd "$(pkg "$s")" && go test -c -o "$tmp/$s.test" .)
done

start=$(date +%s)
[ -n "${FROM:-}" ] || : >"$raw"
[ -n "${FROM:-}" ] || for s in $stores; do
	# Name each store's groups after it: "BenchmarkService/Refresh/..." -> "BenchmarkRedis/Refresh/...".
	name=$(echo "${s:0:1}" | tr a-z A-Z)${s:1}
	(cd "$(pkg "$s")" && AUTHGUARD_BENCH_ROUNDS=$rounds "$tmp/$s.test" -test.run '^$' \
		-test.bench '^BenchmarkService$' -test.benchmem -test.benchtime "$benchtime") >"$tmp/out.txt" 2>&1 || {
		cat "$tmp/out.txt" >&2
		echo "bench-stores.sh: the $s benchmarks failed" >&2
		exit 1
	}
	sed "s#^BenchmarkService/#Benchmark$name/#" "$tmp/out.txt" >>"$raw"
done
if [ -z "${FROM:-}" ]; then
	echo "- load average after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown); run took $(($(date +%s) - start))s"
	echo
fi

# Refreshes per second and raw operations per second (medians over the
# rounds) and the median of the per-round ratios; then the first sight, whose
# added latency is the median of the per-round differences.
awk '
function median(list,    n, a, i, j, v) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) { v = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > v; j--) a[j + 1] = a[j]; a[j + 1] = v }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
# The per-round ratios a/b of one group, as a list.
function pairs(key, a, b,    k, out) {
	out = ""
	for (k = 0; k < 1000; k++) {
		if (!((key, a, k) in r)) break
		if ((key, b, k) in r && r[key, b, k] > 0) out = out " " r[key, a, k] / r[key, b, k]
	}
	return out
}
function med(list) { return list == "" ? "-" : sprintf("%.0f", median(list)) }
function pct(list) { return list == "" ? "-" : sprintf("%.0f %%", 100 * median(list)) }
function metric(unit,    i) { for (i = 3; i < NF; i++) if ($(i + 1) == unit) return $i; return "" }
/^Benchmark/ {
	name = $1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
	rep = 0; if (match(name, /#[0-9]+$/)) { rep = substr(name, RSTART + 1) + 0; name = substr(name, 1, RSTART - 1) }
	n = split(name, p, "/"); store = p[1]
	if (!(store in seenStore)) { seenStore[store] = 1; stores[++ns] = store }
	if (p[2] == "Refresh") {
		c = p[3]; sub(/^clients=/, "", c); key = store SUBSEP c
		if (!(key in seenKey)) { seenKey[key] = 1; clients[store] = clients[store] " " c }
		rate[key, p[4]] = rate[key, p[4]] " " metric("ops/s")
		r[key, p[4], rep] = metric("ops/s")
	} else if (p[2] == "FirstSight") {
		lat[store, p[3]] = lat[store, p[3]] " " metric("ns/op")
		l[store, p[3], rep] = metric("ns/op")
		fs[store] = 1
	}
}
END {
	for (s = 1; s <= ns; s++) {
		st = stores[s]
		if (clients[st] == "") continue
		printf "#### %s: refreshes per second\n\n", st
		printf "| clients | refresh/s | store part/s | raw/s | refresh / raw | store part / raw | refresh / store part |\n|---:|---:|---:|---:|---:|---:|---:|\n"
		m = split(clients[st], cs, " ")
		for (i = 1; i <= m; i++) {
			key = st SUBSEP cs[i]
			rr = pairs(key, "refresh", "raw"); sr = pairs(key, "store", "raw"); rs = pairs(key, "refresh", "store")
			if (rr != "") paired[st, cs[i]] = median(rr)
			if (sr != "") pairedStore[st, cs[i]] = median(sr)
			printf "| %d | %s | %s | %s | %s | %s | %s |\n", cs[i], med(rate[key, "refresh"]), med(rate[key, "store"]),
				med(rate[key, "raw"]), pct(rr), pct(sr), pct(rs)
		}
		printf "\n"
	}
	printf "#### First sight of a session in the guard (Service.Authenticate, sequential)\n\n"
	printf "| store | seen session | first sight | added by the first sight |\n|---|---:|---:|---:|\n"
	for (s = 1; s <= ns; s++) {
		st = stores[s]
		if (!(st in fs)) continue
		diffs = ""
		for (k = 0; (st, "first", k) in l && (st, "seen", k) in l; k++) diffs = diffs " " l[st, "first", k] - l[st, "seen", k]
		printf "| %s | %.0f µs | %.0f µs | %.0f µs |\n", st, median(lat[st, "seen"]) / 1000, median(lat[st, "first"]) / 1000, median(diffs) / 1000
	}
	printf "\n"
	# The targets: at 16 clients, refresh at least 50 % of the raw rate on
	# Redis, 40 % on PostgreSQL (the paired ratio above).
	want["Redis"] = 0.5; want["Postgres"] = 0.4
	printf "#### Targets\n\n| target | verdict |\n|---|---|\n"
	for (s = 1; s <= ns; s++) {
		st = stores[s]
		if (!(st in want)) continue
		ok = (st SUBSEP 16) in paired && paired[st, 16] >= want[st]
		if (!ok) failed = 1
		printf "| %s: refresh at 16 clients >= %.0f %% of raw | %s (%s; the store part alone: %s) |\n", st, 100 * want[st],
			ok ? "PASS" : "FAIL", (st SUBSEP 16) in paired ? sprintf("%.0f %%", 100 * paired[st, 16]) : "not measured",
			(st SUBSEP 16) in pairedStore ? sprintf("%.0f %%", 100 * pairedStore[st, 16]) : "not measured"
	}
	printf "\n"
	if (failed) print "" >fail
}' fail="$tmp/failed" "$raw"

echo "#### Per benchmark (ns/op is wall time per operation over all clients; \"vs base\" compares medians)"
echo
"$tmp/benchtable" -baseline raw,seen <"$raw"
if [ -n "${STRICT:-}" ] && [ -e "$tmp/failed" ]; then
	echo "bench-stores.sh: a target was missed" >&2
	exit 1
fi
