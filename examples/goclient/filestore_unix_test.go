//go:build unix

package goclient

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestFileStoreRefusesUnsafeFile(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	const secret = "r-secret-token"
	content, _ := formatTokenFile(Tokens{AccessToken: "a-secret-token", RefreshToken: secret})
	write := func(name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, content, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return p
	}
	private := write("private.json", 0o600)
	cases := map[string]string{
		"mode 0644":   write("world.json", 0o644),
		"mode 0640":   write("group.json", 0o640),
		"mode 0602":   write("writable.json", 0o602),
		"a symlink":   filepath.Join(dir, "link.json"),
		"a directory": filepath.Join(dir, "dir.json"),
		"a FIFO":      filepath.Join(dir, "fifo.json"),
	}
	if err := os.Symlink(private, cases["a symlink"]); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(cases["a directory"], 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(cases["a FIFO"], 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 { // root can give a file away
		p := write("other-owner.json", 0o600)
		if err := os.Chown(p, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		cases["another owner"] = p
	} else {
		t.Log("not root: the other-owner case needs chown and is not run")
	}
	for name, p := range cases {
		st, err := NewFileStore(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.Load(ctx)
		if !errors.Is(err, ErrUnsafeTokenFile) || got != (Tokens{}) {
			t.Errorf("%s: %+v, %v; want ErrUnsafeTokenFile", name, got, err)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "secret") || !strings.Contains(msg, p) {
			t.Errorf("%s: error %q should name the file and no token", name, msg)
		}
		// A client over it sends nothing and does not take it for a logout.
		c, err := New("http://127.0.0.1:1", WithTokenStore(st))
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/api/profile", nil)
		if _, err := c.Do(req); !errors.Is(err, ErrUnsafeTokenFile) || errors.Is(err, ErrLoggedOut) {
			t.Errorf("%s: Do: %v", name, err)
		}
	}
	if fi, _ := os.Stat(cases["mode 0644"]); fi.Mode().Perm() != 0o644 {
		t.Fatal("a refused file was changed")
	}
	st, _ := NewFileStore(private)
	if got, err := st.Load(ctx); err != nil || got.RefreshToken != secret {
		t.Fatalf("private file: %+v, %v", got, err)
	}
}
