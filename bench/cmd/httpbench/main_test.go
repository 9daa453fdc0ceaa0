package main

import (
	"math"
	"os"
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
