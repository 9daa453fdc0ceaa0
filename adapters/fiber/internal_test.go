package fiberauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

func loginN(t *testing.T, svc *core.Service, n int) []string {
	t.Helper()
	out := make([]string, n)
	for i := range out {
		tr, err := svc.Login(context.Background(), core.LoginInput{
			Email: authtest.UserEmail, Password: authtest.Password, Client: core.ClientInfo{IP: "192.0.2.1"},
		})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = tr.AccessToken
	}
	return out
}

// kept is what a handler keeps from its request after it returned.
type kept struct {
	auth, ua, remote, cookie string
	multi                    []string
	body                     []byte
	subject, sid             string
	// unsafe is fiber's own c.Get, a view of the pooled buffer: the
	// control that shows the buffers were indeed reused.
	unsafe string
}

func keep(c *fiber.Ctx) kept {
	q := request{c}
	p, _ := PrincipalFrom(c)
	k := kept{
		auth: q.Header("Authorization"), ua: q.Header("User-Agent"), remote: q.RemoteAddr(),
		multi: q.HeaderValues("X-Multi"), subject: p.Subject, sid: p.SessionID,
		unsafe: c.Get("X-Multi"),
	}
	k.cookie, _ = q.Cookie("c")
	k.body, _ = q.Body(1 << 10)
	return k
}

func (k kept) clone() kept {
	c := k
	c.auth, c.ua, c.remote, c.cookie = strings.Clone(k.auth), strings.Clone(k.ua), strings.Clone(k.remote), strings.Clone(k.cookie)
	c.multi = nil
	for _, v := range k.multi {
		c.multi = append(c.multi, strings.Clone(v))
	}
	c.body = bytes.Clone(k.body)
	c.subject, c.sid, c.unsafe = strings.Clone(k.subject), strings.Clone(k.sid), strings.Clone(k.unsafe)
	return c
}

func (k kept) diff(want kept) string {
	switch {
	case k.auth != want.auth:
		return "Authorization"
	case k.ua != want.ua:
		return "User-Agent"
	case k.remote != want.remote:
		return "RemoteAddr"
	case k.cookie != want.cookie:
		return "Cookie"
	case fmt.Sprint(k.multi) != fmt.Sprint(want.multi):
		return "HeaderValues"
	case !bytes.Equal(k.body, want.body):
		return "Body"
	case k.subject != want.subject || k.sid != want.sid:
		return "Principal"
	}
	return ""
}

// Every string the adapter hands out survives the reuse of fasthttp's
// buffers by later requests, while fiber's own c.Get (the control) does not.
// The same RequestCtx is reused, so the buffers are overwritten for sure.
func TestStringsSurviveBufferReuse(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	toks := loginN(t, f.Service, 2)
	app := fiber.New()
	var first, firstCopy kept
	calls := 0
	app.Post("/x", Require(f.Service), func(c *fiber.Ctx) error {
		if calls == 0 {
			first = keep(c)
			firstCopy = first.clone()
		}
		calls++
		c.Status(204)
		return nil
	})
	h := app.Handler()
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1234}, nil)
	for i := range 200 {
		// As the server does between two requests on a connection.
		ctx.Request.Reset()
		ctx.Response.Reset()
		ctx.ResetUserValues()
		ctx.Request.Header.SetMethod("POST")
		ctx.Request.SetRequestURI("/x")
		ctx.Request.Header.Set("Authorization", "Bearer "+toks[i%2])
		ctx.Request.Header.Set("User-Agent", fmt.Sprintf("agent-%04d", i))
		ctx.Request.Header.Add("X-Multi", fmt.Sprintf("one-%04d", i))
		ctx.Request.Header.Add("X-Multi", fmt.Sprintf("two-%04d", i))
		ctx.Request.Header.Set("Cookie", fmt.Sprintf("c=value-%04d", i))
		ctx.Request.SetBodyString(fmt.Sprintf(`{"n":"body-%04d"}`, i))
		h(&ctx)
		if code := ctx.Response.StatusCode(); code != 204 {
			t.Fatalf("request %d: status %d %s", i, code, ctx.Response.Body())
		}
	}
	if calls != 200 {
		t.Fatalf("handler ran %d times", calls)
	}
	if first.unsafe == firstCopy.unsafe {
		t.Fatalf("control: fiber's c.Get string did not change, so the buffers were not reused and the test proves nothing")
	}
	if d := first.diff(firstCopy); d != "" {
		t.Fatalf("%s kept from the first request changed after later requests reused the buffers", d)
	}
	if firstCopy.auth != "Bearer "+toks[0] || firstCopy.ua != "agent-0000" || firstCopy.cookie != "value-0000" ||
		fmt.Sprint(firstCopy.multi) != "[one-0000 two-0000]" || string(firstCopy.body) != `{"n":"body-0000"}` ||
		firstCopy.remote != "192.0.2.1:1234" || firstCopy.subject != f.UserID {
		t.Fatalf("unexpected first values %+v", firstCopy)
	}
}

// The same through real connections, concurrently (run with -race): values
// kept by many handlers stay intact while the server's pooled contexts are
// reused.
func TestStringsSurviveConcurrentRequests(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	toks := loginN(t, f.Service, 4)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	var mu sync.Mutex
	got := map[string]kept{}
	app.Post("/x", Require(f.Service), func(c *fiber.Ctx) error {
		k := keep(c)
		mu.Lock()
		got[strings.Clone(k.ua)] = k
		mu.Unlock()
		c.Status(204)
		return nil
	})
	const workers, per = 4, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers*per)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				id := fmt.Sprintf("w%d-%03d", w, i)
				r := httptest.NewRequest("POST", "/x", strings.NewReader(`{"id":"`+id+`"}`))
				r.Header.Set("Authorization", "Bearer "+toks[w])
				r.Header.Set("User-Agent", id)
				r.Header.Add("X-Multi", "a-"+id)
				r.Header.Add("X-Multi", "b-"+id)
				r.Header.Set("Cookie", "c="+id)
				resp, err := app.Test(r, -1)
				if err != nil {
					errs <- err
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 204 {
					errs <- fmt.Errorf("%s: status %d", id, resp.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != workers*per {
		t.Fatalf("kept %d requests, want %d", len(got), workers*per)
	}
	for id, k := range got {
		w := int(id[1] - '0')
		want := kept{
			auth: "Bearer " + toks[w], ua: id, remote: k.remote, cookie: id,
			multi: []string{"a-" + id, "b-" + id}, body: []byte(`{"id":"` + id + `"}`),
			subject: f.UserID, sid: k.sid,
		}
		if d := k.diff(want); d != "" {
			t.Fatalf("%s: %s changed after the handler returned", id, d)
		}
	}
}

func newCtx(t *testing.T, setup func(r *fasthttp.Request)) (*fiber.Ctx, func()) {
	t.Helper()
	app := fiber.New()
	fctx := &fasthttp.RequestCtx{}
	setup(&fctx.Request)
	c := app.AcquireCtx(fctx)
	return c, func() { app.ReleaseCtx(c) }
}

func TestBody(t *testing.T) {
	const limit = 16
	for _, tc := range []struct {
		name   string
		body   string
		extra  func(r *fasthttp.Request)
		tooBig bool
	}{
		{name: "at the limit", body: strings.Repeat("a", limit)},
		{name: "over the limit", body: strings.Repeat("a", limit+1), tooBig: true},
		{name: "declared over the limit", extra: func(r *fasthttp.Request) { r.Header.SetContentLength(limit + 1) }, tooBig: true},
		{name: "empty"},
		// Not inflated: a net/http server does not decode request bodies either.
		{name: "gzip stays raw", body: "\x1f\x8bnot gzip", extra: func(r *fasthttp.Request) {
			r.Header.Set("Content-Encoding", "gzip")
		}},
	} {
		c, release := newCtx(t, func(r *fasthttp.Request) {
			r.Header.SetMethod("POST")
			r.SetBodyString(tc.body)
			if tc.extra != nil {
				tc.extra(r)
			}
		})
		b, err := request{c}.Body(limit)
		switch {
		case tc.tooBig && !errors.Is(err, core.ErrBodyTooLarge):
			t.Errorf("%s: got %v, want ErrBodyTooLarge", tc.name, err)
		case !tc.tooBig && (err != nil || string(b) != tc.body):
			t.Errorf("%s: got %q, %v", tc.name, b, err)
		}
		release()
	}

	// A streamed body is read up to the limit only.
	c, release := newCtx(t, func(r *fasthttp.Request) {
		r.Header.SetMethod("POST")
		r.SetBodyStream(strings.NewReader(strings.Repeat("a", 1<<20)), -1)
	})
	defer release()
	if _, err := (request{c}).Body(limit); !errors.Is(err, core.ErrBodyTooLarge) {
		t.Errorf("stream: got %v, want ErrBodyTooLarge", err)
	}
}

// Cookies are parsed as net/http parses them, repeated ones counted.
func TestCookies(t *testing.T) {
	c, release := newCtx(t, func(r *fasthttp.Request) {
		r.Header.Add("Cookie", `a=1; b=2; a="3"`)
		r.Header.Add("Cookie", "a=4; bad=x y")
	})
	defer release()
	q := request{c}
	hr := httptest.NewRequest("GET", "/", nil)
	hr.Header.Add("Cookie", `a=1; b=2; a="3"`)
	hr.Header.Add("Cookie", "a=4; bad=x y")
	for _, name := range []string{"a", "b", "bad", "none"} {
		v, ok := q.Cookie(name)
		want, err := hr.Cookie(name)
		if ok != (err == nil) || (ok && v != want.Value) {
			t.Errorf("Cookie(%s) = %q, %v; net/http says %v, %v", name, v, ok, want, err)
		}
		if n, wantN := q.CookieCount(name), len(hr.CookiesNamed(name)); n != wantN {
			t.Errorf("CookieCount(%s) = %d, net/http says %d", name, n, wantN)
		}
	}
	if n := q.CookieCount("a"); n != 3 {
		t.Errorf("CookieCount(a) = %d, want 3", n)
	}
}

// Two Authorization headers are two values (the core refuses them).
func TestHeaderValues(t *testing.T) {
	c, release := newCtx(t, func(r *fasthttp.Request) {
		r.Header.Add("Authorization", "Bearer a")
		r.Header.Add("Authorization", "Bearer b")
	})
	defer release()
	q := request{c}
	if got := q.HeaderValues("authorization"); fmt.Sprint(got) != "[Bearer a Bearer b]" {
		t.Errorf("HeaderValues = %q", got)
	}
	if got := q.HeaderValues("X-None"); got != nil {
		t.Errorf("HeaderValues of an absent header = %q, want nil", got)
	}
	if got := q.Header("Authorization"); got != "Bearer a" {
		t.Errorf("Header = %q, want the first", got)
	}
}
