package goclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	chiauth "github.com/authguard/authguard/adapters/chi"
	"github.com/authguard/authguard/core/httpauth"
	"github.com/authguard/authguard/examples/internal/demo"
	"github.com/authguard/authguard/examples/internal/demotest"
	"github.com/go-chi/chi/v5"
)

// server is the chi example's token endpoints and a guarded profile over a
// real demo App, counting the refresh requests that reach it.
type server struct {
	*httptest.Server
	refreshes atomic.Int64
	// refreshDelay holds each refresh request this long before handling it,
	// so that concurrent callers overlap with it.
	refreshDelay atomic.Int64
}

func newServer(t *testing.T) *server {
	t.Helper()
	app := demotest.OpenApp(t)
	svc := app.Service
	r := chi.NewRouter()
	chiauth.Mount(r, svc)
	r.With(chiauth.Require(svc)).Get(demo.PathProfile, func(w http.ResponseWriter, r *http.Request) {
		p, _ := chiauth.PrincipalFrom(r.Context())
		httpauth.Write(w, demo.Profile(p))
	})
	// A guarded POST that echoes its body, for replay on retry.
	r.With(chiauth.Require(svc)).Post("/api/echo", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(w, r.Body)
	})
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/auth/refresh" {
			s.refreshes.Add(1)
			time.Sleep(time.Duration(s.refreshDelay.Load()))
		}
		r.ServeHTTP(w, req)
	}))
	t.Cleanup(s.Close)
	return s
}

// flaky fails the requests to the paths in down with a transport error, or
// answers them with status when status is set.
type flaky struct {
	hits   atomic.Int64 // requests failed
	mu     sync.Mutex
	down   map[string]bool
	status int
}

func (f *flaky) set(status int, paths ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = map[string]bool{}
	for _, p := range paths {
		f.down[p] = true
	}
	f.status = status
}

func (f *flaky) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	down, status := f.down[req.URL.Path], f.status
	f.mu.Unlock()
	if !down {
		return http.DefaultTransport.RoundTrip(req)
	}
	f.hits.Add(1)
	if req.Body != nil {
		req.Body.Close()
	}
	if status == 0 {
		return nil, errors.New("dial tcp: connection refused")
	}
	body := `{"error":"temporarily_unavailable","error_description":"try again later"}`
	return &http.Response{
		StatusCode: status, Request: req, ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}, "Retry-After": {"3"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
	}, nil
}

func newClient(t *testing.T, s *server, rt http.RoundTripper) (*Client, *MemoryStore) {
	t.Helper()
	st := &MemoryStore{}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: rt}
	c, err := New(s.URL, WithHTTPClient(hc), WithTokenStore(st))
	if err != nil {
		t.Fatal(err)
	}
	return c, st
}

func login(t *testing.T, c *Client) {
	t.Helper()
	if err := c.Login(context.Background(), "user@example.com", demo.DefaultDemoPassword, "goclient test"); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, c *Client, s *server, path string) (int, string, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// profileOK gets the demo profile through c and returns an error unless
// the answer is 200.
func profileOK(c *Client, s *server) error {
	req, err := http.NewRequest(http.MethodGet, s.URL+demo.PathProfile, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return errors.New(resp.Status)
	}
	return nil
}

// tamper replaces the access token in the store by one the server refuses,
// with a new client over the same store (as an app restart would).
func tamper(t *testing.T, s *server, st TokenStore, rt http.RoundTripper) *Client {
	t.Helper()
	tok, _ := st.Load(context.Background())
	tok.AccessToken = tok.AccessToken[:len(tok.AccessToken)-4] + "AAAA"
	_ = st.Save(context.Background(), tok)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: rt}
	c, err := New(s.URL, WithHTTPClient(hc), WithTokenStore(st))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLoginAndProfile(t *testing.T) {
	s := newServer(t)
	c, st := newClient(t, s, nil)
	if _, _, err := get(t, c, s, demo.PathProfile); !errors.Is(err, ErrLoggedOut) {
		t.Fatalf("Do before login: %v, want ErrLoggedOut", err)
	}
	err := c.Login(context.Background(), "user@example.com", "wrong", "")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != "invalid_grant" {
		t.Fatalf("bad password: %v", err)
	}
	login(t, c)
	tok, _ := st.Load(context.Background())
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.SessionID == "" ||
		time.Until(tok.AccessExpiresAt) < 9*time.Minute {
		t.Fatalf("saved tokens %+v", tok)
	}
	status, body, err := get(t, c, s, demo.PathProfile)
	if err != nil || status != 200 || !strings.Contains(body, `"roles":["user"]`) {
		t.Fatalf("profile: %d %s %v", status, body, err)
	}
	if n := s.refreshes.Load(); n != 0 {
		t.Fatalf("%d refreshes, want 0", n)
	}
}

func TestConcurrentRefreshIsSingleFlight(t *testing.T) {
	s := newServer(t)
	c0, st := newClient(t, s, nil)
	login(t, c0)
	before, _ := st.Load(context.Background())
	c := tamper(t, s, st, nil)

	const n = 20
	var ready, wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	ready.Add(n)
	for range n {
		wg.Go(func() {
			ready.Done()
			<-start
			if err := profileOK(c, s); err != nil {
				errs <- err
			}
		})
	}
	ready.Wait()
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := s.refreshes.Load(); got != 1 {
		t.Fatalf("%d refresh requests reached the server, want exactly 1", got)
	}
	after, _ := st.Load(context.Background())
	if after.RefreshToken == before.RefreshToken || after.SessionID != before.SessionID {
		t.Fatalf("tokens not rotated: %+v", after)
	}
}

func TestProactiveRefresh(t *testing.T) {
	s := newServer(t)
	c0, st := newClient(t, s, nil)
	login(t, c0)
	age(t, st, 10*time.Minute, 10*time.Second) // within the default 30s margin
	c, _ := New(s.URL, WithTokenStore(st))
	status, _, err := get(t, c, s, demo.PathProfile)
	if err != nil || status != 200 || s.refreshes.Load() != 1 {
		t.Fatalf("profile %d %v, %d refreshes", status, err, s.refreshes.Load())
	}
	if after, _ := st.Load(context.Background()); time.Until(after.AccessExpiresAt) < 9*time.Minute {
		t.Fatalf("not refreshed: %+v", after)
	}
}

func TestReplayBody(t *testing.T) {
	s := newServer(t)
	c0, st := newClient(t, s, nil)
	login(t, c0)
	c := tamper(t, s, st, nil)

	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/echo", strings.NewReader("hello"))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "hello" || s.refreshes.Load() != 1 {
		t.Fatalf("replayed POST: %d %q, %d refreshes", resp.StatusCode, b, s.refreshes.Load())
	}

	// A body that cannot be replayed: the 401 comes back, no refresh.
	c = tamper(t, s, st, nil)
	req, _ = http.NewRequest(http.MethodPost, s.URL+"/api/echo", io.MultiReader(bytes.NewReader([]byte("x"))))
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || s.refreshes.Load() != 1 {
		t.Fatalf("unreplayable POST: %d, %d refreshes", resp.StatusCode, s.refreshes.Load())
	}
}

func TestRefreshDuringOutageKeepsSession(t *testing.T) {
	s := newServer(t)
	f := &flaky{}
	c0, st := newClient(t, s, f)
	login(t, c0)
	c := tamper(t, s, st, f)
	kept, _ := st.Load(context.Background())

	for _, status := range []int{0, 503, 429} {
		f.set(status, "/auth/refresh")
		_, _, err := get(t, c, s, demo.PathProfile)
		var te *TemporaryError
		if !errors.Is(err, ErrTemporary) || !errors.As(err, &te) || errors.Is(err, ErrLoggedOut) {
			t.Fatalf("status %d: %v, want a TemporaryError", status, err)
		}
		var ae *APIError
		if status != 0 && (!errors.As(err, &ae) || ae.Status != status || te.RetryAfter != 3*time.Second) {
			t.Fatalf("status %d: cause %v, retry after %v", status, te.Err, te.RetryAfter)
		}
		if got, _ := st.Load(context.Background()); got != kept {
			t.Fatalf("status %d: tokens changed: %+v", status, got)
		}
	}

	f.set(0)
	status, _, err := get(t, c, s, demo.PathProfile)
	if err != nil || status != 200 {
		t.Fatalf("after the outage: %d %v", status, err)
	}
	if got, _ := st.Load(context.Background()); got.RefreshToken == kept.RefreshToken {
		t.Fatal("refresh token not rotated after the outage")
	}
}

func TestRevokedSessionLogsOut(t *testing.T) {
	s := newServer(t)
	c, st := newClient(t, s, nil)
	login(t, c)
	tok, _ := st.Load(context.Background())

	// Another client logs out with the same refresh token.
	other, err := New(s.URL, WithTokenStore(&MemoryStore{}))
	if err != nil {
		t.Fatal(err)
	}
	_ = other.store.Save(context.Background(), tok)
	if err := other.Logout(context.Background()); err != nil {
		t.Fatal(err)
	}

	_, _, err = get(t, c, s, demo.PathProfile)
	var ae *APIError
	if !errors.Is(err, ErrLoggedOut) || errors.Is(err, ErrTemporary) || !errors.As(err, &ae) || ae.Code != "invalid_grant" {
		t.Fatalf("after revocation: %v, want ErrLoggedOut", err)
	}
	if got, _ := st.Load(context.Background()); got != (Tokens{}) {
		t.Fatalf("store not cleared: %+v", got)
	}
	if _, _, err := get(t, c, s, demo.PathProfile); !errors.Is(err, ErrLoggedOut) {
		t.Fatalf("second Do: %v", err)
	}
}

func TestLogout(t *testing.T) {
	s := newServer(t)
	f := &flaky{}
	c, st := newClient(t, s, f)
	login(t, c)
	kept, _ := st.Load(context.Background())

	for _, status := range []int{0, 503} {
		f.set(status, "/auth/logout")
		if err := c.Logout(context.Background()); !errors.Is(err, ErrTemporary) {
			t.Fatalf("logout during outage (%d): %v", status, err)
		}
		if got, _ := st.Load(context.Background()); got != kept {
			t.Fatalf("tokens not kept during outage: %+v", got)
		}
	}

	f.set(0)
	if err := c.Logout(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Load(context.Background()); got != (Tokens{}) {
		t.Fatalf("store not cleared: %+v", got)
	}
	// The session is over on the server too.
	r := &demotest.Client{T: t, Base: s.URL}
	if resp := r.Do("POST", "/auth/refresh", map[string]string{"refreshToken": kept.RefreshToken}); resp.Status != 400 {
		t.Fatalf("refresh after logout: %d", resp.Status)
	}
	if err := c.Logout(context.Background()); err != nil {
		t.Fatalf("logout without a session: %v", err)
	}
}
