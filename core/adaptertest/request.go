package adaptertest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
)

// Requests: the builder of the requests the cases send, and Send.

// request is a request under construction.
type request struct {
	h       *harness
	method  string
	target  string
	body    []byte
	header  [][2]string
	chunked bool
	// routerMayAnswer: see RouterMayAnswer.
	routerMayAnswer bool
}

func (h *harness) req(method, target string) *request {
	return &request{h: h, method: method, target: target}
}

// JSON sets a body with Content-Type: application/json.
func (q *request) JSON(body string) *request {
	q.body = []byte(body)
	return q.H("Content-Type", "application/json")
}

// Chunked sends the body with an unknown length (Content-Length -1: chunked
// transfer encoding on the wire), so the adapter must count the bytes itself.
func (q *request) Chunked() *request { q.chunked = true; return q }

// Raw sets a body as it is.
func (q *request) Raw(body []byte) *request { q.body = body; return q }

// H adds a header.
func (q *request) H(k, v string) *request { q.header = append(q.header, [2]string{k, v}); return q }

// Bearer adds Authorization: Bearer tok.
func (q *request) Bearer(tok string) *request { return q.H("Authorization", "Bearer "+tok) }

// Cookie adds a Cookie header.
func (q *request) Cookie(name, value string) *request { return q.H("Cookie", name+"="+value) }

// CookieMode adds X-Auth-Transport: cookie.
func (q *request) CookieMode() *request { return q.H("X-Auth-Transport", "cookie") }

// RouterMayAnswer marks a request the router itself may answer before the
// adapter runs (a path no route of the contract matches): an error answer
// that is not JSON is then not held to the contract's error invariants
// (a JSON one still is), and the exchange is not recorded, since routers
// differ there.
func (q *request) RouterMayAnswer() *request { q.routerMayAnswer = true; return q }

// response is a response with the request that produced it.
type response struct {
	h      *harness
	label  string
	Status int
	Header http.Header
	Body   []byte
	// Redirects are the Location targets followed, in order.
	Redirects []string
}

// maxRedirects bounds the redirects Send follows, as browsers do.
const maxRedirects = 10

// Send sends the request through the adapter and reads the answer,
// following redirects the way browsers' fetch and curl -L do: the method,
// every header (Authorization included: the target is the same origin) and,
// on 307 and 308, the body are kept; 303, and 301/302 of a POST, become a
// bodiless GET. It also checks the invariants every error answer of the
// contract has.
func (q *request) Send() *response {
	h := q.h
	h.t.Helper()
	h.step++
	path := q.target
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i] + "?<query>"
	}
	label := fmt.Sprintf("#%02d %s %s", h.step, q.method, h.replace(path))
	method, target, body := q.method, q.target, q.body
	var redirects []string
	for {
		status, header, b := q.roundTrip(label, method, target, body)
		loc := header.Get("Location")
		if status < 300 || status > 399 || status == 304 || loc == "" {
			res := &response{h: h, label: label, Status: status, Header: header, Body: b, Redirects: redirects}
			q.check(res)
			return res
		}
		next, ok := sameOrigin(target, loc)
		if !ok || len(redirects) == maxRedirects {
			res := &response{h: h, label: label, Status: status, Header: header, Body: b, Redirects: redirects}
			res.fatalf("redirect to %q not followed (other origin, or more than %d redirects)", loc, maxRedirects)
		}
		redirects = append(redirects, next)
		if status == 303 || (status == 301 || status == 302) && method == "POST" {
			method, body = "GET", nil
		}
		target = next
	}
}

// sameOrigin resolves a Location against the request target; ok is false
// when it names another origin than the suite's (example.com).
func sameOrigin(target, loc string) (string, bool) {
	base, err := url.Parse("http://example.com" + target)
	if err != nil {
		return "", false
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "", false
	}
	u = base.ResolveReference(u)
	if u.Host != "example.com" {
		return "", false
	}
	return u.RequestURI(), true
}

// roundTrip sends one request through the adapter and reads the answer.
func (q *request) roundTrip(label, method, target string, body []byte) (int, http.Header, []byte) {
	h := q.h
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	for _, kv := range q.header {
		r.Header.Add(kv[0], kv[1])
	}
	if q.chunked && body != nil {
		r.ContentLength = -1
	}
	if r.Header.Get("User-Agent") == "" {
		r.Header.Set("User-Agent", "adaptertest/1.0")
	}
	resp, err := h.do(r)
	if err != nil {
		h.t.Fatalf("%s: the adapter returned an error: %v", label, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("%s: reading the response body: %v", label, err)
	}
	return resp.StatusCode, resp.Header, b
}

// check records the final answer and checks the contract's invariants.
func (q *request) check(res *response) {
	h := q.h
	h.t.Helper()
	routerAnswer := q.routerMayAnswer && res.Header.Get("Content-Type") != "application/json"
	if h.record && !q.routerMayAnswer {
		h.recorded = append(h.recorded, rawExchange{label: res.label, status: res.Status, header: res.Header.Clone(), body: res.Body})
	}
	if res.Status >= 400 && !routerAnswer {
		res.checkErrorInvariants()
	}
	if res.Status == 401 && q.method == "POST" {
		for _, p := range []string{"/login", "/refresh", "/logout"} {
			if strings.HasPrefix(q.target, h.auth(p)) {
				res.fatalf("a token endpoint answered 401 (clients would loop refreshing)")
			}
		}
	}
}

func (r *response) fatalf(format string, args ...any) {
	r.h.t.Helper()
	r.h.t.Fatalf("%s -> %d %s: %s", r.label, r.Status, r.Body, fmt.Sprintf(format, args...))
}
