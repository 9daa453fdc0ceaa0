package ginauth

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/httpauth"
)

func TestBodyLimit(t *testing.T) {
	const limit = 16
	newReq := func(body string, length int64) *http.Request {
		r := httptest.NewRequest("POST", "/", io.NopCloser(strings.NewReader(body)))
		r.ContentLength = length
		return r
	}
	for _, tc := range []struct {
		name    string
		r       *http.Request
		tooBig  bool
		wantLen int
	}{
		{"at the limit", newReq(strings.Repeat("a", limit), limit), false, limit},
		{"declared too long", newReq("a", limit+1), true, 0},
		{"chunked too long", newReq(strings.Repeat("a", limit+1), -1), true, 0},
		{"chunked at the limit", newReq(strings.Repeat("a", limit), -1), false, limit},
		{"empty", httptest.NewRequest("POST", "/", nil), false, 0},
	} {
		b, err := httpauth.Request(tc.r).Body(limit)
		if tc.tooBig != errors.Is(err, core.ErrBodyTooLarge) || (!tc.tooBig && err != nil) || len(b) != tc.wantLen {
			t.Errorf("%s: got %d bytes, %v", tc.name, len(b), err)
		}
	}

	// An http.MaxBytesReader set upstream with a smaller limit.
	r := newReq(strings.Repeat("a", limit), -1)
	r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 4)
	if _, err := httpauth.Request(r).Body(limit); !errors.Is(err, core.ErrBodyTooLarge) {
		t.Errorf("MaxBytesReader: got %v, want ErrBodyTooLarge", err)
	}
}

func TestCookies(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Add("Cookie", "a=1; b=2; a=3")
	r.Header.Add("Cookie", "a=4")
	q := httpauth.Request(r)
	if v, ok := q.Cookie("a"); !ok || v != "1" {
		t.Errorf("Cookie(a) = %q, %v; want the first, 1", v, ok)
	}
	if n := q.CookieCount("a"); n != 3 {
		t.Errorf("CookieCount(a) = %d, want 3", n)
	}
	if _, ok := q.Cookie("c"); ok || q.CookieCount("c") != 0 {
		t.Errorf("absent cookie reported")
	}
}
