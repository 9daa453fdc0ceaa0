// Command httpbench measures the example servers from outside, side by side
// with a peer server per router (cmd/peerserver: the same router bare, plus
// its established JWT middleware on the same key), and prints the markdown
// tables and the target verdicts of BENCHMARKS.md's "HTTP level" section.
// Run it through scripts/bench-http.sh, which builds the binaries it starts.
//
//	httpbench -bin DIR [-only healthz] [-rounds 5] [-duration 3s] [-tokens 1000]
//	          [-healthz-rounds 5] [-healthz-duration 3s] [-healthz-warmup 5000]
//	          [-conns 16] [-server-cpu 0] [-load-cpu 1] [-algs EdDSA,HS256]
//	          [-routers chi,gin,fiber] [-strict]
//
// DIR holds the binaries chi, gin, fiber (the example servers) and
// peerserver. For each algorithm it writes a fresh signing key; every
// example runs as a user runs it (memory store, that key through
// AUTHGUARD_SIGNING_KEY), every peer on the same key. Server processes are
// pinned to -server-cpu (all threads) once they answer, and wrk, pinned to
// -load-cpu, drives them: -conns keep-alive connections on one wrk thread.
// A measurement with a non-2xx answer or a socket error fails the run.
// There are two phases; -only healthz runs the first alone.
//
// Fresh processes, /healthz. This phase judges the target "the examples'
// base middleware costs at most 5 %" on equal processes: no process has
// logged anyone in or served anything else. For each of -healthz-rounds
// rounds, and for every router and algorithm, it starts a new example and a
// new peer, waits until both answer /healthz and pins both; then, one after
// the other in an order that alternates between rounds (and between the
// pairs of one round), it sends each -healthz-warmup /healthz requests over
// -conns connections of its own, and measures its /healthz for
// -healthz-duration (plain GETs, no Authorization header), before it stops
// both. It prints, per router and algorithm, the medians of req/s, of the
// server's CPU µs per request and of its resident set, and the verdict: the
// median over the rounds of the per-round ratio example / peer, on req/s
// and on requests per CPU second, must be at least 95 %.
//
// With logins. It starts the three examples and the three peers per
// algorithm once, logs in -tokens sessions of the demo user on each example,
// and checks every server: /healthz answers 200, every token is accepted on
// /api/profile, and a missing token or a token with an altered signature
// gets 401 (nothing measured is a no-op). Each request of a measurement of
// -duration carries an Authorization header taken in turn from the token
// list of the cell: one token for /healthz and for "guarded, 1 token", all
// of them for "guarded, N tokens"; the peer of a router gets the tokens of
// that router's example. A round measures every cell of every contender
// once, the example and its peer back to back in an order that alternates
// between rounds; every value printed is the median over the -rounds
// rounds. This phase's /healthz is the baseline of the example's own
// guarded route (guarded / /healthz in the same process); the guarded
// routes are also judged against the peers'.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/authguard/authguard/core/token"
)

const (
	pathHealth  = "/healthz"
	pathProfile = "/api/profile"
	audience    = "authguard-demo"
	demoUser    = "user@example.com"
	demoPass    = "demo-password"
)

type options struct {
	bin                string
	rounds             int
	duration           time.Duration
	tokens             int
	conns              int
	serverCPU, loadCPU string
	algs, routers      []string
	strict             bool
	wrk                string
	loginWorkers       int
	only               string
	healthzRounds      int
	healthzDuration    time.Duration
	healthzWarmup      int
}

// server is one started process: an example or a peer.
type server struct {
	router, alg, kind string // kind: "example" or "peer"
	addr              string
	cmd               *exec.Cmd
	log               string
	tokens1, tokensN  string // token files (one token; all tokens)
	tokens            []string
}

func (s *server) name() string { return s.kind + "/" + s.router + "/" + s.alg }

// cell is one measured column.
type cell struct {
	key, title, path string
	many             bool
}

func main() {
	var o options
	var algs, routers string
	flag.StringVar(&o.bin, "bin", "", "directory with the chi, gin, fiber and peerserver binaries")
	flag.IntVar(&o.rounds, "rounds", 5, "rounds (every value is the median over them)")
	flag.DurationVar(&o.duration, "duration", 3*time.Second, "length of one measurement")
	flag.IntVar(&o.tokens, "tokens", 1000, "distinct tokens (sessions logged in per example)")
	flag.IntVar(&o.conns, "conns", 16, "keep-alive connections")
	flag.StringVar(&o.serverCPU, "server-cpu", "0", "CPU list the servers are pinned to (taskset)")
	flag.StringVar(&o.loadCPU, "load-cpu", "1", "CPU list the load generator is pinned to (taskset)")
	flag.StringVar(&algs, "algs", "EdDSA,HS256", "signing algorithms")
	flag.StringVar(&routers, "routers", "chi,gin,fiber", "routers")
	flag.BoolVar(&o.strict, "strict", false, "exit with status 1 when a target is missed")
	flag.StringVar(&o.wrk, "wrk", "wrk", "the wrk binary")
	flag.IntVar(&o.loginWorkers, "login-workers", 4, "concurrent logins while preparing the sessions")
	flag.StringVar(&o.only, "only", "", `run one phase only: "healthz" (fresh processes, /healthz against the bare routers)`)
	flag.IntVar(&o.healthzRounds, "healthz-rounds", 5, "rounds of the fresh-process /healthz phase")
	flag.DurationVar(&o.healthzDuration, "healthz-duration", 3*time.Second, "length of one measurement of the fresh-process /healthz phase")
	flag.IntVar(&o.healthzWarmup, "healthz-warmup", 5000, "/healthz requests that warm up each fresh process before it is measured")
	flag.Parse()
	o.algs, o.routers = strings.Split(algs, ","), strings.Split(routers, ",")
	if o.bin == "" || o.rounds < 1 || o.tokens < 1 || o.conns < 1 || o.healthzRounds < 1 || o.healthzWarmup < 0 {
		fmt.Fprintln(os.Stderr, "httpbench: -bin is required; -rounds, -healthz-rounds, -tokens and -conns must be positive")
		os.Exit(2)
	}
	if o.only != "" && o.only != "healthz" {
		fmt.Fprintf(os.Stderr, "httpbench: -only %q: the only phase that runs alone is healthz\n", o.only)
		os.Exit(2)
	}
	ok, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpbench:", err)
		os.Exit(1)
	}
	if !ok && o.strict {
		os.Exit(1)
	}
}

func run(o options) (bool, error) {
	dir, err := os.MkdirTemp("", "authguard-httpbench-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	// Ctrl-C stops the servers too.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// One key per algorithm, shared by both phases.
	keys := map[string]string{}
	for _, alg := range o.algs {
		if keys[alg], err = writeKey(dir, alg); err != nil {
			return false, err
		}
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	header(w, o)

	// The fresh-process phase runs first, before any process of the other
	// phase exists.
	results, took, loadBefore, err := runHealthz(ctx, o, dir, keys)
	if err != nil {
		return false, err
	}
	verdicts := reportHealthz(w, o, results, loadBefore, took)
	if err := w.Flush(); err != nil {
		return false, err
	}
	if o.only == "" {
		vs, err := runMain(ctx, o, dir, keys, w)
		if err != nil {
			return false, err
		}
		verdicts = append(verdicts, vs...)
	}
	return printTargets(w, verdicts), nil
}

// runMain is the phase with logins: it starts every example and peer once,
// logs in the sessions, measures every cell of every contender in rounds
// and reports the tables and the verdicts of the guarded routes.
func runMain(ctx context.Context, o options, dir string, keys map[string]string, w io.Writer) ([]verdict, error) {
	var servers []*server
	defer func() {
		for _, s := range servers {
			stopServer(s)
		}
	}()
	script := filepath.Join(dir, "tokens.lua")
	if err := os.WriteFile(script, []byte(luaScript), 0o600); err != nil {
		return nil, err
	}
	for _, alg := range o.algs {
		for _, router := range o.routers {
			ex, peer := newPair(ctx, o, router, alg, keys[alg])
			for _, s := range []*server{ex, peer} {
				s.log = filepath.Join(dir, strings.ReplaceAll(s.name(), "/", "-")+".log")
				if err := startServer(s); err != nil {
					return nil, err
				}
				servers = append(servers, s)
			}
		}
	}
	if err := prepare(ctx, o, servers); err != nil {
		return nil, err
	}
	for _, s := range servers {
		if err := pin(o, s); err != nil {
			return nil, err
		}
	}

	cells := []cell{
		{key: "health", title: "/healthz", path: pathHealth},
		{key: "g1", title: "guarded, 1 token", path: pathProfile},
		{key: "gN", title: fmt.Sprintf("guarded, %d tokens", o.tokens), path: pathProfile, many: true},
	}
	// results[server name][cell key] = requests/s of each round.
	results := map[string]map[string][]float64{}
	loadBefore := loadAvg()
	start := time.Now()
	n := 0
	for r := range o.rounds {
		for _, alg := range o.algs {
			for _, router := range o.routers {
				pair := []*server{find(servers, "example", router, alg), find(servers, "peer", router, alg)}
				for ci, c := range cells {
					order := pair
					if (r+ci)%2 == 1 {
						order = []*server{pair[1], pair[0]}
					}
					for _, s := range order {
						if ctx.Err() != nil {
							return nil, ctx.Err()
						}
						tokens := s.tokens1
						if c.many {
							tokens = s.tokensN
						}
						rps, cpu, err := measure(o, s, c.path, script, tokens, o.duration)
						if err != nil {
							return nil, fmt.Errorf("round %d, %s %s: %w", r+1, s.name(), c.title, err)
						}
						record(results, s.name(), c.key, rps, cpu)
						n++
					}
				}
			}
		}
		fmt.Fprintf(os.Stderr, "httpbench: round %d of %d done (%d measurements, %s)\n", r+1, o.rounds, n, time.Since(start).Round(time.Second))
	}
	for _, s := range servers {
		if s.cmd.ProcessState != nil {
			return nil, fmt.Errorf("%s exited during the run; see %s", s.name(), s.log)
		}
	}
	return report(w, o, cells, results, loadBefore, time.Since(start)), nil
}

// record appends one measurement of a server's cell: requests per second
// under key, CPU µs per request under key+"/cpu".
func record(results map[string]map[string][]float64, name, key string, rps, cpu float64) {
	if results[name] == nil {
		results[name] = map[string][]float64{}
	}
	results[name][key] = append(results[name][key], rps)
	results[name][key+"/cpu"] = append(results[name][key+"/cpu"], cpu)
}

// exampleFirst reports whether the example is measured before its peer in
// round r (from 0) for the pair-th router and algorithm of the round: the
// order alternates from round to round, and from pair to pair within one.
func exampleFirst(r, pair int) bool { return (r+pair)%2 == 0 }

// runHealthz is the fresh-process phase. For every round, router and
// algorithm it starts a new example and a new peer (no logins on either),
// pins both, and then, in the order exampleFirst gives, warms each up with
// the same number of /healthz requests and measures its /healthz, before
// it stops both. results["example/chi/EdDSA"]["health"] holds the req/s of
// each round, "health/cpu" the CPU µs per request.
func runHealthz(ctx context.Context, o options, dir string, keys map[string]string) (results map[string]map[string][]float64, took time.Duration, loadBefore string, err error) {
	results = map[string]map[string][]float64{}
	loadBefore = loadAvg()
	start := time.Now()
	for r := range o.healthzRounds {
		pair := 0
		for _, alg := range o.algs {
			for _, router := range o.routers {
				if ctx.Err() != nil {
					return nil, 0, "", ctx.Err()
				}
				if err := healthzPair(ctx, o, dir, keys[alg], router, alg, r, exampleFirst(r, pair), results); err != nil {
					return nil, 0, "", fmt.Errorf("fresh /healthz, round %d: %w", r+1, err)
				}
				pair++
			}
		}
		fmt.Fprintf(os.Stderr, "httpbench: fresh /healthz round %d of %d done (%s)\n", r+1, o.healthzRounds, time.Since(start).Round(time.Second))
	}
	return results, time.Since(start), loadBefore, nil
}

// healthzPair runs one pair of the fresh-process phase and records both
// measurements in results.
func healthzPair(ctx context.Context, o options, dir, keyFile, router, alg string, r int, exFirst bool, results map[string]map[string][]float64) error {
	ex, peer := newPair(ctx, o, router, alg, keyFile)
	order := []*server{ex, peer}
	if !exFirst {
		order = []*server{peer, ex}
	}
	for _, s := range order {
		s.log = filepath.Join(dir, fmt.Sprintf("%s-fresh%d.log", strings.ReplaceAll(s.name(), "/", "-"), r+1))
		if err := startServer(s); err != nil {
			return err
		}
		defer stopServer(s)
	}
	for _, s := range order {
		if err := waitHealthy(ctx, s); err != nil {
			return err
		}
		if err := pin(o, s); err != nil {
			return err
		}
	}
	for _, s := range order {
		if err := warm(ctx, s, o.healthzWarmup, o.conns); err != nil {
			return fmt.Errorf("warming up %s: %w (log: %s)", s.name(), err, s.log)
		}
		rps, cpu, err := measure(o, s, pathHealth, "", "", o.healthzDuration)
		if err != nil {
			return fmt.Errorf("%s /healthz: %w", s.name(), err)
		}
		rss, err := procRSS(s.cmd.Process.Pid)
		if err != nil {
			return fmt.Errorf("%s exited during the run? %w; see %s", s.name(), err, s.log)
		}
		record(results, s.name(), "health", rps, cpu)
		results[s.name()]["health/rss"] = append(results[s.name()]["health/rss"], rss)
	}
	return nil
}

func find(servers []*server, kind, router, alg string) *server {
	for _, s := range servers {
		if s.kind == kind && s.router == router && s.alg == alg {
			return s
		}
	}
	panic("no server " + kind + "/" + router + "/" + alg)
}

// writeKey writes a fresh signing key for alg into dir and returns its file.
func writeKey(dir, alg string) (string, error) {
	k, err := token.GenerateKey(alg)
	if err != nil {
		return "", err
	}
	pemData, err := k.MarshalPEM()
	if err != nil {
		return "", err
	}
	keyFile := filepath.Join(dir, "key-"+alg+".pem")
	return keyFile, os.WriteFile(keyFile, pemData, 0o600)
}

// newPair prepares, without starting them, the example of router on
// keyFile, configured as a user runs it, and its peer on the same key.
func newPair(ctx context.Context, o options, router, alg, keyFile string) (ex, peer *server) {
	ex = &server{router: router, alg: alg, kind: "example", addr: freeAddr()}
	issuer := "http://" + ex.addr
	ex.cmd = exec.CommandContext(ctx, filepath.Join(o.bin, router))
	ex.cmd.Env = append(os.Environ(),
		"AUTHGUARD_ADDR="+ex.addr,
		"AUTHGUARD_STORE=memory:",
		"AUTHGUARD_SIGNING_KEY="+keyFile,
		"AUTHGUARD_ISSUER="+issuer,
		"AUTHGUARD_AUDIENCE="+audience,
		// Longer than the run, so no token expires while it is measured.
		"AUTHGUARD_ACCESS_TTL=6h",
		"AUTHGUARD_DEMO_PASSWORD="+demoPass,
	)
	peer = &server{router: router, alg: alg, kind: "peer", addr: freeAddr()}
	peer.cmd = exec.CommandContext(ctx, filepath.Join(o.bin, "peerserver"),
		"-router", router, "-addr", peer.addr, "-key", keyFile, "-issuer", issuer, "-audience", audience)
	return ex, peer
}

// startServer starts s with its output going to s.log.
func startServer(s *server) error {
	f, err := os.Create(s.log)
	if err != nil {
		return err
	}
	defer f.Close()
	s.cmd.Stdout, s.cmd.Stderr = f, f
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", s.name(), err)
	}
	return nil
}

// stopServer ends a started s and waits for it.
func stopServer(s *server) {
	if s.cmd.Process != nil && s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		_ = s.cmd.Wait()
	}
}

// pin moves every thread of s to the server CPUs.
func pin(o options, s *server) error {
	out, err := exec.Command("taskset", "-a", "-p", "-c", o.serverCPU, strconv.Itoa(s.cmd.Process.Pid)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pinning %s: %v: %s", s.name(), err, out)
	}
	return nil
}

// warm sends n GET /healthz to s over conns keep-alive connections of its
// own, every answer required to be 200, and closes the connections.
func warm(ctx context.Context, s *server, n, conns int) error {
	tr := &http.Transport{MaxIdleConnsPerHost: conns}
	defer tr.CloseIdleConnections()
	c := &http.Client{Timeout: 30 * time.Second, Transport: tr}
	var next atomic.Int64
	errs := make([]error, conns)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				st, _, err := getWith(ctx, c, s, pathHealth, "")
				if err != nil || st != http.StatusOK {
					errs[i] = fmt.Errorf("/healthz: %d %v", st, err)
					next.Store(int64(n))
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var client = &http.Client{
	Timeout:   30 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 16},
}

// prepare waits for every server, logs in the sessions, writes the token
// files and checks every server against them.
func prepare(ctx context.Context, o options, servers []*server) error {
	for _, s := range servers {
		if err := waitHealthy(ctx, s); err != nil {
			return err
		}
	}
	var examples []*server
	for _, s := range servers {
		if s.kind == "example" {
			examples = append(examples, s)
		}
	}
	// Log in all sessions, the examples' logins spread over the workers.
	type job struct {
		s *server
		i int
	}
	for _, s := range examples {
		s.tokens = make([]string, o.tokens)
	}
	jobs := make(chan job)
	errc := make(chan error, o.loginWorkers)
	var wg sync.WaitGroup
	for range o.loginWorkers {
		wg.Go(func() {
			for j := range jobs {
				tok, err := login(ctx, j.s)
				if err != nil {
					errc <- err
					for range jobs {
					}
					return
				}
				j.s.tokens[j.i] = tok
			}
		})
	}
	started := time.Now()
	for i := range o.tokens {
		for _, s := range examples {
			jobs <- job{s, i}
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}
	fmt.Fprintf(os.Stderr, "httpbench: logged in %d sessions on each of %d examples in %s\n",
		o.tokens, len(examples), time.Since(started).Round(time.Second))
	for _, ex := range examples {
		ex.tokensN = ex.log + ".tokens"
		ex.tokens1 = ex.log + ".token"
		if err := os.WriteFile(ex.tokensN, []byte(strings.Join(ex.tokens, "\n")+"\n"), 0o600); err != nil {
			return err
		}
		if err := os.WriteFile(ex.tokens1, []byte(ex.tokens[0]+"\n"), 0o600); err != nil {
			return err
		}
		peer := find(servers, "peer", ex.router, ex.alg)
		peer.tokens, peer.tokensN, peer.tokens1 = ex.tokens, ex.tokensN, ex.tokens1
	}
	for _, s := range servers {
		if err := check(ctx, s); err != nil {
			return fmt.Errorf("%s: %w (log: %s)", s.name(), err, s.log)
		}
	}
	return nil
}

func waitHealthy(ctx context.Context, s *server) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, _, err := get(ctx, s, pathHealth, "")
		if err == nil && st == http.StatusOK {
			return nil
		}
		if s.cmd.ProcessState != nil || time.Now().After(deadline) || ctx.Err() != nil {
			logData, _ := os.ReadFile(s.log)
			return fmt.Errorf("%s did not become healthy (status %d, %v): %s", s.name(), st, err, logData)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func get(ctx context.Context, s *server, path, tok string) (int, []byte, error) {
	return getWith(ctx, client, s, path, tok)
}

func getWith(ctx context.Context, c *http.Client, s *server, path, tok string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.addr+path, nil)
	if err != nil {
		return 0, nil, err
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

func login(ctx context.Context, s *server) (string, error) {
	body, _ := json.Marshal(map[string]string{"email": demoUser, "password": demoPass})
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+s.addr+"/auth/login", bytes.NewReader(body))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return "", fmt.Errorf("%s: login: %w", s.name(), err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests && attempt < 20 {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		var tr struct {
			AccessToken string `json:"accessToken"`
			Error       string `json:"error"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &tr) != nil || tr.AccessToken == "" {
			// The body is not printed: it may hold tokens.
			return "", fmt.Errorf("%s: login answered %d (error %q)", s.name(), resp.StatusCode, tr.Error)
		}
		return tr.AccessToken, nil
	}
}

// check proves that no contender measures a no-op: every token accepted,
// a missing or altered one refused.
func check(ctx context.Context, s *server) error {
	if st, _, err := get(ctx, s, pathHealth, s.tokens[0]); err != nil || st != http.StatusOK {
		return fmt.Errorf("/healthz: %d %v", st, err)
	}
	for i, tok := range s.tokens {
		st, body, err := get(ctx, s, pathProfile, tok)
		if err != nil || st != http.StatusOK || !bytes.Contains(body, []byte(`"sub"`)) {
			return fmt.Errorf("token %d refused: %d %v", i, st, err)
		}
	}
	// gofiber/contrib jwt answers a missing token 400 (missing or malformed
	// JWT), the others 401.
	if st, _, err := get(ctx, s, pathProfile, ""); err != nil || (st != http.StatusUnauthorized && st != http.StatusBadRequest) {
		return fmt.Errorf("no token: want 401 or 400, got %d %v", st, err)
	}
	if st, _, err := get(ctx, s, pathProfile, tamper(s.tokens[0])); err != nil || st != http.StatusUnauthorized {
		return fmt.Errorf("altered signature: want 401, got %d %v", st, err)
	}
	return nil
}

// tamper changes one character in the middle of the signature.
func tamper(tok string) string {
	i := strings.LastIndexByte(tok, '.') + 10
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

// luaScript makes wrk send each request with the next token of the list
// given after "--", the requests built once in init.
const luaScript = `local reqs = {}
local i = 0
function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      reqs[#reqs + 1] = wrk.format(nil, nil, {["Authorization"] = "Bearer " .. line})
    end
  end
end
function request()
  i = i % #reqs + 1
  return reqs[i]
end
`

var (
	reRPS    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	reNon2xx = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	reSocket = regexp.MustCompile(`Socket errors:[^\n]*`)
	reTotal  = regexp.MustCompile(`(\d+) requests in`)
)

// procCPU returns the CPU time (user + system, all threads) the process pid
// has used, from /proc/PID/stat, in clock ticks of 1/100 s.
func procCPU(pid int) (float64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	u, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	return u + st, errors.Join(err1, err2)
}

// wrkArgs is the command line of one measurement of url for d: wrk pinned
// to the load CPUs, one thread, o.conns connections; with a token file, the
// Lua script gives each request the next token of it, without, the
// requests carry no Authorization header.
func wrkArgs(o options, url, script, tokens string, d time.Duration) []string {
	args := []string{"-c", o.loadCPU, o.wrk, "-t1", "-c" + strconv.Itoa(o.conns),
		"-d" + strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"}
	if tokens == "" {
		return append(args, url)
	}
	return append(args, "-s", script, url, "--", tokens)
}

// procRSS returns the resident set size of the process pid in MiB, from
// /proc/PID/status.
func procRSS(pid int) (float64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// measure runs wrk once against path of s for d (see wrkArgs) and returns
// the requests per second and the server's CPU time per request in
// microseconds.
func measure(o options, s *server, path, script, tokens string, d time.Duration) (float64, float64, error) {
	cmd := exec.Command("taskset", wrkArgs(o, "http://"+s.addr+path, script, tokens, d)...)
	cpu0, err := procCPU(s.cmd.Process.Pid)
	if err != nil {
		return 0, 0, err
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, 0, fmt.Errorf("wrk: %v: %s", err, out)
	}
	cpu1, err := procCPU(s.cmd.Process.Pid)
	if err != nil {
		return 0, 0, err
	}
	if m := reNon2xx.FindSubmatch(out); m != nil {
		return 0, 0, fmt.Errorf("%s non-2xx answers: %s", m[1], out)
	}
	if m := reSocket.Find(out); m != nil {
		return 0, 0, fmt.Errorf("wrk: %s", m)
	}
	m, mn := reRPS.FindSubmatch(out), reTotal.FindSubmatch(out)
	if m == nil || mn == nil {
		return 0, 0, fmt.Errorf("no Requests/sec in wrk output: %s", out)
	}
	rps, err1 := strconv.ParseFloat(string(m[1]), 64)
	total, err2 := strconv.ParseFloat(string(mn[1]), 64)
	if err := errors.Join(err1, err2); err != nil || total == 0 {
		return 0, 0, fmt.Errorf("wrk output: %v: %s", err, out)
	}
	return rps, (cpu1 - cpu0) * 1e4 / total, nil
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:3], " ")
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return math.NaN()
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// spread is half the range relative to the median (NaN for no values).
func spread(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	return (slices.Max(v) - slices.Min(v)) / 2 / median(v)
}

// pairedRatio is the median over the rounds of a[i]/b[i], two contenders
// measured back to back in round i, and the spread of those ratios.
// Rounds missing from either side are left out.
func pairedRatio(a, b []float64) (ratio, spr float64) {
	rs := make([]float64, 0, len(a))
	for i := range min(len(a), len(b)) {
		rs = append(rs, a[i]/b[i])
	}
	return median(rs), spread(rs)
}

// verdict is one line of the targets table.
type verdict struct {
	name string
	ok   bool
	text string
}

// header prints the placement of the servers and the load generator,
// which both phases share.
func header(w io.Writer, o options) {
	wrkVersion, _ := exec.Command(o.wrk, "-v").CombinedOutput()
	fmt.Fprintf(w, "- servers pinned to CPU %s, wrk (%s) to CPU %s: one thread, %d keep-alive connections\n\n",
		o.serverCPU, wrkName(wrkVersion), o.loadCPU, o.conns)
}

// reportHealthz prints the table of the fresh-process phase and returns
// its verdicts (see healthzVerdicts).
func reportHealthz(w io.Writer, o options, results map[string]map[string][]float64, loadBefore string, took time.Duration) []verdict {
	fmt.Fprint(w, "### /healthz on fresh processes\n\n")
	fmt.Fprintf(w, "- %d rounds; in each, for every router and algorithm, a fresh example (as a user runs it, no logins) and a fresh peer (the bare router) are started and pinned, "+
		"then each in turn, the order alternating between rounds, is warmed up with %d /healthz requests and measured for %s (no Authorization header), and both are stopped\n",
		o.healthzRounds, o.healthzWarmup, o.healthzDuration)
	fmt.Fprint(w, "- req/s, CPU µs/req and RSS (resident set after the measurement) are the medians of the rounds, ± half their range over the median; example / peer is the median of the per-round ratios (req/s, and requests per CPU second), ± half their range over the median\n")
	fmt.Fprintf(w, "- load average before %s, after %s; the phase took %s\n\n", loadBefore, loadAvg(), took.Round(time.Second))
	fmt.Fprint(w, "| algorithm | router | example: req/s | CPU µs/req | RSS MiB | peer | peer: req/s | CPU µs/req | RSS MiB | example / peer, req/s | example / peer, per CPU s |\n")
	fmt.Fprint(w, "|---|---|--:|--:|--:|---|--:|--:|--:|--:|--:|\n")
	for _, alg := range o.algs {
		for _, router := range o.routers {
			ex, pe := results["example/"+router+"/"+alg], results["peer/"+router+"/"+alg]
			r, rs := pairedRatio(ex["health"], pe["health"])
			c, cs := pairedRatio(pe["health/cpu"], ex["health/cpu"])
			fmt.Fprintf(w, "| %s | %s | %.0f ±%.0f%% | %.1f ±%.0f%% | %.1f | %s | %.0f ±%.0f%% | %.1f ±%.0f%% | %.1f | %.0f%% ±%.0f%% | %.0f%% ±%.0f%% |\n",
				alg, router, median(ex["health"]), 100*spread(ex["health"]), median(ex["health/cpu"]), 100*spread(ex["health/cpu"]), median(ex["health/rss"]),
				peerName[router], median(pe["health"]), 100*spread(pe["health"]), median(pe["health/cpu"]), 100*spread(pe["health/cpu"]), median(pe["health/rss"]),
				100*r, 100*rs, 100*c, 100*cs)
		}
	}
	fmt.Fprintln(w)
	return healthzVerdicts(o, results)
}

// healthzVerdicts judges the target "the examples' base middleware costs
// at most 5 %" on the fresh-process phase: for every router and algorithm,
// on req/s and on requests per CPU second, the median of the per-round
// ratios example / peer must be at least 0.95.
func healthzVerdicts(o options, results map[string]map[string][]float64) []verdict {
	var vs []verdict
	for _, alg := range o.algs {
		for _, router := range o.routers {
			ex, pe := results["example/"+router+"/"+alg], results["peer/"+router+"/"+alg]
			for _, cpu := range []bool{false, true} {
				metric := "req/s"
				// The example and its peer ran back to back in every round:
				// the ratio of each round cancels the drift between rounds.
				ratio, spr := pairedRatio(ex["health"], pe["health"])
				if cpu { // requests per CPU second are the inverse of CPU µs per request
					metric = "req per CPU s"
					ratio, spr = pairedRatio(pe["health/cpu"], ex["health/cpu"])
				}
				vs = append(vs, verdict{
					fmt.Sprintf("%s/%s %s: example /healthz >= 95%% of the peer's bare router (fresh processes, median of the rounds' ratios)", router, alg, metric),
					ratio >= 0.95, // false for NaN: no rounds is no pass
					fmt.Sprintf("%.0f%% ±%.0f%% over %d rounds", 100*ratio, 100*spr, min(len(ex["health"]), len(pe["health"])))})
			}
		}
	}
	return vs
}

// report prints the tables of the phase with logins and returns its
// verdicts: the guarded routes against the example's own /healthz and
// against the peer's guarded route.
func report(w io.Writer, o options, cells []cell, results map[string]map[string][]float64, loadBefore string, took time.Duration) []verdict {
	fmt.Fprint(w, "### With logins\n\n")
	fmt.Fprintf(w, "- %d sessions logged in on each example before measuring; %s per measurement\n", o.tokens, o.duration)
	fmt.Fprintf(w, "- %d rounds, contenders interleaved; every value is the median of the rounds: req/s, and the server's CPU time (user + system, all threads) per request in µs; ± is half the range of the rounds over the median; /healthz here is the baseline of the example's own guarded route (the 95 %% target is judged on fresh processes, above)\n", o.rounds)
	fmt.Fprintf(w, "- load average before %s, after %s; the measurements took %s\n\n", loadBefore, loadAvg(), took.Round(time.Second))

	var verdicts []verdict
	// rate is the median req/s, or with cpu the requests per CPU second.
	rate := func(kind, router, alg, key string, cpu bool) float64 {
		rs := results[kind+"/"+router+"/"+alg]
		if cpu {
			return 1e6 / median(rs[key+"/cpu"])
		}
		return median(rs[key])
	}
	for _, alg := range o.algs {
		fmt.Fprintf(w, "#### %s\n\n", alg)
		fmt.Fprint(w, "| router | server |")
		for _, c := range cells {
			fmt.Fprintf(w, " %s: req/s | CPU µs/req |", c.title)
		}
		fmt.Fprint(w, " guarded / /healthz, 1 token | guarded / /healthz, many |\n|---|---|")
		for range cells {
			fmt.Fprint(w, "--:|--:|")
		}
		fmt.Fprint(w, "--:|--:|\n")
		for _, router := range o.routers {
			for _, kind := range []string{"example", "peer"} {
				label := kind
				if kind == "peer" {
					label = peerName[router]
				}
				fmt.Fprintf(w, "| %s | %s |", router, label)
				rs := results[kind+"/"+router+"/"+alg]
				for _, c := range cells {
					fmt.Fprintf(w, " %.0f ±%.0f%% | %.1f ±%.0f%% |", median(rs[c.key]), 100*spread(rs[c.key]),
						median(rs[c.key+"/cpu"]), 100*spread(rs[c.key+"/cpu"]))
				}
				h := median(rs["health"])
				fmt.Fprintf(w, " %.0f%% | %.0f%% |\n", 100*median(rs["g1"])/h, 100*median(rs["gN"])/h)
			}
		}
		fmt.Fprintln(w)
		for _, router := range o.routers {
			for _, cpu := range []bool{false, true} {
				metric := "req/s"
				if cpu {
					metric = "req per CPU s"
				}
				h := rate("example", router, alg, "health", cpu)
				g1, gN := rate("example", router, alg, "g1", cpu), rate("example", router, alg, "gN", cpu)
				verdicts = append(verdicts,
					verdict{fmt.Sprintf("%s/%s %s: example guarded, 1 token >= 80%% of its /healthz", router, alg, metric), g1 >= 0.80*h,
						fmt.Sprintf("%.0f%% (%.0f of %.0f)", 100*g1/h, g1, h)},
					verdict{fmt.Sprintf("%s/%s %s: example guarded, %d tokens >= 70%% of its /healthz", router, alg, metric, o.tokens), gN >= 0.70*h,
						fmt.Sprintf("%.0f%% (%.0f of %.0f)", 100*gN/h, gN, h)})
				for _, c := range cells[1:] {
					e, p := rate("example", router, alg, c.key, cpu), rate("peer", router, alg, c.key, cpu)
					verdicts = append(verdicts, verdict{fmt.Sprintf("%s/%s %s: example > %s, %s", router, alg, metric, peerName[router], c.title), e > p,
						fmt.Sprintf("%.2fx (%.0f vs %.0f)", e/p, e, p)})
				}
			}
		}
	}
	return verdicts
}

// printTargets prints the verdicts and reports whether all of them pass.
func printTargets(w io.Writer, verdicts []verdict) bool {
	all := true
	fmt.Fprint(w, "#### Targets\n\n| target | verdict |\n|---|---|\n")
	for _, v := range verdicts {
		word := "PASS"
		if !v.ok {
			word, all = "FAIL", false
		}
		fmt.Fprintf(w, "| %s | %s: %s |\n", v.name, word, v.text)
	}
	if all {
		fmt.Fprintln(w, "\nEvery target is met.")
	} else {
		fmt.Fprintln(w, "\nSome targets are missed (FAIL above).")
	}
	return all
}

// wrkName is the first line of `wrk -v` without its copyright notice.
func wrkName(v []byte) string {
	line, _, _ := strings.Cut(string(v), "\n")
	line, _, _ = strings.Cut(line, " Copyright")
	return strings.TrimSpace(line)
}

var peerName = map[string]string{"chi": "jwtauth", "gin": "gin-jwt", "fiber": "contrib-jwt"}
