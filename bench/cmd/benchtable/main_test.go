package main

import (
	"math"
	"strings"
	"testing"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/authguard/authguard/bench
cpu: AMD EPYC
BenchmarkGuard/EdDSA/authguard-2    	    3415	    100 ns/op	     864 B/op	       4 allocs/op
BenchmarkGuard/EdDSA/golang-jwt-2   	    1177	    120 ns/op	    3624 B/op	      59 allocs/op
BenchmarkGuard/EdDSA/authguard-2    	    3415	    300 ns/op	     864 B/op	       4 allocs/op
BenchmarkGuard/EdDSA/golang-jwt-2   	    1177	    400 ns/op	    3624 B/op	      59 allocs/op
BenchmarkGuard/EdDSA/authguard-2    	    3415	    110 ns/op	     864 B/op	       4 allocs/op
BenchmarkGuard/EdDSA/golang-jwt-2   	    1177	    100 ns/op	    3624 B/op	      59 allocs/op
BenchmarkGin/HS256/none-2           	  224455	      2000 ns/op	      1000 cpu-ns/op	     512 B/op	       6 allocs/op
BenchmarkGin/HS256/authguard-2      	   45051	      6000 ns/op	      3000 cpu-ns/op	    1632 B/op	      13 allocs/op
BenchmarkGin/HS256/gin-jwt-2        	   10000	     26000 ns/op	     11000 cpu-ns/op	    7160 B/op	     106 allocs/op
BenchmarkSingle                     	   10000	     5 ns/op
PASS
ok  	github.com/authguard/authguard/bench	9.419s
`

func TestSplitName(t *testing.T) {
	for _, c := range []struct{ in, g, r string }{
		{"BenchmarkGuard/EdDSA/authguard-2", "Guard/EdDSA", "authguard"},
		{"BenchmarkFiber/HS256/contrib-jwt-16", "Fiber/HS256", "contrib-jwt"},
		{"BenchmarkFiber/HS256/contrib-jwt", "Fiber/HS256", "contrib-jwt"},
		{"BenchmarkSingle-4", "Single", "Single"},
		{"BenchmarkGuard/HS256/golang-jwt#07-2", "Guard/HS256", "golang-jwt"},
		{"BenchmarkGuard/HS256/golang-jwt#07", "Guard/HS256", "golang-jwt"},
	} {
		if g, r := splitName(c.in); g != c.g || r != c.r {
			t.Errorf("splitName(%q) = %q, %q; want %q, %q", c.in, g, r, c.g, c.r)
		}
	}
}

func TestMedianAndTables(t *testing.T) {
	rs, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.groups) != 3 {
		t.Fatalf("%d groups, want 3", len(rs.groups))
	}
	ag := rs.group("Guard/EdDSA").row("authguard")
	if m, _ := ag.median("ns/op"); m != 110 {
		t.Errorf("median %v, want 110", m)
	}
	gj := rs.group("Guard/EdDSA").row("golang-jwt")
	if m, _ := gj.median("ns/op"); m != 120 {
		t.Errorf("median %v, want 120", m)
	}
	if r := ratio(ag, gj, nil, "ns/op"); math.Abs(r-110.0/120) > 1e-9 {
		t.Errorf("ratio %v, want %v", r, 110.0/120)
	}
	targets := []target{}
	for _, s := range []string{
		"Guard/EdDSA: authguard ns/op <= 1.15 x golang-jwt",
		"Gin/HS256: authguard ns/op <= 1 x gin-jwt",
		"Gin/HS256: authguard allocs/op <= 1 x gin-jwt",
		"Gin/HS256: authguard cpu-ns/op <= 0.2 x gin-jwt",            // 3000 > 2200: fails
		"Gin/HS256: gin-jwt ns/op <= 1 x authguard",                  // fails
		"Chi/HS256: authguard ns/op <= 1 x jwtauth",                  // missing
		"Gin/HS256: authguard cpu-ns/op over none <= 0.2 x gin-jwt",  // 2000 vs 10000: passes
		"Gin/HS256: authguard cpu-ns/op over none <= 0.19 x gin-jwt", // fails
		"Gin/HS256: authguard cpu-ns/op over none <= 2000",           // passes
		"Guard/EdDSA: authguard ns/op <= 100",                        // 110: fails
		"Gin/HS256: authguard cpu-ns/op over nobody <= 1000",         // missing
	} {
		tg, err := parseTarget(s)
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, tg)
	}
	var out strings.Builder
	failed, err := run(strings.NewReader(sample), &out, []string{"golang-jwt", "gin-jwt"}, "none", targets, []string{"Single", "Gin"})
	if err != nil {
		t.Fatal(err)
	}
	if failed != 6 {
		t.Errorf("failed = %d, want 6\n%s", failed, out.String())
	}
	got := out.String()
	single, gin, guard := strings.Index(got, "#### Single"), strings.Index(got, "#### Gin/HS256"), strings.Index(got, "#### Guard/EdDSA")
	if !(single < gin && gin < guard) {
		t.Errorf("groups not in the -order given: Single at %d, Gin at %d, Guard at %d", single, gin, guard)
	}
	for _, want := range []string{
		"#### Guard/EdDSA (baseline: golang-jwt, median of 3 runs)",
		"| contender | ns/op | vs base | B/op | vs base | allocs/op | vs base | spread ns |",
		"| authguard | 110 | 0.92x | 864 | 0.24x | 4 | 0.07x | ±91% |",
		"| **golang-jwt** (baseline) | 120 | 1.00x | 3624 | 1.00x | 59 | 1.00x | ±125% |",
		"#### Gin/HS256 (baseline: gin-jwt, median of 1 runs)",
		"| contender | ns/op | vs base | cpu-ns/op | vs base | cpu-ns/op over none | vs base | B/op | vs base | allocs/op | vs base | spread ns | spread cpu |",
		"| authguard | 6000 | 0.23x | 3000 | 0.27x | 2000 | 0.20x | 1632 | 0.23x | 13 | 0.12x | - | - |",
		"| none | 2000 | 0.08x | 1000 | 0.09x | - | - | 512 |",
		"#### Single (baseline: Single, median of 1 runs)",
		"FAIL: 0.27x (median authguard 3000, gin-jwt 11000)",
		"PASS: 0.92x (median authguard 110, golang-jwt 120)",
		"FAIL: 4.33x (median gin-jwt 26000, authguard 6000)",
		"MISSING (no group Chi/HS256)",
		"PASS: 0.20x (median over none authguard 2000, gin-jwt 10000)",
		"FAIL: 0.20x (median over none authguard 2000, gin-jwt 10000)",
		"PASS: authguard 2000 over none (limit 2000)",
		"FAIL: authguard 110 (limit 100)",
		"MISSING (no row nobody)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

func TestParseTargetRejects(t *testing.T) {
	for _, s := range []string{"", "Guard: authguard <= 1 x golang-jwt", "Guard: a ns/op < 1 x b", "Guard: a ns/op over <= 1", "Guard: a ns/op <= x b"} {
		if _, err := parseTarget(s); err == nil {
			t.Errorf("parseTarget(%q) accepted", s)
		}
	}
}

func TestNoResults(t *testing.T) {
	var out strings.Builder
	if _, err := run(strings.NewReader("PASS\n"), &out, nil, "", nil, nil); err == nil {
		t.Error("empty input accepted")
	}
}
