// Package openapitest validates HTTP exchanges against the OpenAPI
// description of the contract, docs/openapi.yaml, with kin-openapi. It is
// used by the tests of the examples module only: kin-openapi is never a
// dependency of core or the adapters.
//
// What is validated, exchange by exchange:
//
//   - The response, always: its status must be declared for the operation,
//     its declared headers (Cache-Control, WWW-Authenticate, Retry-After,
//     Set-Cookie) must be present where required and match their schemas, a
//     declared body must have exactly Content-Type: application/json and
//     match its schema, and a response declared without content must have
//     no body and no Content-Type.
//   - The request, unless the answer says the request broke the rules on
//     purpose: 400 invalid_request, 413, or 401 (no or a bad credential).
//     Those are the requests sent against the rules (bad JSON, oversize
//     bodies, two credentials, missing or garbage tokens, CSRF refusals);
//     every other request (2xx, 400 invalid_grant, 403, 404, 429, 503)
//     must satisfy the description, security requirements included.
//   - A request that no operation matches (a path trick such as
//     /auth//sessions or /admin;x=1, a method the path does not have, or
//     /auth/... when another mount prefix is configured) never gets a 2xx.
//     A JSON answer must be the contract's 404 (NotFoundError) or a guard's
//     403 (InsufficientScopeError), with Cache-Control: no-store; an answer that is not JSON is the router's own and may only be
//     a redirect with a Location (the redirect's target is an exchange of
//     its own), a 404 or a 405 (docs/contract.md, "Paths that try to slip
//     past a guard").
//
// The conformance suite (Factory) serves its own stand-ins of the demo API
// (adaptertest.Factory: fixed bodies, no Cache-Control) and routes the
// examples do not have (GET /api/optional, and GET /admin, the suite's
// route-pattern guard). Its 2xx answers on those routes
// are counted as stand-ins and not held to the description; their error
// answers are, since the adapters' guards write them. The example servers
// (Client) get no such allowance.
package openapitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/adaptertest"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Prefix is the mount prefix the description is written for.
const Prefix = "/auth"

// DemoPaths are the description's paths of the example servers' demo API.
var DemoPaths = []string{"/healthz", "/api/profile", "/api/admin/stats", "/api/reports", "/api/reports/{id}"}

// suiteOnly are the conformance suite's routes that the example servers do
// not serve, so the description does not have them.
var suiteOnly = map[string]bool{"GET /api/optional": true, "GET /admin": true}

// Spec is the loaded description with its router.
type Spec struct {
	// Doc is the description.
	Doc    *openapi3.T
	router routers.Router
}

// Load reads, validates and routes docs/openapi.yaml of the repository
// around the test's working directory.
func Load(t testing.TB) *Spec {
	t.Helper()
	path := filepath.Join(repoRoot(t), "docs", "openapi.yaml")
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("docs/openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("docs/openapi.yaml is OpenAPI %s, want 3.1", doc.OpenAPI)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &Spec{Doc: doc, router: router}
}

func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.work above the test's directory")
		}
		dir = parent
	}
}

// Tally counts what was validated.
type Tally struct {
	mu sync.Mutex
	// Exchanges is every exchange seen.
	Exchanges int
	// Requests were validated; Malformed were not (answered as malformed).
	Requests, Malformed int
	// Responses were validated against their operation.
	Responses int
	// Unrouted answers matched no operation and were checked as the
	// contract's error bodies (the 404, a guard's 403, a stand-in's error).
	Unrouted int
	// StandIns are the suite's 2xx answers of its stand-in demo routes.
	StandIns int
	// RouterAnswers are the routers' own answers (not JSON): a redirect of
	// a path not in canonical form, or a 404 or 405 to a request no
	// operation matches.
	RouterAnswers int
}

func (n *Tally) add(f func(*Tally)) { n.mu.Lock(); f(n); n.mu.Unlock() }

// String summarises the counts.
func (n *Tally) String() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return fmt.Sprintf("%d exchanges: %d requests validated (%d malformed on purpose, not validated), "+
		"%d responses validated against their operation, %d unrouted answers checked as contract errors, "+
		"%d 2xx answers of the suite's stand-in demo routes, %d routers' own answers (redirect, 404, 405)",
		n.Exchanges, n.Requests, n.Malformed, n.Responses, n.Unrouted, n.StandIns, n.RouterAnswers)
}

// Consistent reports whether every exchange was accounted for and each
// kind of check ran at least once (unrouted ones only when wantUnrouted).
func (n *Tally) Consistent(wantUnrouted bool) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.Requests > 0 && n.Responses > 0 && (n.Unrouted > 0 || !wantUnrouted) &&
		n.Exchanges == n.Responses+n.Unrouted+n.StandIns+n.RouterAnswers
}

// server is what the description leaves to the server's configuration.
type server struct {
	// prefix is the configured mount prefix.
	prefix string
	// accessCookie names the access cookie when one is configured (off by
	// default): the guards take it in place of the bearer token.
	accessCookie string
	// standIns: the demo routes are the suite's stand-ins.
	standIns bool
}

// Factory wraps f so that every exchange of the conformance suite is
// validated (a failure is an error of the case's test) and counted in n.
func (s *Spec) Factory(f adaptertest.Factory, n *Tally) adaptertest.Factory {
	return func(t *testing.T, svc *core.Service) adaptertest.Do {
		do := f(t, svc)
		srv := server{prefix: svc.Config().MountPrefix, accessCookie: svc.Config().Cookie.AccessCookie, standIns: true}
		return func(r *http.Request) (*http.Response, error) {
			return s.observe(t, srv, n, r, do)
		}
	}
}

// Client returns an HTTP client (no redirects followed) that validates
// every exchange with a server serving the description's routes under
// Prefix, the example servers' demo API included, and counts it in n.
func (s *Spec) Client(t testing.TB, n *Tally) *http.Client {
	srv := server{prefix: Prefix}
	return &http.Client{
		Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
			return s.observe(t, srv, n, r, http.DefaultTransport.RoundTrip)
		}),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// observe sends r through do with both bodies buffered, and validates the
// exchange.
func (s *Spec) observe(t testing.TB, srv server, n *Tally, r *http.Request, do func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
		_ = r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := do(r)
	if err != nil {
		return resp, err
	}
	rb, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	if msg := s.check(r, body, srv, resp.StatusCode, resp.Header, rb, n); msg != "" {
		t.Errorf("docs/openapi.yaml: %s %s -> %d %v %s:\n%s", r.Method, r.URL.RequestURI(), resp.StatusCode, resp.Header, truncate(rb), msg)
	}
	return resp, nil
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

// specPath maps a path under the configured mount prefix to the
// description's; ok is false for a path under the default prefix when
// another is configured (the server must not serve it).
func specPath(path, prefix string) (string, bool) {
	if prefix == Prefix {
		return path, true
	}
	if rest, ok := strings.CutPrefix(path, prefix); ok && strings.HasPrefix(rest, "/") {
		return Prefix + rest, true
	}
	if path == Prefix || strings.HasPrefix(path, Prefix+"/") {
		return "", false
	}
	return path, true
}

// check validates one exchange and returns what is wrong ("" for nothing).
func (s *Spec) check(r *http.Request, reqBody []byte, srv server, status int, h http.Header, body []byte, n *Tally) string {
	n.add(func(c *Tally) { c.Exchanges++ })
	route, params, req := s.route(r, reqBody, srv.prefix)
	if route == nil {
		return s.checkUnrouted(r, srv, status, h, body, n)
	}
	if routerRedirect(r, status, h) {
		n.add(func(c *Tally) { c.RouterAnswers++ })
		return ""
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: srv.options()}
	var problems []string
	if malformedAnswer(status, body) {
		n.add(func(c *Tally) { c.Malformed++ })
	} else {
		n.add(func(c *Tally) { c.Requests++ })
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			problems = append(problems, "request: "+err.Error())
		}
	}
	if srv.standIns && slices.Contains(DemoPaths, route.Path) && status < 300 {
		n.add(func(c *Tally) { c.StandIns++ })
		return strings.Join(problems, "\n")
	}
	n.add(func(c *Tally) { c.Responses++ })
	if msg := checkResponse(in, status, h, body); msg != "" {
		problems = append(problems, "response: "+msg)
	}
	return strings.Join(problems, "\n")
}

// routerRedirect reports a router's own redirect: a 301, 302, 307 or 308
// with a Location and no JSON body, to a request whose path is not in
// canonical form (it has an encoded slash, a dot segment, a doubled or a
// trailing slash). Such a redirect is no answer of an operation; the
// request to its target is an exchange of its own.
func routerRedirect(r *http.Request, status int, h http.Header) bool {
	switch status {
	case 301, 302, 307, 308:
	default:
		return false
	}
	return h.Get("Location") != "" && h.Get("Content-Type") != "application/json" &&
		r.URL.EscapedPath() != path.Clean(r.URL.Path)
}

// checkUnrouted checks the answer to a request that no operation of the
// description matches (see the package doc).
func (s *Spec) checkUnrouted(r *http.Request, srv server, status int, h http.Header, body []byte, n *Tally) string {
	suite := srv.standIns && suiteOnly[r.Method+" "+r.URL.Path]
	if suite && status < 300 {
		n.add(func(c *Tally) { c.StandIns++ })
		return ""
	}
	if routerRedirect(r, status, h) || h.Get("Content-Type") != "application/json" && (status == 404 || status == 405) && !underPrefix(r, srv.prefix) {
		n.add(func(c *Tally) { c.RouterAnswers++ })
		return ""
	}
	n.add(func(c *Tally) { c.Unrouted++ })
	switch {
	case status < 300:
		return "a request no operation of the description matches reached a handler"
	case status == 404:
		return s.CheckError(status, h, body, "NotFoundError")
	case status == 403:
		// A router that matches another spelling of a route (case, a
		// trailing slash) hands it to the route's guard.
		return s.CheckError(status, h, body, "InsufficientScopeError")
	case suite:
		return s.CheckError(status, h, body, "Error")
	}
	return "no operation of the description matches, and the answer is neither the contract's 404 or a guard's 403 nor a router's redirect, 404 or 405"
}

// route finds the operation of r (nil when none matches) and builds the
// request kin-openapi validates: r on the description's path, its body
// restored.
func (s *Spec) route(r *http.Request, body []byte, prefix string) (*routers.Route, map[string]string, *http.Request) {
	path, ok := specPath(r.URL.EscapedPath(), prefix)
	if !ok {
		return nil, nil, nil
	}
	if r.URL.RawQuery != "" {
		path += "?" + r.URL.RawQuery
	}
	req := httptest.NewRequest(r.Method, path, bytes.NewReader(body))
	req.Header = r.Header.Clone()
	req.ContentLength = int64(len(body))
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		return nil, nil, nil
	}
	return route, params, req
}

// malformedAnswer reports an answer that says the request broke the rules
// on purpose: 400 invalid_request, 413 or 401.
func malformedAnswer(status int, body []byte) bool {
	switch status {
	case 401, 413:
		return true
	case 400:
		var e struct{ Error string }
		return json.Unmarshal(body, &e) == nil && e.Error == "invalid_request"
	}
	return false
}

func (srv server) options() *openapi3filter.Options {
	return &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc:    srv.authenticate,
	}
}

// authenticate checks that a request carries the credential a security
// scheme of the description names. The configured access cookie counts as
// the bearer credential: its name is the server's choice, so the
// description cannot name it.
func (srv server) authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r := in.RequestValidationInput.Request
	switch sc := in.SecurityScheme; {
	case sc.Type == "http" && sc.Scheme == "bearer":
		v := r.Header.Values("Authorization")
		if len(v) == 1 && len(v[0]) > 7 && strings.EqualFold(v[0][:7], "bearer ") {
			return nil
		}
		if _, err := r.Cookie(srv.accessCookie); srv.accessCookie != "" && err == nil && len(v) == 0 {
			return nil
		}
		return errors.New("no bearer token")
	case sc.Type == "apiKey" && sc.In == "cookie":
		_, err := r.Cookie(sc.Name)
		return err
	}
	return fmt.Errorf("unknown security scheme %s", in.SecuritySchemeName)
}

// checkResponse validates a response against its operation, plus what
// kin-openapi leaves out: the exact Content-Type of a declared body, and
// no body and no Content-Type where none is declared.
func checkResponse(in *openapi3filter.RequestValidationInput, status int, h http.Header, body []byte) string {
	// kin-openapi lets an undeclared status through when it is a redirect
	// or 304, and the lookup below needs a declared one: check it first.
	ref := in.Route.Operation.Responses.Status(status)
	if ref == nil {
		ref = in.Route.Operation.Responses.Default()
	}
	if ref == nil || ref.Value == nil {
		return fmt.Sprintf("status %d is not declared for %s %s", status, in.Route.Method, in.Route.Path)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: status, Header: h,
		Body: io.NopCloser(bytes.NewReader(body)), Options: in.Options,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return err.Error()
	}
	if len(ref.Value.Content) == 0 {
		if len(body) != 0 || h.Get("Content-Type") != "" {
			return "a response declared without content has a body or a Content-Type"
		}
		return ""
	}
	if ct := h.Values("Content-Type"); len(ct) != 1 || ct[0] != "application/json" {
		return fmt.Sprintf("Content-Type %q, want exactly application/json", ct)
	}
	return ""
}

// CheckError checks an error answer against the description's schema
// (components/schemas/<schema>) with the headers every error carries; it
// returns what is wrong ("" for nothing).
func (s *Spec) CheckError(status int, h http.Header, body []byte, schema string) string {
	if status < 400 {
		return fmt.Sprintf("status %d where only an error answer can come", status)
	}
	if h.Get("Content-Type") != "application/json" || h.Get("Cache-Control") != "no-store" {
		return "an error answer without Content-Type: application/json and Cache-Control: no-store"
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return "an error answer that is not JSON: " + err.Error()
	}
	sc := s.Doc.Components.Schemas[schema]
	if sc == nil {
		return "docs/openapi.yaml has no schema " + schema
	}
	if err := sc.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.VisitAsResponse()); err != nil {
		return fmt.Sprintf("the error body does not match %s: %v", schema, err)
	}
	return ""
}

// underPrefix reports whether r's path, once cleaned, lies under the mount
// prefix: the token endpoints answer every path there themselves, with the
// contract's JSON, so a router's own text answer is a failure there.
func underPrefix(r *http.Request, prefix string) bool {
	p := path.Clean("/" + strings.TrimLeft(r.URL.EscapedPath(), "/"))
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}
