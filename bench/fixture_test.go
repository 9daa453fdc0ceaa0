package bench_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/token"
	"github.com/valyala/fasthttp"
)

// algs are the algorithms every group is measured with: the default
// asymmetric one and the symmetric one.
var algs = []string{token.AlgEdDSA, token.AlgHS256}

// route is the one guarded route of every router benchmark.
const route = "/api/profile"

var okBody = []byte("ok")

// fixture is one authguard service with a real session and its access
// token, plus the key material the other contenders verify the same token
// with.
type fixture struct {
	alg string
	svc *core.Service
	// token is a real access token: authtest.UserEmail logged in through
	// Service.Login (iss, sub, aud, exp, iat, jti, sid, roles, auth_time;
	// header alg, kid, typ at+jwt). Every contender gets this same string.
	token string
	// badSig is token with one character of its signature changed.
	badSig string
	// forged is token with "roles":["user"] rewritten to ["admin"] in the
	// payload and the original signature kept.
	forged string
	// verifyKey is what golang-jwt, jwx and the peers verify with: the
	// ed25519.PublicKey or the HMAC secret.
	verifyKey any
}

// newFixture builds an authtest fixture whose service uses the real clock
// (the peers check exp and iat against time.Now) and logs in the test user.
func newFixture(tb testing.TB, alg string) *fixture {
	tb.Helper()
	f := authtest.New(tb, authtest.Options{Alg: alg, Config: func(c *core.Config) { c.Now = time.Now }})
	tr, err := f.Service.Login(context.Background(), core.LoginInput{
		Email: authtest.UserEmail, Password: authtest.Password,
		Client: core.ClientInfo{IP: "192.0.2.10", UserAgent: "bench"},
	})
	if err != nil {
		tb.Fatalf("login: %v", err)
	}
	fx := &fixture{alg: alg, svc: f.Service, token: tr.AccessToken}
	k := f.Service.Keys().SigningKey()
	switch alg {
	case token.AlgEdDSA:
		pub, ok := k.PublicKey().(ed25519.PublicKey)
		if !ok {
			tb.Fatalf("EdDSA key has public key %T", k.PublicKey())
		}
		fx.verifyKey = pub
	case token.AlgHS256:
		raw, err := k.MarshalPEM()
		if err != nil {
			tb.Fatalf("HMAC key: %v", err)
		}
		block, _ := pem.Decode(raw)
		if block == nil || block.Type != token.PEMTypeHMACKey {
			tb.Fatalf("HMAC key: unexpected PEM")
		}
		fx.verifyKey = block.Bytes
	default:
		tb.Fatalf("unsupported alg %s", alg)
	}
	fx.badSig = tamperSignature(tb, fx.token)
	fx.forged = forgePayload(tb, fx.token)
	// The fixture's Argon2id hashing leaves tens of MiB of garbage; collect
	// it now rather than inside the first measurement.
	runtime.GC()
	return fx
}

// tamperSignature changes one character in the middle of the signature, so
// the signature still decodes strictly but no longer matches.
func tamperSignature(tb testing.TB, tok string) string {
	i := strings.LastIndexByte(tok, '.') + 10
	if i >= len(tok) {
		tb.Fatalf("token too short: %q", tok)
	}
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

// forgePayload grants the token the admin role, keeping the signature.
func forgePayload(tb testing.TB, tok string) string {
	parts := strings.Split(tok, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatalf("payload: %v", err)
	}
	forged := bytes.Replace(payload, []byte(`"roles":["user"]`), []byte(`"roles":["admin"]`), 1)
	if bytes.Equal(forged, payload) {
		tb.Fatalf("payload has no user role: %s", payload)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString(forged)
	return strings.Join(parts, ".")
}

// badTokens are the tokens every contender must refuse.
func (f *fixture) badTokens() map[string]string {
	return map[string]string{"tampered signature": f.badSig, "forged payload": f.forged}
}

// target is one router with one guarded route, serving a request prepared
// once and reused by every iteration.
type target interface {
	// setToken sets the Authorization: Bearer header of the prepared request.
	setToken(tok string)
	// serve serves the prepared request and returns the status.
	serve() int
	// body returns the body of the last response.
	body() []byte
}

// httpTarget serves a reused *http.Request through a net/http router (chi,
// gin) into a reused httptest.ResponseRecorder, reset before each request.
type httpTarget struct {
	h   http.Handler
	req *http.Request
	rec *httptest.ResponseRecorder
	hdr http.Header
	buf *bytes.Buffer
}

func newHTTPTarget(h http.Handler) *httpTarget {
	req := httptest.NewRequest(http.MethodGet, route, nil)
	req.RemoteAddr = "192.0.2.10:41234"
	rec := httptest.NewRecorder()
	return &httpTarget{h: h, req: req, rec: rec, hdr: rec.HeaderMap, buf: rec.Body}
}

func (t *httpTarget) setToken(tok string) { t.req.Header.Set("Authorization", "Bearer "+tok) }

func (t *httpTarget) serve() int {
	// A recorder ignores a second WriteHeader; resetting the whole struct
	// (keeping its map and buffer) makes it record the next response.
	clear(t.hdr)
	t.buf.Reset()
	*t.rec = httptest.ResponseRecorder{HeaderMap: t.hdr, Body: t.buf, Code: http.StatusOK}
	t.h.ServeHTTP(t.rec, t.req)
	return t.rec.Code
}

func (t *httpTarget) body() []byte { return t.buf.Bytes() }

// fastTarget serves a reused fasthttp.RequestCtx through fiber's
// app.Handler(), the in-process path of fasthttp's server, resetting what
// the server resets between two requests: the response and the user values
// (fiber's Locals and user context live there, so a principal left by the
// previous request would otherwise let the next one skip its guard).
type fastTarget struct {
	h   fasthttp.RequestHandler
	ctx *fasthttp.RequestCtx
}

func newFastTarget(h fasthttp.RequestHandler) *fastTarget {
	var req fasthttp.Request
	req.Header.SetMethod(fasthttp.MethodGet)
	req.SetRequestURI(route)
	req.Header.SetHost("example.test")
	ctx := new(fasthttp.RequestCtx)
	ctx.Init(&req, &fakeAddr{}, nil)
	return &fastTarget{h: h, ctx: ctx}
}

func (t *fastTarget) setToken(tok string) {
	t.ctx.Request.Header.Set("Authorization", "Bearer "+tok)
}

func (t *fastTarget) serve() int {
	t.ctx.Response.Reset()
	t.ctx.ResetUserValues()
	t.h(t.ctx)
	return t.ctx.Response.StatusCode()
}

func (t *fastTarget) body() []byte { return t.ctx.Response.Body() }

type fakeAddr struct{}

func (*fakeAddr) Network() string { return "tcp" }
func (*fakeAddr) String() string  { return "192.0.2.10:41234" }

// checkTarget asserts that t answers 200 "ok" to the valid token and 401 to
// every bad one, then 200 again (so nothing left over from an earlier
// request on the reused objects lets a request through), and leaves the
// valid token in place.
func checkTarget(tb testing.TB, f *fixture, t target) {
	tb.Helper()
	want := func(tok, what string, status int) {
		tb.Helper()
		t.setToken(tok)
		if got := t.serve(); got != status {
			tb.Fatalf("%s: status %d, want %d (body %q)", what, got, status, t.body())
		}
		if status == http.StatusOK && !bytes.Equal(t.body(), okBody) {
			tb.Fatalf("%s: body %q, want %q", what, t.body(), okBody)
		}
	}
	want(f.token, "valid token", http.StatusOK)
	for what, bad := range f.badTokens() {
		want(bad, what, http.StatusUnauthorized)
	}
	want(f.token, "valid token again", http.StatusOK)
}

// checkOpen asserts that the unguarded baseline answers 200 "ok".
func checkOpen(tb testing.TB, f *fixture, t target) {
	tb.Helper()
	t.setToken(f.token)
	if got := t.serve(); got != http.StatusOK || !bytes.Equal(t.body(), okBody) {
		tb.Fatalf("no auth: status %d body %q", got, t.body())
	}
}

// routerCase is one row of a router group.
type routerCase struct {
	name string
	// open marks the unguarded baseline.
	open  bool
	build func(tb testing.TB, f *fixture) target
}

// runRouter benchmarks every case of one router for every algorithm.
func runRouter(b *testing.B, cases []routerCase) {
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			f := newFixture(b, alg)
			for range rounds(b) {
				for _, rc := range cases {
					b.Run(rc.name, func(b *testing.B) {
						t := rc.build(b, f)
						if rc.open {
							checkOpen(b, f, t)
						} else {
							checkTarget(b, f, t)
						}
						measure(b, func() bool { return t.serve() == http.StatusOK })
					})
				}
			}
		})
	}
}

// roundsEnv names the environment variable that sets how many rounds of a
// group run (default 1).
const roundsEnv = "AUTHGUARD_BENCH_ROUNDS"

// rounds returns how often a group runs all of its contenders in turn.
// go test -count repeats each sub-benchmark back to back, so on a machine
// whose load changes from second to second two contenders measured with
// -count alone see different conditions; rounds interleave them instead:
// every round runs each contender once, and the testing package names the
// repeats "authguard#01", "authguard#02" and so on (cmd/benchtable folds
// them together).
func rounds(b *testing.B) int {
	v := os.Getenv(roundsEnv)
	if v == "" {
		return 1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		b.Fatalf("%s=%q: want a number of rounds from 1 to 1000", roundsEnv, v)
	}
	return n
}

// schedEnv names the environment variable that, set to 1, makes every
// benchmark also report how its goroutine's OS thread spent the wall time
// (Linux only): run-ns/op on a CPU and wait-ns/op runnable but waiting for
// one. The goroutine is then locked to its thread for the measurement.
const schedEnv = "AUTHGUARD_BENCH_SCHEDSTAT"

// measure is the measured loop shared by every benchmark: op serves one
// request (or verifies one token) and reports whether it was accepted. A
// short untimed warm-up comes first; the loop reports allocations and the
// process CPU time per iteration (cpu-ns/op) besides the wall time.
func measure(b *testing.B, op func() bool) {
	b.Helper()
	for i, start := 0, time.Now(); i < 1000 && time.Since(start) < 10*time.Millisecond; i++ {
		if !op() {
			b.Fatal("refused during warm-up")
		}
	}
	sched := os.Getenv(schedEnv) == "1"
	var run0, wait0 time.Duration
	if sched {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		run0, wait0, sched = threadSched()
	}
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		if !op() {
			b.Fatal("refused")
		}
	}
	cpu.report(b)
	if sched && b.N > 0 {
		if run1, wait1, ok := threadSched(); ok {
			b.ReportMetric(float64(run1-run0)/float64(b.N), "run-ns/op")
			b.ReportMetric(float64(wait1-wait0)/float64(b.N), "wait-ns/op")
		}
	}
}

// cpuClock measures the process CPU time of a benchmark loop. On a shared
// machine the wall time of an iteration includes the time the process waits
// for a core; CPU time does not, so cpu-ns/op is the steadier figure when
// the machine is loaded. It counts every thread, so the garbage collection
// a contender causes is charged to it.
type cpuClock struct {
	start time.Duration
	ok    bool
}

func startCPU() cpuClock {
	t, ok := processCPU()
	return cpuClock{start: t, ok: ok}
}

// report adds the cpu-ns/op metric; call it right after the b.Loop loop,
// when b.N holds the number of iterations run.
func (c cpuClock) report(b *testing.B) {
	end, ok := processCPU()
	if !c.ok || !ok || b.N == 0 {
		return
	}
	b.ReportMetric(float64(end-c.start)/float64(b.N), "cpu-ns/op")
}

// testRouter runs the correctness checks of runRouter as a test.
func testRouter(t *testing.T, cases []routerCase) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, alg)
			for _, rc := range cases {
				t.Run(rc.name, func(t *testing.T) {
					tg := rc.build(t, f)
					if rc.open {
						checkOpen(t, f, tg)
						return
					}
					checkTarget(t, f, tg)
				})
			}
		})
	}
}
