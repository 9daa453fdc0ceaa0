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
# The per-round ratios x/y (op "/") or differences x-y (op "-") of group g
# in metric m ("ns/op" or "cpu-ns/op"), as a list.
function pairs(m, g, x, y, op,    k, out) {
	out = ""
	for (k = 0; k < 1000; k++) {
		if (!((m, g, x, k) in v) || !((m, g, y, k) in v)) continue
		if (op == "/" && v[m, g, y, k] > 0) out = out " " v[m, g, x, k] / v[m, g, y, k]
		if (op == "-") out = out " " v[m, g, x, k] - v[m, g, y, k]
	}
	return out
}
function ratio(m, g, x, y,    l) { l = pairs(m, g, x, y, "/"); return l == "" ? "-" : sprintf("%.3fx", median(l)) }
function pct(m, g, x, y,    l) { l = pairs(m, g, x, y, "/"); return l == "" ? "-" : sprintf("%.2f %%", 100 * median(l)) }
function added(m, g, x, y,    l) { l = pairs(m, g, x, y, "-"); return l == "" ? "-" : sprintf("%+.2f µs", median(l) / 1000) }
function us(m, g, x) { return (m, g, x) in all ? sprintf("%.3f µs", median(all[m, g, x]) / 1000) : "-" }
function metric(unit,    i) { for (i = 3; i < NF; i++) if ($(i + 1) == unit) return $i; return "" }
/^BenchmarkCost\// {
	name = $1; sub(/^BenchmarkCost\//, "", name); sub(/-[0-9]+$/, "", name)
	rep = 0; if (match(name, /#[0-9]+$/)) { rep = substr(name, RSTART + 1) + 0; name = substr(name, 1, RSTART - 1) }
	i = match(name, /\/[^\/]*$/); g = substr(name, 1, i - 1); row = substr(name, i + 1)
	if (!(g in seen)) { seen[g] = 1; groups[++ng] = g }
	for (mi = 1; mi <= 2; mi++) {
		m = mi == 1 ? "ns/op" : "cpu-ns/op"; x = metric(m)
		if (x == "") continue
		v[m, g, row, rep] = x; all[m, g, row] = all[m, g, row] " " x
	}
	allocs[g, row] = metric("allocs/op")
}
END {
	d = "Decision"; w = "ns/op"; c = "cpu-ns/op"
	printf "#### One permission decision (1,000 users, 50 policy lines; 16,000 requests in turn)\n\n"
	printf "| contender | wall µs/op | CPU µs/op | allocs/op | vs casbin Enforce (paired, wall) | (paired, CPU) |\n|---|---:|---:|---:|---:|---:|\n"
	split("casbin_Enforce casbin_SyncedEnforce rbac_uncached rbac_cached", rows, " ")
	for (r = 1; r <= 4; r++) {
		x = rows[r]
		printf "| %s | %s | %s | %s | %s | %s |\n", x, us(w, d, x), us(c, d, x), allocs[d, x], ratio(w, d, x, "casbin_Enforce"), ratio(c, d, x, "casbin_Enforce")
	}
	printf "\n"
	printf "#### The permission guard per request (wire RequirePermission, real *http.Request, valid access token)\n\n"
	printf "| token | contender | wall µs/op | CPU µs/op | allocs/op | vs static (paired, CPU) | CPU added to require (paired) |\n|---|---|---:|---:|---:|---:|---:|\n"
	split("require static rbac_cached rbac_uncached casbin_Enforce", grows, " ")
	for (k = 1; k <= ng; k++) {
		g = groups[k]
		if (g !~ /^Guard\//) continue
		alg = substr(g, 7)
		for (r = 1; r <= 5; r++) {
			x = grows[r]
			printf "| %s | %s | %s | %s | %s | %s | %s |\n", alg, x, us(w, g, x), us(c, g, x), allocs[g, x], ratio(c, g, x, "static"),
				x == "require" || x == "casbin_Enforce" ? "" : added(c, g, x, "require")
		}
	}
	printf "\n(casbin_Enforce in the guard table is casbin'"'"'s own Enforce of the guarded request alone, no token.)\n\n"
	printf "#### Targets (each on wall time and on CPU time)\n\n| target | verdict |\n|---|---|\n"
	for (mi = 1; mi <= 2; mi++) {
		m = mi == 1 ? w : c
		if (!((m, d, "rbac_cached") in all)) continue
		cached = median(all[m, d, "rbac_cached"])
		l = pairs(m, d, "rbac_cached", "casbin_Enforce", "/"); share = l == "" ? -1 : median(l)
		ok1 = cached <= 500; ok2 = share >= 0 && share < 0.05
		if (!ok1 || !ok2) print "" >fail
		printf "| cached decision path <= 0.5 µs per request (%s) | %s (%s) |\n", m, ok1 ? "PASS" : "FAIL", us(m, d, "rbac_cached")
		printf "| cached decision path < 5 %% of a plain Enforce (%s) | %s (%s) |\n", m, ok2 ? "PASS" : "FAIL", pct(m, d, "rbac_cached", "casbin_Enforce")
	}
	printf "\n"
}' fail="$tmp/failed" "$raw"

echo "#### Per benchmark (\"vs base\" compares medians)"
echo
"$tmp/benchtable" -baseline static,casbin_Enforce -order Cost/Decision,Cost/Guard <"$raw"
if [ -n "${STRICT:-}" ] && [ -e "$tmp/failed" ]; then
	echo "bench-rbac.sh: a target was missed" >&2
	exit 1
fi
