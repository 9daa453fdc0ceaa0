package adaptertest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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

// response is a response with the request that produced it.
type response struct {
	h      *harness
	label  string
	Status int
	Header http.Header
	Body   []byte
}

// Send sends the request through the adapter and reads the answer; it also
// checks the invariants every error answer of the contract has.
func (q *request) Send() *response {
	h := q.h
	h.t.Helper()
	var body io.Reader
	if q.body != nil {
		body = bytes.NewReader(q.body)
	}
	r := httptest.NewRequest(q.method, q.target, body)
	for _, kv := range q.header {
		r.Header.Add(kv[0], kv[1])
	}
	if q.chunked {
		r.ContentLength = -1
	}
	if r.Header.Get("User-Agent") == "" {
		r.Header.Set("User-Agent", "adaptertest/1.0")
	}
	h.step++
	path := q.target
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i] + "?<query>"
	}
	label := fmt.Sprintf("#%02d %s %s", h.step, q.method, h.replace(path))
	resp, err := h.do(r)
	if err != nil {
		h.t.Fatalf("%s: the adapter returned an error: %v", label, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("%s: reading the response body: %v", label, err)
	}
	res := &response{h: h, label: label, Status: resp.StatusCode, Header: resp.Header, Body: b}
	if h.record {
		h.recorded = append(h.recorded, rawExchange{label: label, status: res.Status, header: resp.Header.Clone(), body: b})
	}
	if res.Status >= 400 {
		res.checkErrorInvariants()
	}
	if res.Status == 401 && q.method == "POST" {
		for _, p := range []string{"/login", "/refresh", "/logout"} {
			if strings.HasPrefix(q.target, h.auth(p)) {
				res.fatalf("a token endpoint answered 401 (clients would loop refreshing)")
			}
		}
	}
	return res
}

func (r *response) fatalf(format string, args ...any) {
	r.h.t.Helper()
	r.h.t.Fatalf("%s -> %d %s: %s", r.label, r.Status, r.Body, fmt.Sprintf(format, args...))
}
