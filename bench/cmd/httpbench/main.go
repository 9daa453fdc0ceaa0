// Command httpbench measures the example servers from outside, side by side
// with a peer server per router (cmd/peerserver: the router's established
// JWT middleware on the same key), and prints the markdown table and the
// target verdicts of BENCHMARKS.md's "HTTP level" section. Run it through
// scripts/bench-http.sh, which builds the binaries it starts.
//
//	httpbench -bin DIR [-rounds 5] [-duration 3s] [-tokens 1000] [-conns 16]
//	          [-server-cpu 0] [-load-cpu 1] [-algs EdDSA,HS256] [-strict]
//
// DIR holds the binaries chi, gin, fiber (the example servers) and
// peerserver. For each algorithm it writes a fresh signing key, starts the
// three examples (memory store, that key through AUTHGUARD_SIGNING_KEY) and
// the three peers on the same key, logs in -tokens sessions of the demo user
// on each example, and checks every server: /healthz answers 200, every
// token is accepted on /api/profile, and a missing token or a token with an
// altered signature gets 401 (nothing measured is a no-op). Then every
// server process is pinned to -server-cpu and wrk, pinned to -load-cpu,
// drives them: -conns keep-alive connections on one wrk thread for
// -duration per measurement. Each request carries an Authorization header
// taken in turn from the token list of the cell: one token for /healthz and
// for "guarded, 1 token", all of them for "guarded, N tokens"; the peer of a
// router gets the tokens of that router's example. A round measures every
// cell of every contender once, the example and its peer back to back in an
// order that alternates between rounds; every value printed is the median
// over the rounds, except the verdict of an example's /healthz against its
// peer's, which is the median of the per-round ratios of the two. A
// measurement with a non-2xx answer or a socket error fails the run.
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
	flag.Parse()
	o.algs, o.routers = strings.Split(algs, ","), strings.Split(routers, ",")
	if o.bin == "" || o.rounds < 1 || o.tokens < 1 || o.conns < 1 {
		fmt.Fprintln(os.Stderr, "httpbench: -bin is required; -rounds, -tokens and -conns must be positive")
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
	var servers []*server
	defer func() {
		for _, s := range servers {
			if s.cmd.Process != nil {
				_ = s.cmd.Process.Signal(syscall.SIGTERM)
				_ = s.cmd.Wait()
			}
		}
	}()
	// Ctrl-C stops the servers too.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	script := filepath.Join(dir, "tokens.lua")
	if err := os.WriteFile(script, []byte(luaScript), 0o600); err != nil {
		return false, err
	}
	for _, alg := range o.algs {
		ss, err := startAlg(ctx, o, dir, alg)
		servers = append(servers, ss...)
		if err != nil {
			return false, err
		}
	}
	if err := prepare(ctx, o, servers); err != nil {
		return false, err
	}
	for _, s := range servers {
		out, err := exec.Command("taskset", "-a", "-p", "-c", o.serverCPU, strconv.Itoa(s.cmd.Process.Pid)).CombinedOutput()
		if err != nil {
			return false, fmt.Errorf("pinning %s: %v: %s", s.name(), err, out)
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
							return false, ctx.Err()
						}
						rps, cpu, err := measure(o, script, s, c)
						if err != nil {
							return false, fmt.Errorf("round %d, %s %s: %w", r+1, s.name(), c.title, err)
						}
						if results[s.name()] == nil {
							results[s.name()] = map[string][]float64{}
						}
						results[s.name()][c.key] = append(results[s.name()][c.key], rps)
						results[s.name()][c.key+"/cpu"] = append(results[s.name()][c.key+"/cpu"], cpu)
						n++
					}
				}
			}
		}
		fmt.Fprintf(os.Stderr, "httpbench: round %d of %d done (%d measurements, %s)\n", r+1, o.rounds, n, time.Since(start).Round(time.Second))
	}
	for _, s := range servers {
		if s.cmd.ProcessState != nil {
			return false, fmt.Errorf("%s exited during the run; see %s", s.name(), s.log)
		}
	}
	return report(o, cells, results, loadBefore, time.Since(start)), nil
}

func find(servers []*server, kind, router, alg string) *server {
	for _, s := range servers {
		if s.kind == kind && s.router == router && s.alg == alg {
			return s
		}
	}
	panic("no server " + kind + "/" + router + "/" + alg)
}

// startAlg writes a key for alg and starts the examples and the peers on it.
func startAlg(ctx context.Context, o options, dir, alg string) ([]*server, error) {
	k, err := token.GenerateKey(alg)
	if err != nil {
		return nil, err
	}
	pemData, err := k.MarshalPEM()
	if err != nil {
		return nil, err
	}
	keyFile := filepath.Join(dir, "key-"+alg+".pem")
	if err := os.WriteFile(keyFile, pemData, 0o600); err != nil {
		return nil, err
	}
	var out []*server
	for _, router := range o.routers {
		ex := &server{router: router, alg: alg, kind: "example", addr: freeAddr()}
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
		peer := &server{router: router, alg: alg, kind: "peer", addr: freeAddr()}
		peer.cmd = exec.CommandContext(ctx, filepath.Join(o.bin, "peerserver"),
			"-router", router, "-addr", peer.addr, "-key", keyFile, "-issuer", issuer, "-audience", audience)
		for _, s := range []*server{ex, peer} {
			s.log = filepath.Join(dir, strings.ReplaceAll(s.name(), "/", "-")+".log")
			f, err := os.Create(s.log)
			if err != nil {
				return out, err
			}
			s.cmd.Stdout, s.cmd.Stderr = f, f
			if err := s.cmd.Start(); err != nil {
				f.Close()
				return out, fmt.Errorf("starting %s: %w", s.name(), err)
			}
			f.Close()
			out = append(out, s)
		}
	}
	return out, nil
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
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.addr+path, nil)
	if err != nil {
		return 0, nil, err
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := client.Do(req)
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

// measure runs wrk once against s and returns the requests per second and
// the server's CPU time per request in microseconds.
func measure(o options, script string, s *server, c cell) (float64, float64, error) {
	tokens := s.tokens1
	if c.many {
		tokens = s.tokensN
	}
	cmd := exec.Command("taskset", "-c", o.loadCPU, o.wrk, "-t1", "-c"+strconv.Itoa(o.conns),
		"-d"+strconv.FormatFloat(o.duration.Seconds(), 'f', -1, 64)+"s", "-s", script,
		"http://"+s.addr+c.path, "--", tokens)
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

func report(o options, cells []cell, results map[string]map[string][]float64, loadBefore string, took time.Duration) bool {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	wrkVersion, _ := exec.Command(o.wrk, "-v").CombinedOutput()
	fmt.Fprintf(w, "- servers pinned to CPU %s, wrk (%s) to CPU %s: one thread, %d keep-alive connections, %s per measurement\n",
		o.serverCPU, wrkName(wrkVersion), o.loadCPU, o.conns, o.duration)
	fmt.Fprintf(w, "- %d rounds, contenders interleaved; every value is the median of the rounds: req/s, and the server's CPU time (user + system, all threads) per request in µs; ± is half the range of the rounds over the median; an example's /healthz is judged against its peer's on the median of the per-round ratios\n", o.rounds)
	fmt.Fprintf(w, "- load average before %s, after %s; the measurements took %s\n\n", loadBefore, loadAvg(), took.Round(time.Second))

	type verdict struct {
		name string
		ok   bool
		text string
	}
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
				// The example and its peer ran back to back in every round:
				// the ratio of each round cancels the drift between rounds.
				p := rate("peer", router, alg, "health", cpu)
				ex, pe := results["example/"+router+"/"+alg], results["peer/"+router+"/"+alg]
				ratio, spr := pairedRatio(ex["health"], pe["health"])
				if cpu { // requests per CPU second are the inverse of CPU µs per request
					ratio, spr = pairedRatio(pe["health/cpu"], ex["health/cpu"])
				}
				verdicts = append(verdicts, verdict{fmt.Sprintf("%s/%s %s: example /healthz >= 95%% of the peer's bare router (median of the rounds' ratios)", router, alg, metric), ratio >= 0.95,
					fmt.Sprintf("%.0f%% ±%.0f%% (medians %.0f vs %.0f)", 100*ratio, 100*spr, h, p)})
			}
		}
	}
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
