package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"github.com/authguard/authguard/core/authtest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/token"
)

// testConfig is the default configuration over a fresh SQLite file.
func testConfig(t *testing.T, kv map[string]string) Config {
	t.Helper()
	m := map[string]string{EnvStore: "sqlite:" + filepath.Join(t.TempDir(), "demo.db")}
	for k, v := range kv {
		m[k] = v
	}
	cfg, err := LoadConfig(env(m))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func openApp(t *testing.T, cfg Config, log *authtest.LogBuffer) *App {
	t.Helper()
	var logger = NewLogger(log, true)
	app, err := Open(context.Background(), cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Close() })
	return app
}

func login(t *testing.T, app *App, email, password string) *core.TokenResponse {
	t.Helper()
	tr, err := app.Service.Login(context.Background(), core.LoginInput{
		Email: email, Password: password, Client: core.ClientInfo{IP: "127.0.0.1"},
	})
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	return tr
}

func TestSigningKeyPersistsNextToSQLite(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, nil)
	keyFile := cfg.Store.Location + KeyFileSuffix

	first, err := Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if first.KeySource != KeyGenerated || first.KeyFile != keyFile {
		t.Fatalf("first start: key %s from %q", first.KeySource, first.KeyFile)
	}
	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	for _, f := range []string{cfg.Store.Location, cfg.Store.Location + "-wal", cfg.Store.Location + "-shm"} {
		if fi, err := os.Stat(f); err != nil {
			t.Error(err)
		} else if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	data, _ := os.ReadFile(keyFile)
	if b, _ := pem.Decode(data); b == nil || b.Type != "PRIVATE KEY" {
		t.Fatalf("key file is not a PKCS#8 PEM block")
	}
	tr := login(t, first, "user@example.com", DefaultDemoPassword)
	kid := first.Service.Keys().SigningKey().ID()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := openApp(t, cfg, &authtest.LogBuffer{})
	if second.KeySource != KeyLoaded {
		t.Fatalf("second start: key %s", second.KeySource)
	}
	if got := second.Service.Keys().SigningKey().ID(); got != kid {
		t.Fatalf("kid changed across restarts: %s -> %s", kid, got)
	}
	if got := second.Service.Keys().SigningKey().Algorithm(); got != token.AlgEdDSA {
		t.Fatalf("alg %s", got)
	}
	p, err := second.Service.Authenticate(context.Background(), tr.AccessToken)
	if err != nil {
		t.Fatalf("token of the first start refused after restart: %v", err)
	}
	if !p.HasRole("user") {
		t.Fatalf("roles %v", p.Roles)
	}
	// The refresh token and the session survive too.
	if _, err := second.Service.Refresh(context.Background(), tr.RefreshToken, core.ClientInfo{IP: "127.0.0.1"}); err != nil {
		t.Fatalf("refresh after restart: %v", err)
	}
}

// Two instances starting together on a fresh store come up with one key:
// neither reads the other's key file half written, neither writes its own.
func TestSimultaneousStartsAgreeOnKey(t *testing.T) {
	t.Parallel()
	for i := range 20 {
		cfg := testConfig(t, nil)
		var apps [2]*App
		var errs [2]error
		start := make(chan struct{})
		done := make(chan int)
		for j := range apps {
			go func() {
				<-start
				apps[j], errs[j] = Open(context.Background(), cfg, nil)
				done <- j
			}()
		}
		close(start)
		<-done
		<-done
		for j, err := range errs {
			if err != nil {
				t.Fatalf("pair %d, instance %d: %v", i, j, err)
			}
			t.Cleanup(func() { _ = apps[j].Close() })
		}
		a, _ := apps[0].Service.Keys().JWKS()
		b, _ := apps[1].Service.Keys().JWKS()
		if !bytes.Equal(a, b) {
			t.Fatalf("pair %d: the instances serve different JWKS:\n%s\n%s", i, a, b)
		}
		if leftovers, _ := filepath.Glob(cfg.Store.Location + KeyFileSuffix + ".tmp-*"); len(leftovers) > 0 {
			t.Fatalf("pair %d: temporary key files left behind: %v", i, leftovers)
		}
	}
}

// An instance that finds the key file not yet whole (another instance is
// still writing it) waits for it instead of failing with advice to delete it,
// which would split the instances onto two keys.
func TestPartialKeyFileIsAwaited(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, nil)
	keyFile := cfg.Store.Location + KeyFileSuffix
	k, err := token.GenerateKey(token.AlgEdDSA)
	if err != nil {
		t.Fatal(err)
	}
	pemData, _ := k.MarshalPEM()
	if err := os.WriteFile(keyFile, pemData[:len(pemData)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		_ = os.WriteFile(keyFile, pemData, 0o600)
	}()
	app := openApp(t, cfg, &authtest.LogBuffer{})
	if app.KeySource != KeyLoaded || app.Service.Keys().SigningKey().ID() != k.ID() {
		t.Fatalf("key %s %s, want the other instance's %s", app.KeySource, app.Service.Keys().SigningKey(), k.ID())
	}
}

func TestKeyFileIsNotOverwritten(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, nil)
	keyFile := cfg.Store.Location + KeyFileSuffix
	k, err := token.GenerateKey(token.AlgES256)
	if err != nil {
		t.Fatal(err)
	}
	pemData, _ := k.MarshalPEM()
	if err := os.WriteFile(keyFile, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	app := openApp(t, cfg, &authtest.LogBuffer{})
	if app.KeySource != KeyLoaded || app.Service.Keys().SigningKey().ID() != k.ID() {
		t.Fatalf("existing key not used: %s %s", app.KeySource, app.Service.Keys().SigningKey())
	}
	after, _ := os.ReadFile(keyFile)
	if !bytes.Equal(after, pemData) {
		t.Fatal("key file rewritten")
	}
}

func TestBrokenKeyFileIsAnError(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, nil)
	if err := os.WriteFile(cfg.Store.Location+KeyFileSuffix, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "no PEM block") || !strings.Contains(err.Error(), "delete the file") {
		t.Fatalf("err = %v", err)
	}
}

func TestSigningKeyFromEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, block *pem.Block, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(block), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}

	t.Run("short HMAC refused", func(t *testing.T) {
		f := write("short.pem", &pem.Block{Type: "HMAC KEY", Bytes: []byte("0123456789abcdef")}, 0o600)
		cfg := testConfig(t, map[string]string{EnvSigningKey: f})
		_, err := Open(context.Background(), cfg, nil)
		if err == nil {
			t.Fatal("16-byte HMAC key accepted")
		}
		if !errors.Is(err, token.ErrInvalidKey) {
			t.Errorf("not a token.ErrInvalidKey: %v", err)
		}
		for _, w := range []string{"AUTHGUARD_SIGNING_KEY=" + f, "HMAC secret refused", "16 bytes is shorter than 32"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q lacks %q", err, w)
			}
		}
		if _, err := os.Stat(cfg.Store.Location + KeyFileSuffix); !errors.Is(err, os.ErrNotExist) {
			t.Error("a key file was generated although AUTHGUARD_SIGNING_KEY was set")
		}
	})

	t.Run("good HMAC used", func(t *testing.T) {
		k, err := token.GenerateKey(token.AlgHS256)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := k.MarshalPEM()
		f := filepath.Join(dir, "hmac.pem")
		if err := os.WriteFile(f, data, 0o600); err != nil {
			t.Fatal(err)
		}
		app := openApp(t, testConfig(t, map[string]string{EnvSigningKey: f}), &authtest.LogBuffer{})
		if app.KeySource != KeyFromEnv || app.Service.Keys().SigningKey().Algorithm() != token.AlgHS256 {
			t.Fatalf("key %s %v", app.KeySource, app.Service.Keys().SigningKey())
		}
		tr := login(t, app, "admin@example.com", DefaultDemoPassword)
		if _, err := app.Service.Authenticate(context.Background(), tr.AccessToken); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("missing file", func(t *testing.T) {
		_, err := Open(context.Background(), testConfig(t, map[string]string{EnvSigningKey: filepath.Join(dir, "nope.pem")}), nil)
		if err == nil || !strings.Contains(err.Error(), "AUTHGUARD_SIGNING_KEY") || !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("readable by others warns", func(t *testing.T) {
		k, _ := token.GenerateKey(token.AlgEdDSA)
		data, _ := k.MarshalPEM()
		f := filepath.Join(dir, "open.pem")
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(f, 0o644); err != nil {
			t.Fatal(err)
		}
		var log authtest.LogBuffer
		openApp(t, testConfig(t, map[string]string{EnvSigningKey: f}), &log)
		if !strings.Contains(log.String(), "chmod 600") {
			t.Errorf("no warning for a world-readable key file: %s", log.String())
		}
	})
}

func TestDemoUsersCreatedOnce(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, nil)
	first, err := Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !first.DemoUsersCreated {
		t.Fatal("demo users not created on first start")
	}
	n, err := countUsers(context.Background(), first.store)
	if err != nil || n != 2 {
		t.Fatalf("users after first start: %d %v", n, err)
	}
	admin := login(t, first, "admin@example.com", DefaultDemoPassword)
	p, err := first.Service.Authenticate(context.Background(), admin.AccessToken)
	if err != nil || !p.HasRole("admin") || p.HasRole("user") {
		t.Fatalf("admin principal %+v %v", p, err)
	}
	first.Close()

	// A second start, even with another password, neither duplicates nor
	// changes the users.
	cfg.DemoPassword, cfg.DemoPasswordFromEnv = "another-password", true
	second := openApp(t, cfg, &authtest.LogBuffer{})
	if second.DemoUsersCreated {
		t.Fatal("demo users created again")
	}
	if n, err := countUsers(context.Background(), second.store); err != nil || n != 2 {
		t.Fatalf("users after second start: %d %v", n, err)
	}
	login(t, second, "user@example.com", DefaultDemoPassword)
}

func TestDemoPasswordFromEnv(t *testing.T) {
	t.Parallel()
	app := openApp(t, testConfig(t, map[string]string{EnvDemoPassword: "pa55-from-env"}), &authtest.LogBuffer{})
	login(t, app, "user@example.com", "pa55-from-env")
	if _, err := app.Service.Login(context.Background(), core.LoginInput{
		Email: "user@example.com", Password: DefaultDemoPassword, Client: core.ClientInfo{IP: "127.0.0.1"},
	}); !errors.Is(err, core.ErrInvalidGrant) {
		t.Fatalf("default password still works: %v", err)
	}
}

// startLine returns the decoded start line of a JSON log.
func startLine(t *testing.T, log string) map[string]any {
	t.Helper()
	for _, line := range strings.Split(log, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "authguard example server started" {
			return m
		}
	}
	t.Fatalf("no start line in %q", log)
	return nil
}

func TestStartLine(t *testing.T) {
	t.Parallel()
	t.Run("default password is printed as the default", func(t *testing.T) {
		var log authtest.LogBuffer
		app := openApp(t, testConfig(t, nil), &log)
		app.LogStart("127.0.0.1:8080", "chi")
		m := startLine(t, log.String())
		for k, want := range map[string]string{
			"router": "chi", "addr": "127.0.0.1:8080", "store_kind": "sqlite", "issuer": "http://127.0.0.1:8080",
			"audience": "authguard-demo", "demo_users": "created", "signing_key_source": KeyGenerated,
			"policy": PolicyInStore,
		} {
			if m[k] != want {
				t.Errorf("%s = %v, want %q", k, m[k], want)
			}
		}
		if !strings.HasPrefix(m["store"].(string), "sqlite:") {
			t.Errorf("store %v", m["store"])
		}
		if pw := m["demo_password"].(string); !strings.HasPrefix(pw, "demo-password (the default") {
			t.Errorf("demo_password %q", pw)
		}
		if strings.Count(log.String(), "\n") != 1 {
			t.Errorf("more than one line at start: %s", log.String())
		}
	})

	t.Run("password from the environment is never printed", func(t *testing.T) {
		var log authtest.LogBuffer
		app := openApp(t, testConfig(t, map[string]string{EnvDemoPassword: "Sup3r-secret-pw"}), &log)
		app.LogStart("127.0.0.1:8080", "gin")
		tr := login(t, app, "user@example.com", "Sup3r-secret-pw")
		if _, err := app.Service.Login(context.Background(), core.LoginInput{
			Email: "user@example.com", Password: "wrong-Sup3r-secret-pw", Client: core.ClientInfo{IP: "127.0.0.1"},
		}); err == nil {
			t.Fatal("wrong password accepted")
		}
		out := log.String()
		m := startLine(t, out)
		if pw := m["demo_password"].(string); !strings.Contains(pw, "not shown") {
			t.Errorf("demo_password %q", pw)
		}
		for _, secret := range []string{"Sup3r-secret-pw", tr.AccessToken, tr.RefreshToken} {
			if strings.Contains(out, secret) {
				t.Errorf("log shows a secret: %s", out)
			}
		}
		if strings.Contains(out, "demo-password") {
			t.Errorf("log names the default password although another is set: %s", out)
		}
	})

	t.Run("store credentials are redacted", func(t *testing.T) {
		var log authtest.LogBuffer
		app := openApp(t, testConfig(t, nil), &log)
		app.Config.Store = StoreSpec{Kind: StoreRedis, Location: "redis://:r3dis-pw@127.0.0.1:6379/0"}
		app.LogStart("127.0.0.1:8080", "fiber")
		if out := log.String(); strings.Contains(out, "r3dis-pw") || !strings.Contains(out, "redis://:xxxxx@127.0.0.1:6379/0") {
			t.Errorf("store not redacted: %s", out)
		}
	})
}

func TestMemoryStore(t *testing.T) {
	t.Parallel()
	var log authtest.LogBuffer
	cfg := testConfig(t, map[string]string{EnvStore: "memory:"})
	app := openApp(t, cfg, &log)
	if app.KeySource != KeyEphemeral || app.KeyFile != "" {
		t.Fatalf("memory store key %s %q", app.KeySource, app.KeyFile)
	}
	if !strings.Contains(log.String(), `"level":"WARN"`) || !strings.Contains(log.String(), "single instance only") ||
		!strings.Contains(log.String(), "forgotten on restart") {
		t.Fatalf("no loud warning: %s", log.String())
	}
	tr := login(t, app, "admin@example.com", DefaultDemoPassword)

	// A restart forgets everything, the key included.
	other := openApp(t, cfg, &authtest.LogBuffer{})
	if other.Service.Keys().SigningKey().ID() == app.Service.Keys().SigningKey().ID() {
		t.Fatal("memory store kept its key")
	}
	if _, err := other.Service.Authenticate(context.Background(), tr.AccessToken); !errors.Is(err, core.ErrInvalidToken) {
		t.Fatalf("token survived a memory restart: %v", err)
	}
}

func TestCoreRefusesLeewayOverSixtySeconds(t *testing.T) {
	t.Parallel()
	// LoadConfig refuses it first; a Config built by hand meets the core's check.
	cfg := testConfig(t, nil)
	cfg.Leeway = 61 * time.Second
	_, err := Open(context.Background(), cfg, nil)
	if err == nil || !errors.Is(err, core.ErrConfig) || !strings.Contains(err.Error(), "Leeway 1m1s is over 1m0s") {
		t.Fatalf("err = %v", err)
	}
}

func TestCloseTwice(t *testing.T) {
	t.Parallel()
	app, err := Open(context.Background(), testConfig(t, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}
}
