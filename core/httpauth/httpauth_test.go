package httpauth_test

import (
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/adaptertest"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/httpauth"
	"github.com/authguard/authguard/core/wire"
)

// newServer is the conformance server: adaptertest's net/http server of
// the demo routes, built on this package.
func newServer(svc *core.Service) http.Handler { return adaptertest.NetHTTPServer(svc) }

func recorderDo(h http.Handler) adaptertest.Do {
	return func(r *http.Request) (*http.Response, error) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Result(), nil
	}
}

func factory(t *testing.T, svc *core.Service) adaptertest.Do { return recorderDo(newServer(svc)) }

func TestConformance(t *testing.T) {
	adaptertest.Run(t, factory)
}

var update = flag.Bool("update", false, "rewrite the golden recording of adaptertest")

// TestGolden runs the deterministic cases through a real HTTP server and
// client and compares the bytes on the wire with adaptertest's golden
// recording, the reference every other adapter is compared with. With
// -update it rewrites that recording instead.
func TestGolden(t *testing.T) {
	got := adaptertest.Record(t, func(t *testing.T, svc *core.Service) adaptertest.Do {
		srv := httptest.NewServer(newServer(svc))
		t.Cleanup(srv.Close)
		client := srv.Client()
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return func(r *http.Request) (*http.Response, error) {
			r.RequestURI = ""
			r.URL.Scheme, r.URL.Host = "http", strings.TrimPrefix(srv.URL, "http://")
			return client.Do(r)
		}
	})
	if t.Failed() {
		return
	}
	if *update {
		b, err := adaptertest.EncodeGolden(got)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("../adaptertest/testdata/golden.json", b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if d := adaptertest.Diff(adaptertest.Golden(), got); d != "" {
		t.Errorf("the wire differs from adaptertest's golden recording (rerun with -update after an intended change):\n%s", d)
	}
}

func TestWriteKeepsHeaderOrderAndRepeats(t *testing.T) {
	w := httptest.NewRecorder()
	httpauth.Write(w, &wire.Response{Status: 201, Header: [][2]string{
		{"Set-Cookie", "a=1"}, {"Content-Type", "application/json"}, {"Set-Cookie", "b=2"},
	}, Body: []byte(`{}`)})
	res := w.Result()
	if res.StatusCode != 201 || strings.Join(res.Header.Values("Set-Cookie"), ",") != "a=1,b=2" || w.Body.String() != `{}` {
		t.Fatalf("got %d %v %q", res.StatusCode, res.Header, w.Body.String())
	}
}

func TestBodyLimit(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	h := httpauth.Login(f.Service)
	for _, tc := range []struct {
		name   string
		body   io.Reader
		length int64
		want   int
	}{
		{"declared too long", strings.NewReader("{}"), wire.MaxBodyBytes + 1, 413},
		// an unknown length (chunked) that turns out too long
		{"chunked too long", io.MultiReader(strings.NewReader(`{"email":"`), strings.NewReader(strings.Repeat("a", wire.MaxBodyBytes))), -1, 413},
	} {
		r := httptest.NewRequest("POST", "/auth/login", tc.body)
		r.Header.Set("Content-Type", "application/json")
		r.ContentLength = tc.length
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, w.Code, tc.want)
		}
	}
	// An outer http.MaxBytesReader that refuses first is also a 413.
	r := httptest.NewRequest("POST", "/auth/login", strings.NewReader(strings.Repeat(" ", 100)+"{}"))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	r.Body = http.MaxBytesReader(w, r.Body, 10)
	h.ServeHTTP(w, r)
	if w.Code != 413 {
		t.Errorf("outer MaxBytesReader: status %d, want 413", w.Code)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestBodyReadErrorIs400(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	r := httptest.NewRequest("POST", "/auth/login", errReader{})
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	httpauth.Login(f.Service).ServeHTTP(w, r)
	if w.Code != 400 {
		t.Fatalf("status %d, want 400", w.Code)
	}
}

// TestNestedGuardsReusePrincipal: RequireRole and RequirePermission inside
// Require reuse the outer principal (and still check the role/permission).
func TestNestedGuardsReusePrincipal(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	tr, err := f.Service.Login(context.Background(), core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	var seen *core.Principal
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen, _ = httpauth.PrincipalFrom(r.Context()) })
	var outer *core.Principal
	capture := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			outer, _ = httpauth.PrincipalFrom(r.Context())
			next.ServeHTTP(w, r)
		})
	}
	svc := f.Service
	for _, tc := range []struct {
		name  string
		guard func(http.Handler) http.Handler
		want  int
	}{
		{"role ok", httpauth.RequireRole(svc, "admin", "user"), 200},
		{"role missing", httpauth.RequireRole(svc, "admin"), 403},
		{"permission ok", httpauth.RequirePermission(svc, "reports", "read"), 200},
		{"permission denied", httpauth.RequirePermission(svc, "reports", "delete"), 403},
		{"optional", httpauth.Optional(svc), 200},
		{"require", httpauth.Require(svc), 200},
	} {
		seen, outer = nil, nil
		h := httpauth.Require(svc)(capture(tc.guard(inner)))
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tr.AccessToken)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, w.Code, tc.want)
		}
		if tc.want == 200 && (seen == nil || seen != outer) {
			t.Errorf("%s: the inner guard did not reuse the outer principal", tc.name)
		}
	}
}

func TestRevokeSessionCustomID(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	ctx := context.Background()
	a, _ := f.Service.Login(ctx, core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
	b, _ := f.Service.Login(ctx, core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
	h := httpauth.RevokeSession(f.Service, func(r *http.Request) string { return r.URL.Query().Get("sid") })
	r := httptest.NewRequest("DELETE", "/x?sid="+a.SessionID, nil)
	r.Header.Set("Authorization", "Bearer "+b.AccessToken)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 204 {
		t.Fatalf("status %d, want 204", w.Code)
	}
	if _, err := f.Service.Authenticate(ctx, a.AccessToken); !errors.Is(err, core.ErrInvalidToken) {
		t.Fatalf("revoked session still authenticates: %v", err)
	}
}

// The request view indexes the header map with the contract's canonical
// names, so it relies on net/http canonicalizing what arrives on the wire:
// header names in any case, sent over a real connection, still reach the
// guard, and a second Authorization line in another case is still two
// credentials.
func TestHeaderNamesInAnyCaseOverTheWire(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	tr, err := f.Service.Login(context.Background(), core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	h := httpauth.Require(f.Service)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := httpauth.PrincipalFrom(r.Context()); ok {
			_, _ = io.WriteString(w, "ok")
		}
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	for _, tc := range []struct{ headers, want string }{
		{"authorization: Bearer " + tr.AccessToken, "200 text/plain; charset=utf-8 ok"},
		{"AUTHORIZATION: Bearer " + tr.AccessToken, "200 text/plain; charset=utf-8 ok"},
		{"aUtHoRiZaTiOn: bearer " + tr.AccessToken, "200 text/plain; charset=utf-8 ok"},
		{"authorization: Bearer " + tr.AccessToken + "\r\nAuthorization: Bearer " + tr.AccessToken, "400 application/json"},
		{"x-authorization: Bearer " + tr.AccessToken, "401 application/json"},
	} {
		head := "GET / HTTP/1.1\r\nHost: x\r\n" + tc.headers + "\r\nConnection: close\r\n\r\n"
		got, _ := adaptertest.RawExchange(t, addr, head, nil, 5*time.Second)
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("%q: got %q, want %q...", tc.headers[:20], got, tc.want)
		}
	}
}
