package demotest

import (
	"bufio"
	"bytes"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authguard/authguard/examples/internal/demo"
)

var updateAnswers = flag.Bool("update-answers", false, "rewrite the testdata files that pin the examples' raw answers")

// pinnedRequests are the requests whose raw answers an example pins: the
// base path (/healthz and an unknown path) without an Origin, from the
// allowed origin and from another one, preflights from both, and a
// non-CORS OPTIONS.
var pinnedRequests = []struct{ name, method, path, headers string }{
	{"healthz", "GET", demo.PathHealth, ""},
	{"healthz from the allowed origin", "GET", demo.PathHealth, "Origin: " + AllowedOrigin + "\r\n"},
	{"healthz from another origin", "GET", demo.PathHealth, "Origin: " + OtherOrigin + "\r\n"},
	{"healthz preflight from the allowed origin", "OPTIONS", demo.PathHealth,
		"Origin: " + AllowedOrigin + "\r\nAccess-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: authorization\r\n"},
	{"healthz preflight from another origin", "OPTIONS", demo.PathHealth,
		"Origin: " + OtherOrigin + "\r\nAccess-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: authorization\r\n"},
	{"healthz OPTIONS without Origin", "OPTIONS", demo.PathHealth, ""},
	{"unknown path", "GET", "/nowhere", ""},
	{"unknown path from the allowed origin", "GET", "/nowhere", "Origin: " + AllowedOrigin + "\r\n"},
}

// reDate matches the Date header line, the one line of an answer that
// changes from run to run.
var reDate = regexp.MustCompile(`(?m)^Date: [^\r\n]*\r\n`)

// PinAnswers sends each pinned request to the example at base (an
// http://host:port URL) over a fresh TCP connection and compares the raw
// answer bytes, status line, header lines in order and body, with the Date
// line left out, to the file golden. With -update-answers it writes the
// file instead.
func PinAnswers(t *testing.T, base, golden string) {
	t.Helper()
	addr := strings.TrimPrefix(base, "http://")
	var all bytes.Buffer
	for _, r := range pinnedRequests {
		raw := r.method + " " + r.path + " HTTP/1.1\r\nHost: " + addr + "\r\nUser-Agent: demotest\r\nConnection: close\r\n" + r.headers + "\r\n"
		answer := rawAnswer(t, addr, raw)
		answer = reDate.ReplaceAll(answer, nil)
		all.WriteString("=== " + r.name + "\n" + strings.ReplaceAll(raw, "Host: "+addr, "Host: HOST") + "---\n")
		all.Write(answer)
		all.WriteString("\n")
	}
	if *updateAnswers {
		if err := os.WriteFile(golden, all.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run the test with -update-answers to write it)", err)
	}
	if !bytes.Equal(all.Bytes(), want) {
		t.Fatalf("the answers differ from %s:\n--- got\n%s\n--- want\n%s", golden, all.Bytes(), want)
	}
}

// rawAnswer writes raw to addr and reads the whole answer (the server
// closes the connection after it).
func rawAnswer(t *testing.T, addr, raw string) []byte {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(bufio.NewReader(conn))
	if err != nil && len(b) == 0 {
		t.Fatal(err)
	}
	return b
}

// Discard is an http.ResponseWriter for in-process benchmarks: it keeps
// the status and counts the body bytes, and Reset empties its header map
// without giving the map back, so that serving a request through it
// allocates only what the handler allocates.
type Discard struct {
	header http.Header
	// Status is the status written (0 if none was).
	Status int
	// N is the number of body bytes written.
	N int
}

// Header returns the header map.
func (d *Discard) Header() http.Header {
	if d.header == nil {
		d.header = http.Header{}
	}
	return d.header
}

// WriteHeader records the first status.
func (d *Discard) WriteHeader(code int) {
	if d.Status == 0 {
		d.Status = code
	}
}

// Write counts p.
func (d *Discard) Write(p []byte) (int, error) {
	if d.Status == 0 {
		d.Status = http.StatusOK
	}
	d.N += len(p)
	return len(p), nil
}

// Reset makes d ready for the next request.
func (d *Discard) Reset() {
	clear(d.header)
	d.Status, d.N = 0, 0
}

// BenchServe serves req through h b.N times with a Discard writer and
// fails unless every answer is 200 with a body of the first answer's size.
func BenchServe(b *testing.B, h http.Handler, req *http.Request) {
	var w Discard
	h.ServeHTTP(&w, req)
	if w.Status != http.StatusOK || w.N == 0 {
		b.Fatalf("%s %s: status %d, %d body bytes", req.Method, req.URL.Path, w.Status, w.N)
	}
	n := w.N
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		w.Reset()
		h.ServeHTTP(&w, req)
	}
	b.StopTimer()
	if w.Status != http.StatusOK || w.N != n {
		b.Fatalf("%s %s: status %d, %d body bytes", req.Method, req.URL.Path, w.Status, w.N)
	}
}

// Allocs is the number of allocations of one request served through h with
// a Discard writer (testing.AllocsPerRun over 200 requests).
func Allocs(h http.Handler, req *http.Request) float64 {
	var w Discard
	return testing.AllocsPerRun(200, func() {
		w.Reset()
		h.ServeHTTP(&w, req)
	})
}

// CheckHealthzAllocs fails t when GET /healthz allocates more through
// example (an example's whole router) than through bare (the peer's bare
// router of the HTTP-level benchmark).
func CheckHealthzAllocs(t *testing.T, example, bare http.Handler) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, demo.PathHealth, nil)
	if ex, br := Allocs(example, req), Allocs(bare, req); ex > br {
		t.Fatalf("GET /healthz allocates %v times through the example's router, %v through the bare one", ex, br)
	}
}

// BenchHealthz serves GET /healthz through an example's whole router
// (built by example, for the sub-benchmark "example") and through the bare
// router ("bare").
func BenchHealthz(b *testing.B, example func(testing.TB) http.Handler, bare http.Handler) {
	req := httptest.NewRequest(http.MethodGet, demo.PathHealth, nil)
	b.Run("example", func(b *testing.B) { BenchServe(b, example(b), req) })
	b.Run("bare", func(b *testing.B) { BenchServe(b, bare, req) })
}
