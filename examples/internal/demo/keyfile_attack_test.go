package demo

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/token"
)

// plantKey writes a PEM key at path with mode and returns it.
func plantKey(t *testing.T, path string, mode os.FileMode) *token.Key {
	t.Helper()
	k, err := token.GenerateKey(token.AlgEdDSA)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := k.MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return k
}

func tryOpen(t *testing.T, cfg Config) (*App, error) {
	t.Helper()
	app, err := Open(context.Background(), cfg, NewLogger(&authtest.LogBuffer{}, true))
	if err == nil {
		t.Cleanup(func() { _ = app.Close() })
	}
	return app, err
}

// A dangling symlink at the key path (planted to make the generated key land
// elsewhere) is never written through: the start fails, the link's target
// is not created.
func TestAttackKeyFileDanglingSymlink(t *testing.T) {
	cfg := testConfig(t, nil)
	keyFile := cfg.Store.Location + KeyFileSuffix
	target := filepath.Join(t.TempDir(), "elsewhere.pem")
	if err := os.Symlink(target, keyFile); err != nil {
		t.Fatal(err)
	}
	if _, err := tryOpen(t, cfg); err == nil {
		t.Fatal("started with a dangling symlink at the key path")
	}
	if _, err := os.Lstat(target); err == nil {
		t.Fatal("the key was written through the symlink")
	}
	if leftovers, _ := filepath.Glob(keyFile + ".tmp-*"); len(leftovers) > 0 {
		t.Fatalf("temporary key files left behind: %v", leftovers)
	}
}

// A temporary file left by a start that crashed does not stop the next
// start, which generates and keeps its own key.
func TestAttackKeyFileStaleTemp(t *testing.T) {
	cfg := testConfig(t, nil)
	keyFile := cfg.Store.Location + KeyFileSuffix
	plantKey(t, keyFile+".tmp-123456", 0o600)
	app, err := tryOpen(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if app.KeySource != KeyGenerated {
		t.Fatalf("key %s, want generated", app.KeySource)
	}
}

// The key kept next to the store is found, not configured: a key file
// there that other users can read (planted by another user in a shared
// directory, or left 0644 by a copy) lets them sign any token. It is
// used with a warning only. FAILS until a key file readable by group or
// others (or a symlink, or a file owned by another user) at the generated
// key path is refused, as ssh refuses an unprotected private key.
func TestAttackKeyFileReadableByOthers(t *testing.T) {
	cfg := testConfig(t, nil)
	keyFile := cfg.Store.Location + KeyFileSuffix
	planted := plantKey(t, keyFile, 0o644)
	app, err := tryOpen(t, cfg)
	if err != nil {
		return // refused: held
	}
	if app.Service.Keys().SigningKey().ID() == planted.ID() {
		t.Fatalf("a world-readable key file at %s is used as the signing key (%s)", keyFile, app.KeySource)
	}
}

// A symlink at the key path to a key elsewhere (another user's, a world-
// readable one) is followed and used. FAILS with the test above.
func TestAttackKeyFileSymlinkToForeignKey(t *testing.T) {
	cfg := testConfig(t, nil)
	keyFile := cfg.Store.Location + KeyFileSuffix
	foreign := filepath.Join(t.TempDir(), "foreign.pem")
	planted := plantKey(t, foreign, 0o644)
	if err := os.Symlink(foreign, keyFile); err != nil {
		t.Fatal(err)
	}
	app, err := tryOpen(t, cfg)
	if err != nil {
		return // refused: held
	}
	if app.Service.Keys().SigningKey().ID() == planted.ID() {
		t.Fatalf("the key behind a symlink at %s, readable by others, is used as the signing key", keyFile)
	}
}

// A FIFO at the key path: the start must fail or go on, not block forever
// on opening it. FAILS: readKeyFile opens it (blocking until a writer comes)
// before looking at what it is; a regular-file check (Lstat, or opening
// with O_NONBLOCK and checking Stat().Mode().IsRegular()) would refuse it.
func TestAttackKeyFileFIFO(t *testing.T) {
	cfg := testConfig(t, nil)
	keyFile := cfg.Store.Location + KeyFileSuffix
	if err := syscall.Mkfifo(keyFile, 0o600); err != nil {
		t.Skip(err)
	}
	done := make(chan error, 1)
	go func() { _, err := tryOpen(t, cfg); done <- err }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		// Unblock every retry of the start (each opens the FIFO again) so
		// the test ends.
		for stop := false; !stop; {
			if w, err := os.OpenFile(keyFile, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				_ = w.Close()
			}
			select {
			case <-done:
				stop = true
			case <-time.After(10 * time.Millisecond):
			}
		}
		t.Fatal("the start blocked opening a FIFO at the key path")
	}
}

// A directory that is not writable: a clear error, no key elsewhere.
func TestAttackKeyFileDirNotWritable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes anywhere")
	}
	cfg := testConfig(t, nil)
	dir := filepath.Dir(cfg.Store.Location)
	if _, err := tryOpen(t, cfg); err != nil { // creates the database
		t.Fatal(err)
	}
	_ = os.Remove(cfg.Store.Location + KeyFileSuffix)
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	_, err := tryOpen(t, cfg)
	if err == nil || !strings.Contains(err.Error(), "signing key") {
		t.Fatalf("start in a read-only directory: %v, want an error about the signing key file", err)
	}
}

// A refused key file next to the store says what to do, and is refused at
// once (not retried as a file another instance is still writing).
func TestAttackKeyFileRefusalSaysWhatToDo(t *testing.T) {
	cfg := testConfig(t, nil)
	keyFile := cfg.Store.Location + KeyFileSuffix
	plantKey(t, keyFile, 0o640)
	_, err := tryOpen(t, cfg)
	if err == nil {
		t.Fatal("started with a group-readable key file")
	}
	for _, w := range []string{keyFile, "chmod 600", "delete it", "stop working"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	t.Log(err)
	// The key loading alone (no store to open) must not wait for the file
	// as it would for one another instance is still writing: that wait is
	// keyCreateRetries pauses of 25 ms.
	a := &App{Config: cfg, Logger: NewLogger(&authtest.LogBuffer{}, true)}
	start := time.Now()
	if _, err := a.signingKey(keyFile); err == nil {
		t.Fatal("signingKey accepted a group-readable key file")
	}
	if d, retried := time.Since(start), time.Duration(keyCreateRetries)*25*time.Millisecond; d >= retried {
		t.Errorf("refusal took %s, as long as the retries (%s): retried", d, retried)
	}
}

// A key file next to the store owned by another user is refused even with
// mode 0600 (only root can plant one to test it).
func TestAttackKeyFileOwnedByOther(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown")
	}
	cfg := testConfig(t, nil)
	keyFile := cfg.Store.Location + KeyFileSuffix
	plantKey(t, keyFile, 0o600)
	if err := os.Chown(keyFile, 65534, 65534); err != nil {
		t.Skip(err)
	}
	_, err := tryOpen(t, cfg)
	if err == nil || !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Fatalf("err = %v, want a refusal of another user's key file", err)
	}
	t.Log(err)
}

// AUTHGUARD_SIGNING_KEY may be a symbolic link, but a FIFO is refused
// without blocking.
func TestAttackEnvKeyFileFIFOAndSymlink(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.pem")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	done := make(chan error, 1)
	go func() { _, err := tryOpen(t, testConfig(t, map[string]string{EnvSigningKey: fifo})); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("FIFO as %s: %v", EnvSigningKey, err)
		}
	case <-time.After(5 * time.Second):
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			_ = w.Close()
		}
		<-done
		t.Fatal("the start blocked opening a FIFO named by " + EnvSigningKey)
	}

	target := filepath.Join(dir, "target.pem")
	k := plantKey(t, target, 0o600)
	link := filepath.Join(dir, "link.pem")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	app, err := tryOpen(t, testConfig(t, map[string]string{EnvSigningKey: link}))
	if err != nil {
		t.Fatal(err)
	}
	if app.KeySource != KeyFromEnv || app.Service.Keys().SigningKey().ID() != k.ID() {
		t.Fatalf("key %s %s, want %s", app.KeySource, app.Service.Keys().SigningKey(), k.ID())
	}
}
