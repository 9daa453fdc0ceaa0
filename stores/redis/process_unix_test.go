//go:build unix

package redisstore_test

import (
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authguard/authguard/core/storetest"
)

// privateRedis is a redis-server of one test alone, on a free port, which
// the test may stop, pause and restart: the shared server is never touched.
// It keeps an append-only file synced at every write, so a killed server
// comes back with every write it acknowledged, as a production one should.
type privateRedis struct {
	t    *testing.T
	bin  string
	dir  string
	port string
	cmd  *exec.Cmd
}

// startPrivateRedis starts a private server, or skips the test when
// redis-server is not installed (fails with AUTHGUARD_REQUIRE_SERVICES=1).
func startPrivateRedis(t *testing.T) *privateRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(t, "redis-server is not installed, so no private server can be stopped and paused: "+err.Error())
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	_ = ln.Close()
	r := &privateRedis{t: t, bin: bin, dir: t.TempDir(), port: port}
	r.start()
	t.Cleanup(r.kill)
	return r
}

func (r *privateRedis) addr() string { return net.JoinHostPort("127.0.0.1", r.port) }

// start runs the server and waits until it answers.
func (r *privateRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "--port", r.port, "--bind", "127.0.0.1", "--dir", r.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always",
		"--logfile", filepath.Join(r.dir, "redis.log"), "--daemonize", "no")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("private redis-server on %s does not answer: %v", r.addr(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *privateRedis) signal(sig syscall.Signal) {
	r.t.Helper()
	if err := r.cmd.Process.Signal(sig); err != nil {
		r.t.Fatalf("signal %v to the private redis-server: %v", sig, err)
	}
}

// kill ends the server at once (SIGKILL also ends a stopped process).
func (r *privateRedis) kill() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

// client returns a client of the server, closed when the test ends.
func (r *privateRedis) client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: r.addr(), ContextTimeoutEnabled: true})
	r.t.Cleanup(func() { _ = c.Close() })
	return c
}

// A real redis-server paused with SIGSTOP, and one killed and restarted on
// its port: nobody is logged out, no session is lost or forked.
func TestProcessFaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault func(r *privateRedis) storetest.Fault
	}{
		{"sigstop", func(r *privateRedis) storetest.Fault {
			stop := func(*testing.T) { r.signal(syscall.SIGSTOP) }
			return storetest.Fault{Name: "sigstop", Begin: stop, LoseAnswer: stop,
				End: func(*testing.T) { r.signal(syscall.SIGCONT) }}
		}},
		{"killed", func(r *privateRedis) storetest.Fault {
			kill := func(*testing.T) { r.kill() }
			return storetest.Fault{Name: "killed", Begin: kill, LoseAnswer: kill,
				End: func(*testing.T) { r.start() }}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startPrivateRedis(t)
			c := r.client()
			storetest.RunFault(t, newStoreOn(t, c, c), tc.fault(r))
		})
	}
}
