package bench_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/pem"
	"errors"
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
	"github.com/authguard/authguard/core/store"
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
	// svc is the service as configured by default: its token cache on, so
	// a token it has seen costs a cache hit (the "authguard" rows, warm).
	svc *core.Service
	// cold is a second instance over the same store and keys with its
	// token cache off: every request verifies the token (the
	// "authguard-cold" rows: a token's first sight, a cache miss).
	cold *core.Service
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
	// sets holds the distinct live tokens of each count in tokenCounts.
	sets map[int]*tokenSet
}

// tokenSet is n distinct live access tokens, each of its own session
// (token 0 is the fixture's token), with their Authorization header values
// prepared once.
type tokenSet struct {
	toks []string
	auth [][]string // auth[i] is []string{"Bearer " + toks[i]}
}

// newFixture builds an authtest fixture whose service uses the real clock
// (the peers check exp and iat against time.Now), logs in the test user and
// makes a set of distinct live tokens for each of counts. The services keep
// Config.Now unset, as a server does: the default clock (time.Now), whose
// monotonic reading also serves the staleness check, not a clock of its own.
func newFixture(tb testing.TB, alg string, counts []int) *fixture {
	tb.Helper()
	f := authtest.New(tb, authtest.Options{Alg: alg, Config: func(c *core.Config) { c.Now = nil }})
	tr, err := f.Service.Login(context.Background(), core.LoginInput{
		Email: authtest.UserEmail, Password: authtest.Password,
		Client: core.ClientInfo{IP: "192.0.2.10", UserAgent: "bench"},
	})
	if err != nil {
		tb.Fatalf("login: %v", err)
	}
	coldCfg := f.Service.Config()
	coldCfg.TokenCacheMaxEntries = -1
	coldCfg.Now = nil
	cold, err := core.New(coldCfg)
	if err != nil {
		tb.Fatalf("cold service: %v", err)
	}
	tb.Cleanup(func() { _ = cold.Close() })
	fx := &fixture{alg: alg, svc: f.Service, cold: cold, token: tr.AccessToken, sets: map[int]*tokenSet{}}
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
	for _, n := range counts {
		fx.sets[n] = newTokenSet(tb, f, fx, n)
	}
	// The fixture's Argon2id hashing leaves tens of MiB of garbage; collect
	// it now rather than inside the first measurement.
	runtime.GC()
	return fx
}

// tokensEnv names the environment variable that sets the counts of
// distinct live tokens every group is measured with (default 1,1000,100000).
const tokensEnv = "AUTHGUARD_BENCH_TOKENS"

// tokenCounts returns the counts of distinct live tokens to measure with.
func tokenCounts(tb testing.TB) []int {
	v := os.Getenv(tokensEnv)
	if v == "" {
		return []int{1, 1000, 100000}
	}
	var ns []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1_000_000 {
			tb.Fatalf("%s=%q: want counts from 1 to 1000000, comma-separated", tokensEnv, v)
		}
		ns = append(ns, n)
	}
	return ns
}

// newTokenSet makes n distinct live tokens: the fixture's token and n-1
// tokens of as many other sessions of the test user, with the claims a login
// issues. Each token has been authenticated once by both services before
// any measurement, so their session caches know every session, and the
// default service's token cache holds every token.
func newTokenSet(tb testing.TB, f *authtest.Fixture, fx *fixture, n int) *tokenSet {
	tb.Helper()
	ctx := context.Background()
	now := time.Now()
	ttl := f.Service.Config().AccessTTL
	set := &tokenSet{toks: make([]string, 0, n), auth: make([][]string, 0, n)}
	set.toks = append(set.toks, fx.token)
	for i := 1; i < n; i++ {
		// Sets share sessions (session i of every set is the same), so
		// the sessions of the largest set are all there are: the
		// services' session caches (MaxLiveSessions, 100,000) hold them.
		sid := "bench-" + strconv.Itoa(i)
		err := f.Store.CreateSession(ctx, store.Session{
			ID: sid, Subject: f.UserID, AuthTime: now, CreatedAt: now, LastUsedAt: now,
			IdleExpiresAt: now.Add(time.Hour), AbsoluteExpiresAt: now.Add(time.Hour),
			TokenDigest: []byte("bench-" + sid), Version: 1,
		})
		if err != nil && !errors.Is(err, store.ErrConflict) {
			tb.Fatalf("session %d: %v", i, err)
		}
		tok, err := f.Service.Keys().Sign(&token.AccessClaims{
			Issuer: authtest.Issuer, Subject: f.UserID, Audience: []string{authtest.Audience},
			ExpiresAt: now.Add(ttl).Unix(), IssuedAt: now.Unix(), AuthTime: now.Unix(),
			ID: "bench-jti-" + strconv.Itoa(n) + "-" + sid, SessionID: sid, Roles: []string{"user"},
		})
		if err != nil {
			tb.Fatalf("token %d: %v", i, err)
		}
		set.toks = append(set.toks, tok)
	}
	for _, tok := range set.toks {
		set.auth = append(set.auth, []string{"Bearer " + tok})
		for _, s := range []*core.Service{fx.svc, fx.cold} {
			if _, err := s.Authenticate(ctx, tok); err != nil {
				tb.Fatalf("token of the set refused: %v", err)
			}
		}
	}
	return set
}

// warm presents every token of set to the default service once more, so
// that its token cache holds them when a group starts, whatever earlier
// groups did to it.
func (f *fixture) warm(tb testing.TB, set *tokenSet) {
	tb.Helper()
	for _, tok := range set.toks {
		if _, err := f.svc.Authenticate(context.Background(), tok); err != nil {
			tb.Fatalf("token of the set refused: %v", err)
		}
	}
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
	// setAuth sets the Authorization header to auth[0] ("Bearer " and a
	// token), allocating nothing: what each measured request of a group of
	// several tokens does.
	setAuth(auth []string)
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

func (t *httpTarget) setAuth(auth []string) { t.req.Header["Authorization"] = auth }

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

func (t *fastTarget) setAuth(auth []string) {
	t.ctx.Request.Header.Set("Authorization", auth[0])
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

// coldCase is the row of authguard's guard on a cache miss: rc (the
// authguard row) built over the fixture's service whose token cache is off.
func coldCase(rc routerCase) routerCase {
	return routerCase{name: "authguard-cold", build: func(tb testing.TB, f *fixture) target {
		c := *f
		c.svc = f.cold
		return rc.build(tb, &c)
	}}
}

// runRouter benchmarks every case of one router for every algorithm and
// every count of distinct tokens. With one token, every request presents
// it; with n, request i presents token i mod n.
func runRouter(b *testing.B, cases []routerCase) {
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			f := newFixture(b, alg, tokenCounts(b))
			for _, n := range tokenCounts(b) {
				set := f.sets[n]
				b.Run("tokens-"+strconv.Itoa(n), func(b *testing.B) {
					f.warm(b, set)
					for range rounds(b) {
						for _, rc := range cases {
							b.Run(rc.name, func(b *testing.B) {
								t := rc.build(b, f)
								if rc.open {
									checkOpen(b, f, t)
								} else {
									checkTarget(b, f, t)
								}
								if n == 1 {
									measure(b, func() bool { return t.serve() == http.StatusOK })
									return
								}
								i := 0
								measure(b, func() bool {
									t.setAuth(set.auth[i])
									if i++; i == n {
										i = 0
									}
									return t.serve() == http.StatusOK
								})
							})
						}
					}
				})
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

// testSet is the count of distinct tokens the tests check every contender
// with, besides the fixture's token.
const testSet = 3

// testRouter runs the correctness checks of runRouter as a test, and checks
// that every contender accepts each token of a set of distinct ones through
// setAuth (twice: the second time from authguard's token cache).
func testRouter(t *testing.T, cases []routerCase) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, alg, []int{testSet})
			for _, rc := range cases {
				t.Run(rc.name, func(t *testing.T) {
					tg := rc.build(t, f)
					if rc.open {
						checkOpen(t, f, tg)
						return
					}
					checkTarget(t, f, tg)
					for range 2 {
						for i, auth := range f.sets[testSet].auth {
							tg.setAuth(auth)
							if got := tg.serve(); got != http.StatusOK || !bytes.Equal(tg.body(), okBody) {
								t.Fatalf("token %d of the set: status %d, body %q", i, got, tg.body())
							}
						}
					}
					tg.setAuth([]string{"Bearer " + f.badSig})
					if got := tg.serve(); got != http.StatusUnauthorized {
						t.Fatalf("tampered token through setAuth: status %d", got)
					}
				})
			}
		})
	}
}
