package goclient

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authguard/authguard/examples/internal/demo"
)

// fileClient is a client of s over a FileStore at path, as a program that
// starts would open it.
func fileClient(t *testing.T, s *server, path string, rt http.RoundTripper, opts ...Option) (*Client, *FileStore) {
	t.Helper()
	st, err := NewFileStore(path)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: rt}
	c, err := New(s.URL, append([]Option{WithHTTPClient(hc), WithTokenStore(st)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, st
}

func sameTokens(a, b Tokens) bool {
	return a.AccessToken == b.AccessToken && a.RefreshToken == b.RefreshToken && a.SessionID == b.SessionID &&
		a.AccessExpiresAt.Equal(b.AccessExpiresAt) && a.AccessIssuedAt.Equal(b.AccessIssuedAt)
}

func TestFileStoreSurvivesRestart(t *testing.T) {
	s := newServer(t)
	path := filepath.Join(t.TempDir(), "app", "tokens.json") // the directory does not exist yet
	c1, _ := fileClient(t, s, path, nil)
	login(t, c1)
	before, _ := c1.Tokens(context.Background())

	// The program restarts: a new client over the same file.
	c2, _ := fileClient(t, s, path, nil)
	after, err := c2.Tokens(context.Background())
	if err != nil || !sameTokens(before, after) {
		t.Fatalf("after restart: %+v, %v; want %+v", after, err, before)
	}
	status, _, err := get(t, c2, s, demo.PathProfile)
	if err != nil || status != 200 || s.refreshes.Load() != 0 {
		t.Fatalf("profile after restart: %d %v, %d refreshes", status, err, s.refreshes.Load())
	}
	// A refresh by the new client is saved for the next start.
	if err := c2.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	c3, _ := fileClient(t, s, path, nil)
	got, _ := c3.Tokens(context.Background())
	if got.RefreshToken == before.RefreshToken || got.SessionID != before.SessionID {
		t.Fatalf("rotated tokens not saved: %+v", got)
	}
	if err := c3.Logout(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("token file after logout: %v", err)
	}
}

func TestFileStoreWritesPrivateFileAtomically(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "app")
	path := filepath.Join(dir, "tokens.json")
	st, err := NewFileStore(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tok := Tokens{AccessToken: "a.b.c", RefreshToken: "r1", SessionID: "s1",
		AccessIssuedAt: time.Unix(1000, 0), AccessExpiresAt: time.Unix(1600, 0)}
	for i, rt := range []string{"r1", "r2", "r3"} {
		tok.RefreshToken = rt
		if err := st.Save(ctx, tok); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(path)
		if err != nil || fi.Mode() != 0o600 {
			t.Fatalf("save %d: mode %v, %v; want -rw-------", i, fi.Mode(), err)
		}
		got, err := st.Load(ctx)
		if err != nil || !sameTokens(got, tok) {
			t.Fatalf("save %d: loaded %+v, %v", i, got, err)
		}
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Fatalf("created directory mode %v, want 0700", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries (a temporary file left behind?), want 1", len(entries))
	}
	// A file that was 0600 but held something else is replaced whole.
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load(ctx); !errors.Is(err, ErrMalformedTokenFile) {
		t.Fatalf("load of garbage: %v", err)
	}
	if err := st.Save(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := st.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Load(ctx); err != nil || got != (Tokens{}) {
		t.Fatalf("after Clear: %+v, %v", got, err)
	}
	if err := st.Clear(ctx); err != nil {
		t.Fatalf("second Clear: %v", err)
	}
	if err := st.Save(ctx, Tokens{RefreshToken: "bad\ntoken"}); err == nil || strings.Contains(err.Error(), "bad") {
		t.Fatalf("save of a token with a newline: %v", err)
	}
}

// tokenFileCases are token files, good and bad; the fuzz target starts
// from them.
var tokenFileCases = []struct {
	name, in string
	ok       bool
}{
	{"full", `{"version":1,"accessToken":"a.b.c","refreshToken":"r","sessionId":"s","accessIssuedAt":"2026-01-02T03:04:05Z","accessExpiresAt":"2026-01-02T03:14:05Z"}`, true},
	{"refresh token only", `{"version":1,"refreshToken":"r"}`, true},
	{"access token only", `{"version":1,"accessToken":"a"}` + "\n", true},
	{"offset time", `{"version":1,"refreshToken":"r","accessExpiresAt":"2026-01-02T03:14:05.123456789+02:00"}`, true},
	{"empty", ``, false},
	{"null", `null`, false},
	{"array", `[]`, false},
	{"no token", `{"version":1}`, false},
	{"no version", `{"refreshToken":"r"}`, false},
	{"future version", `{"version":2,"refreshToken":"r"}`, false},
	{"unknown field", `{"version":1,"refreshToken":"r","extra":1}`, false},
	{"trailing data", `{"version":1,"refreshToken":"r"}{}`, false},
	{"trailing garbage", `{"version":1,"refreshToken":"r"} x`, false},
	{"token with newline", `{"version":1,"refreshToken":"r\nX-Evil: 1"}`, false},
	{"token with space", `{"version":1,"accessToken":"a b","refreshToken":"r"}`, false},
	{"token with NUL", `{"version":1,"refreshToken":"r\u0000"}`, false},
	{"non-ASCII token", `{"version":1,"refreshToken":"rä"}`, false},
	{"number token", `{"version":1,"refreshToken":5}`, false},
	{"bad time", `{"version":1,"refreshToken":"r","accessExpiresAt":"yesterday"}`, false},
	{"issued after expiry", `{"version":1,"refreshToken":"r","accessIssuedAt":"2026-01-02T03:14:06Z","accessExpiresAt":"2026-01-02T03:14:05Z"}`, false},
	{"long token", `{"version":1,"refreshToken":"` + strings.Repeat("r", maxTokenLen+1) + `"}`, false},
	{"too large", `{"version":1,"refreshToken":"r"}` + strings.Repeat(" ", MaxTokenFileSize), false},
	{"truncated", `{"version":1,"refreshToken":"r`, false},
}

func TestParseTokenFile(t *testing.T) {
	for _, tc := range tokenFileCases {
		got, err := parseTokenFile([]byte(tc.in))
		if tc.ok != (err == nil) {
			t.Errorf("%s: %+v, %v; want ok=%v", tc.name, got, err, tc.ok)
			continue
		}
		if err != nil && (!errors.Is(err, ErrMalformedTokenFile) || strings.Contains(err.Error(), "X-Evil")) {
			t.Errorf("%s: error %q", tc.name, err)
		}
	}
}

// FuzzParseTokenFile: whatever the file holds, the parser does not panic;
// what it accepts has visible-ASCII tokens and survives a save and a load
// unchanged.
func FuzzParseTokenFile(f *testing.F) {
	for _, tc := range tokenFileCases {
		if len(tc.in) < 4096 {
			f.Add([]byte(tc.in))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, err := parseTokenFile(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedTokenFile) {
				t.Fatalf("error %v does not match ErrMalformedTokenFile", err)
			}
			return
		}
		if tok.AccessToken == "" && tok.RefreshToken == "" {
			t.Fatal("accepted a file without a token")
		}
		for _, s := range []string{tok.AccessToken, tok.RefreshToken, tok.SessionID} {
			for i := 0; i < len(s); i++ {
				if s[i] < 0x21 || s[i] > 0x7e {
					t.Fatalf("accepted byte %#x in a token", s[i])
				}
			}
		}
		out, err := formatTokenFile(tok)
		if err != nil {
			t.Fatalf("cannot save what was loaded: %v", err)
		}
		again, err := parseTokenFile(out)
		if err != nil || !sameTokens(tok, again) {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, tok)
		}
	})
}
