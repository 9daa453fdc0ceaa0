package goclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ErrUnsafeTokenFile matches the error of a FileStore that refuses its file:
// the file is readable or writable by the group or others, is not a regular
// file (a symlink, a directory, a FIFO), or is owned by another user. The
// file is not read; fix it (chmod 600, or remove it and log in again).
var ErrUnsafeTokenFile = errors.New("goclient: unsafe token file")

// ErrMalformedTokenFile matches the error of a FileStore whose file is not a
// token file it wrote: not JSON, an unknown version or field, a token with
// characters no token has, or larger than MaxTokenFileSize.
var ErrMalformedTokenFile = errors.New("goclient: malformed token file")

// MaxTokenFileSize bounds what a FileStore reads of its file.
const MaxTokenFileSize = 64 << 10

// tokenFileVersion is the format version a FileStore writes and accepts.
const tokenFileVersion = 1

// maxTokenLen bounds each token string of a token file.
const maxTokenLen = 16 << 10

// FileStore is a TokenStore that keeps the tokens in one JSON file, so a
// session survives a restart of the program. It is the store for command
// line tools and services; a mobile app uses the platform keystore instead
// (see TokenStore).
//
// The file is written with mode 0600 and atomically: into a temporary file
// in the same directory, synced, renamed over the file, and the directory
// synced, so a crash leaves the old file or the new one, never a torn one. A
// missing directory is created with mode 0700. Load refuses (with
// ErrUnsafeTokenFile) a file that the group or others may read or write,
// that is not a regular file, or that another user owns, and (with
// ErrMalformedTokenFile) content it did not write. Errors name the file and
// the reason, never a token.
//
// A FileStore is safe for concurrent use. Two processes sharing one file
// each see a whole file, the last Save wins; give each its own file.
type FileStore struct {
	path string
	mu   sync.Mutex
}

// NewFileStore returns a FileStore over the file at path, for example
// filepath.Join(os.UserConfigDir(), "myapp", "tokens.json"). The file need
// not exist yet.
func NewFileStore(path string) (*FileStore, error) {
	if path == "" {
		return nil, errors.New("goclient: NewFileStore: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("goclient: NewFileStore: %w", err)
	}
	return &FileStore{path: abs}, nil
}

// Path returns the absolute path of the file.
func (s *FileStore) Path() string { return s.path }

// Load reads the file; the zero Tokens when it does not exist.
func (s *FileStore) Load(ctx context.Context) (Tokens, error) {
	if err := ctx.Err(); err != nil {
		return Tokens{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.read()
	if errors.Is(err, fs.ErrNotExist) {
		return Tokens{}, nil
	}
	if err != nil {
		return Tokens{}, err
	}
	t, err := parseTokenFile(b)
	if err != nil {
		return Tokens{}, fmt.Errorf("goclient: token file %s: %w", s.path, err)
	}
	return t, nil
}

// read checks the file and returns its content.
func (s *FileStore) read() ([]byte, error) {
	fi, err := os.Lstat(s.path)
	if err != nil {
		return nil, err
	}
	if err := s.check(fi); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(s.path, os.O_RDONLY|openNoFollow, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The file checked is the file opened: nobody swapped it in between.
	ofi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !os.SameFile(fi, ofi) {
		return nil, fmt.Errorf("goclient: token file %s: %w: replaced while being opened", s.path, ErrUnsafeTokenFile)
	}
	if err := s.check(ofi); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxTokenFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxTokenFileSize {
		return nil, fmt.Errorf("goclient: token file %s: %w: larger than %d bytes", s.path, ErrMalformedTokenFile, MaxTokenFileSize)
	}
	return b, nil
}

// check refuses a file that is not private to this user.
func (s *FileStore) check(fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("goclient: token file %s: %w: not a regular file (%s)", s.path, ErrUnsafeTokenFile, fi.Mode().Type())
	}
	if err := checkPrivate(fi); err != nil {
		return fmt.Errorf("goclient: token file %s: %w: %w", s.path, ErrUnsafeTokenFile, err)
	}
	return nil
}

// Save replaces the file with t, atomically, with mode 0600.
func (s *FileStore) Save(ctx context.Context, t Tokens) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := formatTokenFile(t)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("goclient: token file %s: %w", s.path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(s.path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("goclient: token file %s: %w", s.path, err)
	}
	tmp := f.Name()
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(b)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, s.path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("goclient: token file %s: %w", s.path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("goclient: token file %s: syncing its directory: %w", s.path, err)
	}
	return nil
}

// Clear removes the file; nil when there is none.
func (s *FileStore) Clear(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.Remove(s.path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("goclient: token file %s: %w", s.path, err)
	}
	if err := syncDir(filepath.Dir(s.path)); err != nil {
		return fmt.Errorf("goclient: token file %s: syncing its directory: %w", s.path, err)
	}
	return nil
}

// tokenFile is the content of a token file.
type tokenFile struct {
	Version         int       `json:"version"`
	AccessToken     string    `json:"accessToken,omitempty"`
	RefreshToken    string    `json:"refreshToken,omitempty"`
	SessionID       string    `json:"sessionId,omitempty"`
	AccessIssuedAt  time.Time `json:"accessIssuedAt,omitzero"`
	AccessExpiresAt time.Time `json:"accessExpiresAt,omitzero"`
}

// formatTokenFile is the content of a token file holding t.
func formatTokenFile(t Tokens) ([]byte, error) {
	if err := validTokens(t); err != nil {
		return nil, fmt.Errorf("goclient: saving tokens: %w", err)
	}
	b, err := json.Marshal(tokenFile{
		Version:         tokenFileVersion,
		AccessToken:     t.AccessToken,
		RefreshToken:    t.RefreshToken,
		SessionID:       t.SessionID,
		AccessIssuedAt:  t.AccessIssuedAt.Round(0),
		AccessExpiresAt: t.AccessExpiresAt.Round(0),
	})
	if err != nil {
		return nil, fmt.Errorf("goclient: saving tokens: %w", err)
	}
	return append(b, '\n'), nil
}

// parseTokenFile reads the content of a token file. The content is
// untrusted: anything but a token file of this version is refused with
// ErrMalformedTokenFile, and the error never quotes the content.
func parseTokenFile(b []byte) (Tokens, error) {
	if len(b) > MaxTokenFileSize {
		return Tokens{}, fmt.Errorf("%w: larger than %d bytes", ErrMalformedTokenFile, MaxTokenFileSize)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f tokenFile
	if err := dec.Decode(&f); err != nil {
		return Tokens{}, fmt.Errorf("%w: not the JSON of a token file (at byte %d)", ErrMalformedTokenFile, dec.InputOffset())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Tokens{}, fmt.Errorf("%w: data after the JSON object", ErrMalformedTokenFile)
	}
	if f.Version != tokenFileVersion {
		return Tokens{}, fmt.Errorf("%w: version %d, want %d", ErrMalformedTokenFile, f.Version, tokenFileVersion)
	}
	t := Tokens{
		AccessToken:     f.AccessToken,
		RefreshToken:    f.RefreshToken,
		SessionID:       f.SessionID,
		AccessIssuedAt:  f.AccessIssuedAt,
		AccessExpiresAt: f.AccessExpiresAt,
	}
	if err := validTokens(t); err != nil {
		return Tokens{}, fmt.Errorf("%w: %w", ErrMalformedTokenFile, err)
	}
	return t, nil
}

// validTokens checks what a token file may hold: a session (some token),
// tokens and a session id of visible ASCII (a token goes into a header), and
// an issue time not after the expiry.
func validTokens(t Tokens) error {
	if t.AccessToken == "" && t.RefreshToken == "" {
		return errors.New("no token")
	}
	for _, f := range []struct{ name, v string }{
		{"accessToken", t.AccessToken}, {"refreshToken", t.RefreshToken}, {"sessionId", t.SessionID},
	} {
		if len(f.v) > maxTokenLen {
			return fmt.Errorf("%s longer than %d bytes", f.name, maxTokenLen)
		}
		for i := 0; i < len(f.v); i++ {
			if c := f.v[i]; c < 0x21 || c > 0x7e {
				return fmt.Errorf("%s holds a byte that is not visible ASCII at offset %d", f.name, i)
			}
		}
	}
	if !t.AccessIssuedAt.IsZero() && !t.AccessExpiresAt.IsZero() && t.AccessIssuedAt.After(t.AccessExpiresAt) {
		return errors.New("accessIssuedAt after accessExpiresAt")
	}
	return nil
}
