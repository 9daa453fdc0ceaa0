package adaptertest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/wire"
)

// testCase is one row of the suite.
type testCase struct {
	name string
	// alg is the fixture's signing algorithm ("" = EdDSA).
	alg string
	// config edits the service configuration.
	config func(*core.Config)
	// faults wraps the fixture's store in a fault injector (H.faults).
	faults bool
	// realTime marks cases that wait in real time: not recorded.
	realTime bool
	run      func(h *harness)
}

// harness is the per-case harness: the fixture, the adapter under test, the
// secrets seen so far and the recorded exchanges.
type harness struct {
	t      *testing.T
	f      *authtest.Fixture
	svc    *core.Service
	do     Do
	faults *faultStore

	// secrets are values never allowed in the log; placeholders are values
	// replaced when recording (secrets included), in registration order.
	secrets      map[string]string
	placeholders []placeholder
	counters     map[string]int

	record   bool
	recorded []rawExchange
	step     int
}

type placeholder struct{ value, name string }

type rawExchange struct {
	label  string
	status int
	header http.Header
	body   []byte
}

func runCase(t *testing.T, f Factory, c testCase, out *[]Exchange) {
	opts := authtest.Options{Alg: c.alg, Config: c.config}
	var fs *faultStore
	if c.faults {
		fs = newFaultStore()
		opts.Store = fs
	}
	fx := authtest.New(t, opts)
	h := &harness{
		t: t, f: fx, svc: fx.Service, faults: fs,
		secrets:  map[string]string{},
		counters: map[string]int{},
		record:   out != nil,
	}
	h.do = f(t, fx.Service)
	h.addPlaceholder(fx.UserID, "<user-id>")
	h.addPlaceholder(fx.AdminID, "<admin-id>")
	h.secret(authtest.Password, "<password>")
	defer h.checkLogs()
	c.run(h)
	if out != nil && !t.Failed() {
		for _, x := range h.recorded {
			*out = append(*out, h.normalise(c.name, x))
		}
	}
}

// ---- secrets and normalisation ----

func (h *harness) addPlaceholder(value, name string) {
	if value == "" {
		return
	}
	for _, p := range h.placeholders {
		if p.value == value {
			return
		}
	}
	h.placeholders = append(h.placeholders, placeholder{value, name})
}

// secret registers a value that must never appear in the log and is
// replaced by a placeholder of kind when recording.
func (h *harness) secret(value, kind string) {
	if value == "" {
		return
	}
	if _, ok := h.secrets[value]; ok {
		return
	}
	name := kind
	if !strings.HasPrefix(kind, "<") {
		h.counters[kind]++
		name = fmt.Sprintf("<%s:%d>", kind, h.counters[kind])
	}
	h.secrets[value] = name
	h.addPlaceholder(value, name)
}

func (h *harness) named(value, kind string) string {
	for _, p := range h.placeholders {
		if p.value == value {
			return p.name
		}
	}
	h.counters[kind]++
	name := fmt.Sprintf("<%s:%d>", kind, h.counters[kind])
	h.addPlaceholder(value, name)
	return name
}

// checkLogs fails the case if the captured log contains any secret the case
// saw, or any segment of a JWT it saw (payload or signature).
func (h *harness) checkLogs() {
	logs := h.f.Logs.String()
	for v, name := range h.secrets {
		if strings.Contains(logs, v) {
			h.t.Errorf("the log contains secret %s", name)
		}
		if strings.Count(v, ".") == 2 {
			parts := strings.Split(v, ".")
			for _, p := range parts[1:] {
				if len(p) >= 16 && strings.Contains(logs, p) {
					h.t.Errorf("the log contains a segment of JWT %s", name)
				}
			}
		}
	}
}

var (
	timeRE = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})`)
	keyRE  = regexp.MustCompile(`"(kid|x|y|n)":"[^"]*"`)
	ipRE   = regexp.MustCompile(`"ip":"[^"]*"`)
)

func (h *harness) replace(s string) string {
	// Longest values first so that no value is replaced inside another.
	ps := slices.Clone(h.placeholders)
	slices.SortStableFunc(ps, func(a, b placeholder) int { return len(b.value) - len(a.value) })
	for _, p := range ps {
		s = strings.ReplaceAll(s, p.value, p.name)
	}
	s = timeRE.ReplaceAllString(s, "<time>")
	s = keyRE.ReplaceAllString(s, `"$1":"<key>"`)
	s = ipRE.ReplaceAllString(s, `"ip":"<ip>"`)
	return s
}

func (h *harness) normalise(caseName string, x rawExchange) Exchange {
	hdr := http.Header{}
	for _, k := range recordedHeaders {
		for _, v := range x.header.Values(k) {
			hdr.Add(k, h.replace(v))
		}
	}
	return Exchange{Case: caseName + x.label, Status: x.status, Header: hdr, Body: h.replace(string(x.body))}
}

// ---- requests ----

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

// contractCodes maps every error kind to what the contract puts on the wire.
var contractCodes = []struct {
	kind   error
	status int
	code   string
	// challenge: "" none, "-" bare, else the error attribute.
	challenge string
}{
	{core.ErrBodyTooLarge, 413, "invalid_request", ""},
	{core.ErrInvalidRequest, 400, "invalid_request", ""},
	{core.ErrInvalidGrant, 400, "invalid_grant", ""},
	{core.ErrNoCredential, 401, "invalid_token", "-"},
	{core.ErrInvalidToken, 401, "invalid_token", "invalid_token"},
	{core.ErrInsufficientScope, 403, "insufficient_scope", "insufficient_scope"},
	{core.ErrNotFound, 404, "not_found", ""},
	{core.ErrTooManyRequests, 429, "too_many_requests", ""},
	{core.ErrInternal, 500, "server_error", ""},
	{core.ErrUnavailable, 503, "temporarily_unavailable", ""},
}

func (h *harness) challenge(attr string) string {
	realm := h.svc.Config().Realm
	switch attr {
	case "":
		return ""
	case "-":
		return `Bearer realm="` + realm + `"`
	}
	return `Bearer realm="` + realm + `", error="` + attr + `"`
}

// checkErrorInvariants: every error answer has Cache-Control: no-store,
// Content-Type: application/json and one of the core's error bodies, exactly
// {"error","error_description"}, with no token material in it.
func (r *response) checkErrorInvariants() {
	r.h.t.Helper()
	if got := r.Header.Get("Cache-Control"); got != "no-store" {
		r.fatalf("Cache-Control = %q, want no-store", got)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		r.fatalf("Content-Type = %q, want application/json", got)
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil || len(m) != 2 {
		r.fatalf("error body is not exactly {error, error_description}")
	}
	code, _ := m["error"].(string)
	desc, _ := m["error_description"].(string)
	if desc == "" {
		r.fatalf("error_description missing")
	}
	known, rendered := false, false
	for _, c := range contractCodes {
		if c.status == r.Status && c.code == code {
			known = true
			rendered = rendered || slices.ContainsFunc(r.h.renderings(c.kind), func(b []byte) bool { return bytes.Equal(r.Body, b) })
		}
	}
	if !known {
		r.fatalf("status %d with code %q is not in the contract", r.Status, code)
	}
	if !rendered {
		r.fatalf("error body differs from the core's rendering")
	}
	for v, name := range r.h.secrets {
		if strings.Contains(string(r.Body), v) {
			r.fatalf("error body carries secret %s", name)
		}
	}
	if k := r.h.svc.Keys().SigningKey(); k != nil && strings.Contains(string(r.Body), k.ID()) {
		r.fatalf("error body carries a key id")
	}
}

// Err asserts the exact error answer for kind: status, body as the core
// renders it, error code, Cache-Control, Content-Type, the WWW-Authenticate
// challenge (or its absence) and, for 429, Retry-After. It returns r.
func (r *response) Err(kind error) *response {
	r.h.t.Helper()
	for _, c := range contractCodes {
		if c.kind != kind {
			continue
		}
		if r.Status != c.status {
			r.fatalf("status want %d (%s)", c.status, c.code)
		}
		var m map[string]string
		_ = json.Unmarshal(r.Body, &m)
		if m["error"] != c.code {
			r.fatalf("error code want %q", c.code)
		}
		if want := r.h.renderings(kind); !slices.ContainsFunc(want, func(b []byte) bool { return bytes.Equal(r.Body, b) }) {
			r.fatalf("body want %s", bytes.Join(want, []byte(" or ")))
		}
		if got, want := r.Header.Values("WWW-Authenticate"), r.h.challenge(c.challenge); strings.Join(got, "\n") != want {
			r.fatalf("WWW-Authenticate = %q, want %q", got, want)
		}
		if ra := r.Header.Values("Retry-After"); c.status == 429 {
			if len(ra) != 1 {
				r.fatalf("want exactly one Retry-After, got %q", ra)
			}
			n, err := strconv.Atoi(ra[0])
			if err != nil || n <= 0 || n > 900 || strconv.Itoa(n) != ra[0] {
				r.fatalf("Retry-After %q is not an integer number of seconds in [1, 900]", ra[0])
			}
		} else if len(ra) != 0 {
			r.fatalf("unexpected Retry-After %q", ra)
		}
		return r
	}
	r.h.t.Fatalf("adaptertest: unknown error kind %v", kind)
	return r
}

// RetryAfter returns the Retry-After seconds.
func (r *response) RetryAfter() int {
	n, _ := strconv.Atoi(r.Header.Get("Retry-After"))
	return n
}

// Want asserts the status.
func (r *response) Want(status int) *response {
	r.h.t.Helper()
	if r.Status != status {
		r.fatalf("status want %d", status)
	}
	return r
}

// NoContent asserts 204 with an empty body, Cache-Control: no-store and no Content-Type.
func (r *response) NoContent() *response {
	r.h.t.Helper()
	r.Want(204)
	if len(r.Body) != 0 {
		r.fatalf("204 with a body")
	}
	if got := r.Header.Get("Cache-Control"); got != "no-store" {
		r.fatalf("Cache-Control = %q, want no-store", got)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		r.fatalf("204 with Content-Type %q", ct)
	}
	return r
}

// JSONBody asserts 200, Content-Type: application/json and the exact body.
func (r *response) JSONBody(want string) *response {
	r.h.t.Helper()
	r.Want(200)
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		r.fatalf("Content-Type = %q, want application/json", ct)
	}
	if string(r.Body) != want {
		r.fatalf("body want %s", want)
	}
	return r
}

// Object decodes a JSON object body (numbers as json.Number) and asserts its
// key set is exactly keys.
func (r *response) Object(keys ...string) map[string]any {
	r.h.t.Helper()
	return decodeObject(r, r.Body, keys...)
}

func decodeObject(r *response, b []byte, keys ...string) map[string]any {
	r.h.t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		r.fatalf("body is not a JSON object: %v", err)
	}
	if dec.More() {
		r.fatalf("trailing data after the JSON object")
	}
	if keys != nil {
		got := make([]string, 0, len(m))
		for k := range m {
			got = append(got, k)
		}
		slices.Sort(got)
		want := slices.Clone(keys)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			r.fatalf("keys %v, want exactly %v", got, want)
		}
	}
	return m
}

// tokenSet is a parsed token response.
type tokenSet struct {
	Access           string
	Refresh          string // "" in cookie transport: see Cookie
	SessionID        string
	ExpiresIn        int64
	RefreshExpiresIn int64
	// Cookie is the refresh cookie set in cookie transport.
	Cookie *http.Cookie
}

var (
	refreshTokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43,}$`)
	b64urlRE       = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// Tokens asserts a 200 token response of the contract in JSON transport:
// Content-Type, Cache-Control: no-store, exactly the six fields with their
// JSON types, tokenType Bearer, a JWS access token, a base64url refresh token
// of at least 256 bits, expiresIn equal to the configured access TTL capped
// by the session's remaining life, and no cookie. It registers the secrets.
func (r *response) Tokens() tokenSet {
	r.h.t.Helper()
	return r.tokens(false)
}

// CookieTokens is tokenSet for cookie transport: no refreshToken in the body,
// the refresh token in the refresh cookie with Max-Age = refreshExpiresIn.
func (r *response) CookieTokens() tokenSet {
	r.h.t.Helper()
	return r.tokens(true)
}

func (r *response) tokens(cookieMode bool) tokenSet {
	r.h.t.Helper()
	h := r.h
	r.Want(200)
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		r.fatalf("Content-Type = %q, want application/json", ct)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		r.fatalf("Cache-Control = %q, want no-store", cc)
	}
	if !cookieMode {
		r.NoSetCookie()
	}
	keys := []string{"accessToken", "refreshToken", "tokenType", "expiresIn", "refreshExpiresIn", "sessionId"}
	if cookieMode {
		keys = []string{"accessToken", "tokenType", "expiresIn", "refreshExpiresIn", "sessionId"}
	}
	m := r.Object(keys...)
	str := func(k string) string {
		s, ok := m[k].(string)
		if !ok || s == "" {
			r.fatalf("%s is not a non-empty string", k)
		}
		return s
	}
	num := func(k string) int64 {
		n, ok := m[k].(json.Number)
		if !ok {
			r.fatalf("%s is not a number", k)
		}
		v, err := n.Int64()
		if err != nil || strconv.FormatInt(v, 10) != n.String() {
			r.fatalf("%s = %s is not an integer", k, n)
		}
		return v
	}
	var t tokenSet
	t.Access = str("accessToken")
	if tt := str("tokenType"); tt != "Bearer" {
		r.fatalf("tokenType = %q, want Bearer", tt)
	}
	t.SessionID = str("sessionId")
	t.ExpiresIn = num("expiresIn")
	t.RefreshExpiresIn = num("refreshExpiresIn")
	parts := strings.Split(t.Access, ".")
	if len(parts) != 3 || !b64urlRE.MatchString(parts[0]) || !b64urlRE.MatchString(parts[1]) || !b64urlRE.MatchString(parts[2]) {
		r.fatalf("accessToken is not a compact JWS")
	}
	h.secret(t.Access, "access")
	h.named(t.SessionID, "session")
	if t.RefreshExpiresIn <= 0 {
		r.fatalf("refreshExpiresIn = %d, want > 0", t.RefreshExpiresIn)
	}
	ttl := int64(h.svc.Config().AccessTTL / time.Second)
	if want := min(ttl, t.RefreshExpiresIn); t.ExpiresIn != want {
		r.fatalf("expiresIn = %d, want %d (access TTL capped by the session)", t.ExpiresIn, want)
	}
	if cookieMode {
		t.Cookie = r.RefreshCookie(t.RefreshExpiresIn)
		t.Refresh = ""
	} else {
		t.Refresh = str("refreshToken")
		if !refreshTokenRE.MatchString(t.Refresh) {
			r.fatalf("refreshToken is not base64url of at least 256 bits")
		}
		h.secret(t.Refresh, "refresh")
	}
	return t
}

// RefreshCookie asserts exactly one Set-Cookie: the refresh cookie with the
// contract's attributes and Max-Age maxAge (0: cleared, empty value).
func (r *response) RefreshCookie(maxAge int64) *http.Cookie {
	r.h.t.Helper()
	h := r.h
	vs := r.Header.Values("Set-Cookie")
	if len(vs) != 1 {
		r.fatalf("want exactly one Set-Cookie, got %q", vs)
	}
	raw := vs[0]
	c, err := http.ParseSetCookie(raw)
	if err != nil {
		r.fatalf("Set-Cookie %q does not parse: %v", raw, err)
	}
	cfg := h.svc.Config()
	wantSameSite := http.SameSiteStrictMode
	if cfg.Cookie.SameSite == "Lax" {
		wantSameSite = http.SameSiteLaxMode
	}
	switch {
	case c.Name != wire.RefreshCookieName:
		r.fatalf("cookie name %q, want %q", c.Name, wire.RefreshCookieName)
	case c.Path != cfg.MountPrefix:
		r.fatalf("cookie Path %q, want %q", c.Path, cfg.MountPrefix)
	case !c.HttpOnly || !c.Secure:
		r.fatalf("cookie must be HttpOnly and Secure")
	case c.SameSite != wantSameSite:
		r.fatalf("cookie SameSite %v, want %v", c.SameSite, wantSameSite)
	case c.Domain != "":
		r.fatalf("cookie must not set Domain")
	case !strings.Contains(raw, "Max-Age="+strconv.FormatInt(maxAge, 10)):
		r.fatalf("cookie Max-Age, want %d", maxAge)
	}
	if maxAge == 0 {
		if c.Value != "" {
			r.fatalf("a cleared cookie must have an empty value")
		}
		return c
	}
	if c.MaxAge != int(maxAge) {
		r.fatalf("cookie Max-Age %d, want %d", c.MaxAge, maxAge)
	}
	if !refreshTokenRE.MatchString(c.Value) {
		r.fatalf("cookie value is not a base64url refresh token")
	}
	h.secret(c.Value, "refresh")
	return c
}

// NoSetCookie asserts the answer sets no cookie.
func (r *response) NoSetCookie() *response {
	r.h.t.Helper()
	if vs := r.Header.Values("Set-Cookie"); len(vs) != 0 {
		r.fatalf("unexpected Set-Cookie %q", vs)
	}
	return r
}

// ---- flows ----

func loginJSON(email, password string) string {
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	return string(b)
}

// login logs email in with the fixture password and returns the tokens.
func (h *harness) login(email string) tokenSet {
	h.t.Helper()
	return h.req("POST", "/auth/login").JSON(loginJSON(email, authtest.Password)).Send().Tokens()
}

// loginAttempt sends a login with the given password (registered as a secret).
func (h *harness) loginAttempt(email, password string) *response {
	h.t.Helper()
	h.secret(password, "password")
	return h.req("POST", "/auth/login").JSON(loginJSON(email, password)).Send()
}

func refreshJSON(tok string) string {
	b, _ := json.Marshal(map[string]string{"refreshToken": tok})
	return string(b)
}

func (h *harness) refresh(tok string) *response {
	h.t.Helper()
	return h.req("POST", "/auth/refresh").JSON(refreshJSON(tok)).Send()
}

func (h *harness) logout(tok string) *response {
	h.t.Helper()
	return h.req("POST", "/auth/logout").JSON(refreshJSON(tok)).Send()
}

func (h *harness) profile(access string) *response {
	h.t.Helper()
	return h.req("GET", "/api/profile").Bearer(access).Send()
}

// live asserts that access is accepted by Require and belongs to subject.
func (h *harness) live(access, subject string) {
	h.t.Helper()
	res := h.profile(access).Want(200)
	m := res.Object("sub", "roles")
	if m["sub"] != subject {
		res.fatalf("sub = %v, want %s", m["sub"], h.replace(subject))
	}
}

// dead asserts that access is refused with 401 invalid_token.
func (h *harness) dead(access string) {
	h.t.Helper()
	h.profile(access).Err(core.ErrInvalidToken)
}

// sameAnswer asserts two answers are identical in status, headers (but Date)
// and body bytes.
func sameAnswer(a, b *response) {
	a.h.t.Helper()
	if a.Status != b.Status || !bytes.Equal(a.Body, b.Body) {
		b.fatalf("differs from %s -> %d %s", a.label, a.Status, a.Body)
	}
	ha, hb := a.Header.Clone(), b.Header.Clone()
	ha.Del("Date")
	hb.Del("Date")
	if fmt.Sprint(ha) != fmt.Sprint(hb) {
		b.fatalf("headers %v differ from %s: %v", hb, a.label, ha)
	}
}

// jwtPart decodes segment i (0 header, 1 payload) of a compact JWS.
func jwtPart(h *harness, tok string, i int) map[string]any {
	h.t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		h.t.Fatalf("JWT segment %d is not base64url: %v", i, err)
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		h.t.Fatalf("JWT segment %d is not a JSON object: %v", i, err)
	}
	return m
}
