package main

import (
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMedianAndSpread(t *testing.T) {
	if m := median([]float64{5, 1, 3}); m != 3 {
		t.Errorf("median of 5 1 3 = %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median of 4 1 3 2 = %v", m)
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing is not NaN")
	}
	if s := spread([]float64{90, 100, 110}); math.Abs(s-0.10) > 1e-9 {
		t.Errorf("spread = %v, want 0.10", s)
	}
}

// TestPairedRatio: the ratio is taken round by round, so a drift of the
// machine that hits both contenders of a round alike cancels; the verdict
// is the median of those ratios, and the spread is theirs.
func TestPairedRatio(t *testing.T) {
	// The machine is half as fast in round 2 and twice as fast in round 3.
	ex := []float64{9000, 5100, 19000}
	peer := []float64{10000, 5000, 20000}
	r, s := pairedRatio(ex, peer) // ratios 0.90, 1.02, 0.95
	if math.Abs(r-0.95) > 1e-9 || math.Abs(s-(1.02-0.90)/2/0.95) > 1e-9 {
		t.Errorf("pairedRatio = %v ±%v, want 0.95 ±%v", r, s, (1.02-0.90)/2/0.95)
	}
	if m := median(ex) / median(peer); math.Abs(m-0.90) > 1e-9 {
		t.Errorf("the ratio of the medians is %v, want 0.90 (the round that differs)", m)
	}
	// Rounds missing on one side are left out; none at all is NaN.
	if r, _ := pairedRatio([]float64{90, 80, 70}, []float64{100, 100}); math.Abs(r-0.85) > 1e-9 {
		t.Errorf("pairedRatio over two rounds = %v, want 0.85", r)
	}
	if r, s := pairedRatio(nil, []float64{1}); !math.IsNaN(r) || !math.IsNaN(s) {
		t.Errorf("pairedRatio of nothing = %v ±%v, want NaN", r, s)
	}
}

// wrkOutput is what wrk 4.1.0 prints for a run with refused requests.
const wrkOutput = `Running 1s test @ http://127.0.0.1:8080/api/profile
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   754.87us  361.27us   5.37ms   80.90%
    Req/Sec    21.56k     1.24k   23.28k    70.00%
  21451 requests in 1.00s, 3.76MB read
  Non-2xx or 3xx responses: 12
Requests/sec:  21437.55
Transfer/sec:      3.76MB
`

func TestWrkOutputParsing(t *testing.T) {
	if m := reRPS.FindStringSubmatch(wrkOutput); m == nil || m[1] != "21437.55" {
		t.Errorf("Requests/sec: %q", m)
	}
	if m := reTotal.FindStringSubmatch(wrkOutput); m == nil || m[1] != "21451" {
		t.Errorf("requests: %q", m)
	}
	if m := reNon2xx.FindStringSubmatch(wrkOutput); m == nil || m[1] != "12" {
		t.Errorf("non-2xx: %q", m)
	}
	if reSocket.MatchString(wrkOutput) {
		t.Error("socket errors found where there are none")
	}
}

func TestTamperKeepsShapeChangesSignature(t *testing.T) {
	tok := "aaa.bbb.ABCDEFGHIJKLMNOP"
	bad := tamper(tok)
	if bad == tok || len(bad) != len(tok) || !strings.HasPrefix(bad, "aaa.bbb.") {
		t.Errorf("tamper(%q) = %q", tok, bad)
	}
}

func TestProcCPUCountsOwnWork(t *testing.T) {
	pid := os.Getpid()
	before, err := procCPU(pid)
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	// Spin until the process has used 20 ms of CPU: the counter must move.
	deadline := time.Now().Add(10 * time.Second)
	x := 0
	for after := before; after-before < 2; after, _ = procCPU(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("procCPU stayed at %v ticks for 10 s of spinning", before)
		}
		for i := range 1_000_000 {
			x += i
		}
	}
	_ = x
}

// TestExampleFirstAlternates: each pair swaps its order from one round to
// the next (so over an even number of rounds each side goes first as often
// as the other), and neighbouring pairs of one round start differently.
func TestExampleFirstAlternates(t *testing.T) {
	const rounds, pairs = 6, 6
	for p := range pairs {
		first := 0
		for r := range rounds {
			if exampleFirst(r, p) == exampleFirst(r+1, p) {
				t.Errorf("pair %d: same order in rounds %d and %d", p, r, r+1)
			}
			if exampleFirst(r, p) {
				first++
			}
		}
		if first != rounds/2 {
			t.Errorf("pair %d: the example went first in %d of %d rounds", p, first, rounds)
		}
	}
	for r := range rounds {
		for p := range pairs - 1 {
			if exampleFirst(r, p) == exampleFirst(r, p+1) {
				t.Errorf("round %d: pairs %d and %d start alike", r, p, p+1)
			}
		}
	}
}

// TestHealthzVerdicts: the fresh-process target is judged per router and
// algorithm on the median of the per-round ratios, on req/s and on
// requests per CPU second (the inverse of CPU µs per request), and a
// router without measurements fails.
func TestHealthzVerdicts(t *testing.T) {
	o := options{algs: []string{"EdDSA"}, routers: []string{"chi", "gin", "fiber"}}
	results := map[string]map[string][]float64{}
	// chi: req/s ratios 0.90, 1.02, 0.95 (median 0.95, the medians' ratio
	// is 0.90); CPU µs/req peer/example 1.00, 0.95, 1.10.
	for i, v := range [][4]float64{{9000, 10, 10000, 10}, {5100, 20, 5000, 19}, {19000, 5, 20000, 5.5}} {
		record(results, "example/chi/EdDSA", "health", v[0], v[1])
		record(results, "peer/chi/EdDSA", "health", v[2], v[3])
		// gin: the example is 10 % slower in every round and uses 10 % more CPU.
		record(results, "example/gin/EdDSA", "health", 9000+float64(i), 11)
		record(results, "peer/gin/EdDSA", "health", 10000+float64(i), 10)
	}
	vs := healthzVerdicts(o, results)
	if len(vs) != 6 {
		t.Fatalf("%d verdicts, want 6 (3 routers x 2 metrics): %+v", len(vs), vs)
	}
	want := []struct {
		name, text string
		ok         bool
	}{
		{"chi/EdDSA req/s", "95% ±6% over 3 rounds", true},
		{"chi/EdDSA req per CPU s", "100% ±8% over 3 rounds", true},
		{"gin/EdDSA req/s", "90% ±0% over 3 rounds", false},
		{"gin/EdDSA req per CPU s", "91% ±0% over 3 rounds", false},
		{"fiber/EdDSA req/s", "NaN% ±NaN% over 0 rounds", false},
		{"fiber/EdDSA req per CPU s", "NaN% ±NaN% over 0 rounds", false},
	}
	for i, w := range want {
		v := vs[i]
		if !strings.HasPrefix(v.name, w.name+": ") || !strings.Contains(v.name, "fresh processes") || v.text != w.text || v.ok != w.ok {
			t.Errorf("verdict %d = %q %v %q, want %q... %v %q", i, v.name, v.ok, v.text, w.name, w.ok, w.text)
		}
	}
}

func TestRecordAppendsPerRound(t *testing.T) {
	results := map[string]map[string][]float64{}
	record(results, "example/chi/HS256", "health", 100, 10)
	record(results, "example/chi/HS256", "health", 200, 5)
	rs := results["example/chi/HS256"]
	if !slices.Equal(rs["health"], []float64{100, 200}) || !slices.Equal(rs["health/cpu"], []float64{10, 5}) {
		t.Errorf("recorded %v", rs)
	}
}

// TestWrkArgs: without a token file the requests are plain GETs (no Lua
// script); with one, the script and the file follow; the duration is exact.
func TestWrkArgs(t *testing.T) {
	o := options{loadCPU: "1", wrk: "wrk", conns: 16}
	bare := strings.Join(wrkArgs(o, "http://h/healthz", "s.lua", "", 1500*time.Millisecond), " ")
	if bare != "-c 1 wrk -t1 -c16 -d1.5s http://h/healthz" {
		t.Errorf("bare: %q", bare)
	}
	tok := strings.Join(wrkArgs(o, "http://h/api/profile", "s.lua", "t.txt", 3*time.Second), " ")
	if tok != "-c 1 wrk -t1 -c16 -d3s -s s.lua http://h/api/profile -- t.txt" {
		t.Errorf("with tokens: %q", tok)
	}
}

func TestProcRSSOfOwnProcess(t *testing.T) {
	rss, err := procRSS(os.Getpid())
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if rss < 1 || rss > 1<<20 {
		t.Errorf("own RSS = %v MiB", rss)
	}
	if _, err := procRSS(-1); err == nil {
		t.Error("procRSS of no process did not fail")
	}
}
