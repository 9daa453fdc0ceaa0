package fiberauth_test

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

	fiberauth "github.com/authguard/authguard/adapters/fiber"
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/gofiber/fiber/v2"
)

// rawAttack writes head and body on a fresh connection to addr, keeps it
// open (the client stalls), and reads one answer: "close" for a clean close
// without an answer, "hang" when nothing came within wait, else the status
// and the Content-Type.
func rawAttack(t *testing.T, addr, head string, body []byte, wait time.Duration) (string, *http.Response) {
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

func gzipped(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = io.WriteString(w, s)
	_ = w.Close()
	return b.Bytes()
}

// Bodies that lie about their length, huge chunk sizes and gzip, over a
// raw socket to a fiber app set up as the README says (ErrorHandler,
// lingering close) with a 1 s ReadTimeout: every answer is the contract's
// JSON or a clean close, never a plain-text error or a hang past the read
// timeout, and the server still logs in afterwards. FAILS: a Content-Length
// over the endpoints' 64 KiB limit (but under fiber's BodyLimit) with a
// body that never comes is not refused at once, as net/http does, but waits
// for the body and then gets fasthttp's plain-text "408 Request Timeout"
// (fiberauth.ErrorHandler passes fiber.ErrRequestTimeout to fiber's default
// handler); so does a short body under a Content-Length that is never
// completed.
func TestAttackLyingBodies(t *testing.T) {
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.LoginThrottle.DisabledUnsafe = true }})
	app := fiber.New(fiber.Config{DisableStartupMessage: true, ReadTimeout: time.Second, ErrorHandler: fiberauth.ErrorHandler(f.Service, nil)})
	fiberauth.Mount(app, f.Service)
	addr := strings.TrimPrefix(listen(t, app), "http://")
	const post = "POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	small := `{"email":"a@b.c","password":"x"}`
	cases := []struct {
		name, head string
		body       []byte
	}{
		{"declares 10, sends 100 KiB", post + "Content-Length: 10\r\n\r\n", bytes.Repeat([]byte("a"), 100<<10)},
		{"chunk of 256 MiB, stalls", post + "Transfer-Encoding: chunked\r\n\r\n", []byte("10000000\r\n" + small)},
		{"gzip body", post + "Content-Encoding: gzip\r\nContent-Length: " + fmt.Sprint(len(gzipped(small))) + "\r\n\r\n", gzipped(small)},
		{"gzip bomb declared", post + "Content-Encoding: gzip\r\nContent-Length: 5000000\r\n\r\n", gzipped(strings.Repeat("a", 1<<20))},
	}
	for _, tc := range cases {
		start := time.Now()
		got, resp := rawAttack(t, addr, tc.head, tc.body, 4*time.Second)
		took := time.Since(start).Round(100 * time.Millisecond)
		switch {
		case got == "close":
		case got == "hang":
			t.Errorf("%s: no answer and no close after %v", tc.name, took)
		case resp == nil:
			t.Errorf("%s: %s", tc.name, got)
		case resp.Header.Get("Content-Type") != "application/json":
			t.Errorf("%s: %s (after %v): not the contract's JSON", tc.name, got, took)
		}
	}
	got, _ := rawAttack(t, addr, post+fmt.Sprintf("Content-Length: %d\r\nConnection: close\r\n\r\n", len(`{"email":"`+authtest.UserEmail+`","password":"`+authtest.Password+`"}`)),
		[]byte(`{"email":"`+authtest.UserEmail+`","password":"`+authtest.Password+`"}`), 5*time.Second)
	if !strings.HasPrefix(got, "200 ") {
		t.Fatalf("a login after the attacks: %s", got)
	}
}
