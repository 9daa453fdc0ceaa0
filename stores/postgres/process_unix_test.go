//go:build unix

package pgstore

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authguard/authguard/core/storetest"
)

// privatePostgres is a PostgreSQL server of one test alone, on a free port,
// which the test may stop, pause and restart: the shared server is never
// touched. It runs as the postgres system user.
type privatePostgres struct {
	t    *testing.T
	bin  string
	dir  string
	port string
	cred *syscall.Credential
	cmd  *exec.Cmd
}

// startPrivatePostgres initialises and starts a private server, or skips:
// it needs the server binaries and root (to run them as postgres).
func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(bins) == 0 {
		t.Skip("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin: the private-server faults are not run (the proxy faults are)")
	}
	if os.Geteuid() != 0 {
		t.Skip("not root: a private PostgreSQL server must run as the postgres user; the private-server faults are not run (the proxy faults are)")
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Skipf("no postgres system user (%v): the private-server faults are not run", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	dir, err := os.MkdirTemp("", "authguard-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	_ = ln.Close()
	p := &privatePostgres{t: t, bin: filepath.Dir(bins[len(bins)-1]), dir: dir, port: port,
		cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	initdb := exec.Command(filepath.Join(p.bin, "initdb"), "-D", filepath.Join(dir, "data"), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	p.start()
	t.Cleanup(p.kill)
	return p
}

func (p *privatePostgres) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%s/postgres?sslmode=disable", p.port)
}

// start runs the server and waits until it answers.
func (p *privatePostgres) start() {
	p.t.Helper()
	p.cmd = exec.Command(filepath.Join(p.bin, "postgres"), "-D", filepath.Join(p.dir, "data"), "-p", p.port,
		"-k", p.dir, "-c", "listen_addresses=127.0.0.1")
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start postgres: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		pool, err := pgxpool.New(ctx, p.url())
		if err == nil {
			err = pool.Ping(ctx)
			pool.Close()
		}
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("private PostgreSQL on port %s does not answer: %v", p.port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// signal sends sig to the postmaster, then to every process it started:
// the backends call setsid, so a signal to the postmaster's process group
// misses them (and a SIGSTOP of the postmaster alone pauses no connection).
func (p *privatePostgres) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v to the private PostgreSQL: %v", sig, err)
	}
	for _, pid := range children(p.cmd.Process.Pid) {
		_ = syscall.Kill(pid, sig) // a backend may have exited meanwhile
	}
}

// children lists the processes whose parent is pid (Linux /proc).
func children(pid int) []int {
	var out []int
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// "pid (comm) state ppid ...": comm may hold spaces, so parse after ')'.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			if child, err := strconv.Atoi(filepath.Base(filepath.Dir(f))); err == nil {
				out = append(out, child)
			}
		}
	}
	return out
}

// kill ends the server and its backends at once (SIGKILL also ends stopped
// processes); a restart recovers from the write-ahead log.
func (p *privatePostgres) kill() {
	if p.cmd == nil {
		return
	}
	kids := children(p.cmd.Process.Pid)
	_ = p.cmd.Process.Kill()
	for _, pid := range kids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	_ = p.cmd.Wait()
	p.cmd = nil
}

// A private PostgreSQL paused with SIGSTOP, and one killed and restarted on
// its port: nobody is logged out, no session is lost or forked.
func TestProcessFaults(t *testing.T) {
	p := startPrivatePostgres(t)
	cfg, err := pgxpool.ParseConfig(p.url())
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.ConnectTimeout = time.Second
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	faults := []storetest.Fault{
		{Name: "sigstop", Begin: func(*testing.T) { p.signal(syscall.SIGSTOP) }, LoseAnswer: func(*testing.T) { p.signal(syscall.SIGSTOP) },
			End: func(*testing.T) { p.signal(syscall.SIGCONT) }},
		{Name: "killed", Begin: func(*testing.T) { p.kill() }, LoseAnswer: func(*testing.T) { p.kill() },
			End: func(*testing.T) { p.start() }},
	}
	for i, f := range faults {
		t.Run(f.Name, func(t *testing.T) {
			st, err := New(context.Background(), pool, WithSchema("agfault_"+strconv.Itoa(i)))
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			storetest.RunFault(t, st, f)
		})
	}
}
