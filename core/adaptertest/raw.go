package adaptertest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authguard/authguard/core/authtest"
)

// LyingBody is one request of CheckLyingBodies: a login whose framing lies.
type LyingBody struct {
	Name string // what the request does, the key of CheckLyingBodies' skip map
	Head string // the request line and headers, blank line included
	Body []byte // what is sent after Head before the client stalls
}

// LyingBodies returns the requests CheckLyingBodies sends to a server whose
// login endpoint is at prefix + "/login": bodies shorter or longer than their
// Content-Length, huge or stalled chunks, gzip and a declared gzip bomb.
func LyingBodies(prefix string) []LyingBody {
	post := "POST " + prefix + "/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	small := `{"email":"a@b.c","password":"x"}`
	zipped := Gzip(small)
	return []LyingBody{
		{"declares 100000, sends 10, stalls", post + "Content-Length: 100000\r\n\r\n", []byte(small[:10])},
		{"declares 1000, sends 10, stalls", post + "Content-Length: 1000\r\n\r\n", []byte(small[:10])},
		{"declares 10, sends 100 KiB", post + "Content-Length: 10\r\n\r\n", bytes.Repeat([]byte("a"), 100<<10)},
		{"chunk of 2^64-1 bytes", post + "Transfer-Encoding: chunked\r\n\r\n", []byte("FFFFFFFFFFFFFFFF\r\n" + small)},
		{"chunk of 256 MiB, stalls", post + "Transfer-Encoding: chunked\r\n\r\n", []byte("10000000\r\n" + small)},
		{"chunk of 70 KiB, stalls", post + "Transfer-Encoding: chunked\r\n\r\n", []byte("11800\r\n" + small)},
		{"gzip body", post + "Content-Encoding: gzip\r\nContent-Length: " + fmt.Sprint(len(zipped)) + "\r\n\r\n", zipped},
		{"gzip bomb declared", post + "Content-Encoding: gzip\r\nContent-Length: 5000000\r\n\r\n", Gzip(strings.Repeat("a", 1<<20))},
	}
}

// CheckLyingBodies sends every LyingBodies request over a raw socket to the
// server at addr ("127.0.0.1:port", token endpoints under prefix), each on a
// fresh connection that then stalls, and requires the contract's JSON or a
// clean close as the answer, never a plain-text error or a hang of more than
// 4 s (serve with a ReadTimeout under that). A login must still succeed
// afterwards. skip names the cases a router cannot pass, each with the
// reason, which the test log shows.
func CheckLyingBodies(t *testing.T, addr, prefix string, skip map[string]string) {
	t.Helper()
	for _, tc := range LyingBodies(prefix) {
		if why, ok := skip[tc.Name]; ok {
			t.Logf("%s: not sent: %s", tc.Name, why)
			continue
		}
		start := time.Now()
		got, resp := RawExchange(t, addr, tc.Head, tc.Body, 4*time.Second)
		took := time.Since(start).Round(100 * time.Millisecond)
		switch {
		case got == "close":
		case got == "hang":
			t.Errorf("%s: no answer and no close after %v", tc.Name, took)
		case resp == nil:
			t.Errorf("%s: %s", tc.Name, got)
		case resp.Header.Get("Content-Type") != "application/json":
			t.Errorf("%s: %s (after %v): not the contract's JSON", tc.Name, got, took)
		}
	}
	login := `{"email":"` + authtest.UserEmail + `","password":"` + authtest.Password + `"}`
	head := fmt.Sprintf("POST %s/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", prefix, len(login))
	if got, _ := RawExchange(t, addr, head, []byte(login), 5*time.Second); !strings.HasPrefix(got, "200 ") {
		t.Fatalf("a login after the lying bodies: %s", got)
	}
}

// RawExchange writes head and body on a fresh connection to addr, keeps it
// open (the client stalls), and reads one answer: "close" for a close
// without an answer, "hang" when nothing came within wait, else the status,
// the Content-Type and up to 1 KiB of the body, with the response (its body
// already read).
func RawExchange(t *testing.T, addr, head string, body []byte, wait time.Duration) (string, *http.Response) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, head)
	_, _ = c.Write(body)
	_ = c.SetReadDeadline(time.Now().Add(wait))
	br := bufio.NewReader(c)
	if _, err := br.Peek(1); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return "hang", nil
		}
		return "close", nil
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return "garbage: " + err.Error(), nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	_ = resp.Body.Close()
	return fmt.Sprintf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b), resp
}

// Gzip returns s compressed with gzip.
func Gzip(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = io.WriteString(w, s)
	_ = w.Close()
	return b.Bytes()
}

// DeleteFollowing sends DELETE url with the bearer over a real socket and
// follows redirects as Go's client, browsers' fetch and curl -L do for 307
// and 308 (method, body and Authorization kept on the same host), at most 6
// hops. It returns the final status and the hops ("DELETE /path?query").
func DeleteFollowing(t *testing.T, url, bearer string) (int, []string) {
	t.Helper()
	var hops []string
	c := &http.Client{CheckRedirect: func(r *http.Request, via []*http.Request) error {
		hops = append(hops, r.Method+" "+r.URL.RequestURI())
		if len(via) > 5 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	req, err := http.NewRequest("DELETE", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("DELETE %s: %v", url, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, hops
}
