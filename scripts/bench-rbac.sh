#!/usr/bin/env bash
# Measures what authorisation through the rbac module (casbin) costs per
# request, in ONE go test run of rbac's BenchmarkCost, and prints the tables
# of the "Authorisation (rbac)" section of BENCHMARKS.md: one permission
# decision by casbin's own Enforce (plain and synced enforcer) and by the
# rbac Authorizer with its decision cache off and on; and the permission
# guard per request (wire RequirePermission over a real *http.Request with a
# valid access token) with core.StaticAuthorizer and with the rbac
# Authorizer, next to the guard without a permission check and to casbin's
# Enforce of the same request. 1,000 users, 50 policy lines (three roles
# inheriting each other, 48 permissions).
#
# The benchmark runs ROUNDS rounds in one process; a round measures every
# contender once, for BENCHTIME, so they are measured interleaved, under the
# same load. Each table value is the median over the rounds; each ratio is
# the median of the rounds' ratios (two contenders measured next to each
# other).
#
#   ./scripts/bench-rbac.sh                          the full run (about a minute on 2 cores)
#   ROUNDS=5 BENCHTIME=50ms ./scripts/bench-rbac.sh  a quicker, noisier run
#   RAW=out.txt ./scripts/bench-rbac.sh              also keep the raw go test output
#   FROM=out.txt ./scripts/bench-rbac.sh             only print the tables of a kept RAW output
#   STRICT=1 ./scripts/bench-rbac.sh                 exit 1 when a target is missed
#
# The targets: the cached decision path at most 0.5 µs per request and under
# 5 % of a plain Enforce (rbac's TestCachedDecisionCost checks the same on
# every test run without -race).
#
# Absolute times depend on the machine and its load; compare the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local

rounds=${ROUNDS:-11}
benchtime=${BENCHTIME:-100ms}
raw=${FROM:-${RAW:-$(mktemp)}}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [ -n "${RAW:-}${FROM:-}" ] || rm -f "$raw"' EXIT

echo "# authguard rbac"
echo
if [ -n "${FROM:-}" ]; then
	echo "- the tables of $FROM"
	echo
else
	echo "- $(go version)"
	echo "- $(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo unknown)"
	echo "- load average before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
	echo "- in rbac: AUTHGUARD_BENCH_ROUNDS=$rounds go test -run '^\$' -bench '^BenchmarkCost\$' -benchmem -benchtime $benchtime"
	echo
fi

# Build everything first so compiling does not overlap the measurements.
(cd bench && go build -o "$tmp/benchtable" ./cmd/benchtable)
if [ -z "${FROM:-}" ]; then
	(cd rbac && go test -c -o "$tmp/rbac.test" .)
	start=$(date +%s)
	(cd rbac && AUTHGUARD_BENCH_ROUNDS=$rounds "$tmp/rbac.test" -test.run '^$' \
		-test.bench '^BenchmarkCost$' -test.benchmem -test.benchtime "$benchtime") >"$raw" 2>&1 || {
		cat "$raw" >&2
		echo "bench-rbac.sh: the benchmark failed" >&2
		exit 1
	}
	echo "- load average after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown); run took $(($(date +%s) - start))s"
	echo
fi

awk '
function median(list,    n, a, i, j, v) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) { v = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > v; j--) a[j + 1] = a[j]; a[j + 1] = v }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
# The per-round ratios x/y (op "/") or differences x-y (op "-") of group g.
function pairs(g, x, y, op,    k, out) {
	out = ""
	for (k = 0; k < 1000; k++) {
		if (!((g, x, k) in ns) || !((g, y, k) in ns)) continue
		if (op == "/" && ns[g, y, k] > 0) out = out " " ns[g, x, k] / ns[g, y, k]
		if (op == "-") out = out " " ns[g, x, k] - ns[g, y, k]
	}
	return out
}
function ratio(g, x, y,    l) { l = pairs(g, x, y, "/"); return l == "" ? "-" : sprintf("%.3fx", median(l)) }
function pct(g, x, y,    l) { l = pairs(g, x, y, "/"); return l == "" ? "-" : sprintf("%.2f %%", 100 * median(l)) }
function added(g, x, y,    l) { l = pairs(g, x, y, "-"); return l == "" ? "-" : sprintf("%+.2f µs", median(l) / 1000) }
function us(g, x) { return (g SUBSEP x) in all ? sprintf("%.3f µs", median(all[g, x]) / 1000) : "-" }
function metric(unit,    i) { for (i = 3; i < NF; i++) if ($(i + 1) == unit) return $i; return "" }
/^BenchmarkCost\// {
	name = $1; sub(/^BenchmarkCost\//, "", name); sub(/-[0-9]+$/, "", name)
	rep = 0; if (match(name, /#[0-9]+$/)) { rep = substr(name, RSTART + 1) + 0; name = substr(name, 1, RSTART - 1) }
	i = match(name, /\/[^\/]*$/); g = substr(name, 1, i - 1); row = substr(name, i + 1)
	if (!(g in seen)) { seen[g] = 1; groups[++ng] = g }
	ns[g, row, rep] = metric("ns/op"); all[g, row] = all[g, row] " " metric("ns/op"); allocs[g, row] = metric("allocs/op")
}
END {
	d = "Decision"
	printf "#### One permission decision (1,000 users, 50 policy lines; 16,000 requests in turn)\n\n"
	printf "| contender | µs/op | allocs/op | vs casbin Enforce (paired) |\n|---|---:|---:|---:|\n"
	split("casbin_Enforce casbin_SyncedEnforce rbac_uncached rbac_cached", rows, " ")
	for (r = 1; r <= 4; r++) printf "| %s | %s | %s | %s |\n", rows[r], us(d, rows[r]), allocs[d, rows[r]], ratio(d, rows[r], "casbin_Enforce")
	printf "\n"
	printf "#### The permission guard per request (wire RequirePermission, real *http.Request, valid access token)\n\n"
	printf "| token | contender | µs/op | allocs/op | vs static (paired) | added to require (paired) |\n|---|---|---:|---:|---:|---:|\n"
	split("require static rbac_cached rbac_uncached casbin_Enforce", grows, " ")
	for (k = 1; k <= ng; k++) {
		g = groups[k]
		if (g !~ /^Guard\//) continue
		alg = substr(g, 7)
		for (r = 1; r <= 5; r++) {
			x = grows[r]
			printf "| %s | %s | %s | %s | %s | %s |\n", alg, x, us(g, x), allocs[g, x], ratio(g, x, "static"),
				x == "require" || x == "casbin_Enforce" ? "" : added(g, x, "require")
		}
	}
	printf "\n(casbin_Enforce in the guard table is casbin'"'"'s own Enforce of the guarded request alone, no token.)\n\n"
	cached = (d SUBSEP "rbac_cached") in all ? median(all[d, "rbac_cached"]) : -1
	l = pairs(d, "rbac_cached", "casbin_Enforce", "/"); share = l == "" ? -1 : median(l)
	ok1 = cached >= 0 && cached <= 500; ok2 = share >= 0 && share < 0.05
	if (!ok1 || !ok2) print "" >fail
	printf "#### Targets\n\n| target | verdict |\n|---|---|\n"
	printf "| cached decision path <= 0.5 µs per request | %s (%s) |\n", ok1 ? "PASS" : "FAIL", us(d, "rbac_cached")
	printf "| cached decision path < 5 %% of a plain Enforce | %s (%s) |\n\n", ok2 ? "PASS" : "FAIL", pct(d, "rbac_cached", "casbin_Enforce")
}' fail="$tmp/failed" "$raw"

echo "#### Per benchmark (ns/op; \"vs base\" compares medians)"
echo
"$tmp/benchtable" -baseline static,casbin_Enforce -order Cost/Decision,Cost/Guard <"$raw"
if [ -n "${STRICT:-}" ] && [ -e "$tmp/failed" ]; then
	echo "bench-rbac.sh: a target was missed" >&2
	exit 1
fi
