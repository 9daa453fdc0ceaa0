package examples

// Two example server processes sharing one store and one signing key, as a
// team runs several instances behind a load balancer: a session opened on
// one is served by the other, refreshes keep one lineage whichever instance
// answers, and a logout on one is refused by the other within a second.

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authguard/authguard/examples/internal/demo"
	"github.com/authguard/authguard/examples/internal/demotest"
)

func TestInstancesAsProcesses(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "chi-example")
	if out, err := exec.Command("go", "build", "-o", bin, "./chi").CombinedOutput(); err != nil {
		t.Fatalf("go build ./chi: %v\n%s", err, out)
	}
	for _, kind := range demotest.StoreKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{
				demo.EnvAddr:       "127.0.0.1:0",
				demo.EnvStore:      demotest.StoreURL(t, kind),
				demo.EnvSigningKey: demotest.SigningKeyFile(t),
				demo.EnvIssuer:     "http://localhost:8080",
			}
			// Both start at once on the fresh store: one creates the schema
			// and the demo users, the other finds them.
			waitA, waitB := startServer(t, bin, env), startServer(t, bin, env)
			a, b := waitA(), waitB()
			ca, cb := &demotest.Client{T: t, Base: a}, &demotest.Client{T: t, Base: b}
			twoInstances(t, ca, cb)
			demotest.RoleRemoval(t, ca, cb)
		})
	}
}

// twoInstances: a login on A is served by B; B rotates A's refresh token
// and A, replaying it within the grace window, answers the same successor;
// a logout on A is refused by B within a second.
func twoInstances(t *testing.T, a, b *demotest.Client) {
	login := a.Do("POST", "/auth/login", map[string]string{"email": "user@example.com", "password": demo.DefaultDemoPassword})
	if login.Status != 200 {
		t.Fatalf("login on A: %d %s", login.Status, login.Body)
	}
	tok := login.JSON(t)
	if r := b.Do("GET", demo.PathProfile, nil, "Authorization", "Bearer "+tok["accessToken"].(string)); r.Status != 200 {
		t.Fatalf("B refuses A's access token: %d %s", r.Status, r.Body)
	}
	onB := b.Do("POST", "/auth/refresh", map[string]string{"refreshToken": tok["refreshToken"].(string)})
	if onB.Status != 200 {
		t.Fatalf("refresh on B with A's refresh token: %d %s", onB.Status, onB.Body)
	}
	next := onB.JSON(t)
	replay := a.Do("POST", "/auth/refresh", map[string]string{"refreshToken": tok["refreshToken"].(string)})
	if replay.Status != 200 || replay.JSON(t)["refreshToken"] != next["refreshToken"] {
		t.Fatalf("replay on A within the grace window: %d, not the successor B issued (two lineages)", replay.Status)
	}
	access := "Bearer " + next["accessToken"].(string)
	for _, c := range []*demotest.Client{a, b} {
		if r := c.Do("GET", demo.PathProfile, nil, "Authorization", access); r.Status != 200 {
			t.Fatalf("%s refuses the successor's access token: %d %s", c.Base, r.Status, r.Body)
		}
	}

	start := time.Now()
	if r := a.Do("POST", "/auth/logout", map[string]string{"refreshToken": next["refreshToken"].(string)}); r.Status != 204 {
		t.Fatalf("logout on A: %d %s", r.Status, r.Body)
	}
	for {
		r := b.Do("GET", demo.PathProfile, nil, "Authorization", access)
		if r.Status == 401 {
			break
		}
		if r.Status != 200 {
			t.Fatalf("B during the revocation: %d %s", r.Status, r.Body)
		}
		if time.Since(start) > time.Second {
			t.Fatal("B still accepts the session 1s after the logout on A")
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Logf("logout on A refused by B after %s", time.Since(start).Round(time.Millisecond))
	if r := b.Do("POST", "/auth/refresh", map[string]string{"refreshToken": next["refreshToken"].(string)}); r.Status != 400 {
		t.Fatalf("refresh on B after the logout on A: %d %s", r.Status, r.Body)
	}
}

// startServer starts the binary with env (and none of the test's own
// AUTHGUARD_ variables) and returns a function that waits for its start line
// and returns its base URL. When the test ends the process is interrupted
// and must stop cleanly.
func startServer(t *testing.T, bin string, env map[string]string) (wait func() string) {
	t.Helper()
	cmd := exec.Command(bin)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AUTHGUARD_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var log strings.Builder
	addr := make(chan string, 1)
	exited := make(chan struct{})
	var waitErr error
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			mu.Lock()
			log.WriteString(sc.Text() + "\n")
			mu.Unlock()
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == "authguard example server started" {
				a, _ := m["addr"].(string)
				addr <- a
			}
		}
		waitErr = cmd.Wait()
	}()
	logged := func() string {
		mu.Lock()
		defer mu.Unlock()
		return log.String()
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
			if waitErr != nil {
				t.Errorf("server exited with %v; log:\n%s", waitErr, logged())
			}
		case <-time.After(demo.ShutdownTimeout + 5*time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("server did not stop on interrupt; log:\n%s", logged())
		}
	})
	return func() string {
		t.Helper()
		select {
		case a := <-addr:
			return "http://" + a
		case <-exited:
			t.Fatalf("server exited before starting: %v; log:\n%s", waitErr, logged())
		case <-time.After(30 * time.Second):
			t.Fatalf("no start line in 30s; log:\n%s", logged())
		}
		return ""
	}
}
