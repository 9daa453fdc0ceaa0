// Package adaptertest is the HTTP conformance suite of authguard: the wire
// contract (docs/contract.md) as a table of HTTP cases that every router
// adapter (net/http, chi, gin, fiber) runs unchanged.
//
// An adapter test supplies a Factory that builds the adapter's server around
// a *core.Service, then calls Run:
//
//	func TestConformance(t *testing.T) {
//		adaptertest.Run(t, func(t *testing.T, svc *core.Service) adaptertest.Do {
//			h := newServer(svc) // Mount + the demo routes below
//			return func(r *http.Request) (*http.Response, error) {
//				w := httptest.NewRecorder()
//				h.ServeHTTP(w, r)
//				return w.Result(), nil
//			}
//		})
//	}
//
// Every case runs as a subtest with a fresh authtest fixture (memory store,
// settable clock, log capture). Time-dependent cases move the fixture clock
// instead of sleeping; only the stale-revocation-feed case waits in real time
// (with poll and staleness intervals of milliseconds). After every case the
// suite checks that the captured log contains none of the secrets the case
// saw (access and refresh tokens, cookie values, passwords).
//
// Record runs the deterministic cases and returns their exchanges with
// tokens, ids, key material and times replaced by placeholders, so that a
// parity test can compare the bytes every adapter puts on the wire.
package adaptertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/authguard/authguard/core"
)

// Do sends one request to the adapter under test and returns its response.
//
// The requests are built with httptest.NewRequest: a path-only URL on host
// example.com, RequestURI set and RemoteAddr 192.0.2.1:1234. A Do that sends
// over a real connection must clear RequestURI and set the URL's scheme and
// host first, and must not follow redirects: the suite follows them itself,
// as browsers do (see the session path variants). The suite reads and closes
// every response body.
type Do func(*http.Request) (*http.Response, error)

// Factory builds the adapter's server around svc: it must mount the token
// endpoints (the adapter's Mount), the role administration over
// RoleAdmin(svc) (the adapter's MountRoleAdmin) and serve the demo routes:
//
//	GET /healthz            -> no guard; 200 HealthJSON
//	GET /api/profile        -> Require; 200 ProfileBody(principal)
//	GET /api/optional       -> Optional; 200 OptionalBody(principal or nil)
//	GET /api/admin/stats    -> RequireRole("admin"); 200 AdminStatsJSON
//	GET /api/reports        -> RequirePermission("reports", "read"); 200 ReportsJSON
//	DELETE /api/reports/{id} -> RequirePermission("reports", "delete"); 204, no body
//	GET /admin              -> AuthorizeRoute (object "/admin", action GET); 200 RouteJSON
//
// Every 200 demo answer carries Content-Type: application/json (DemoContentType).
type Factory func(t *testing.T, svc *core.Service) Do

// Demo-route bodies, written by the factories so that every adapter serves
// the same bytes.
const (
	// HealthJSON is the body of GET /healthz.
	HealthJSON = `{"status":"ok"}`
	// AdminStatsJSON is the body of GET /api/admin/stats.
	AdminStatsJSON = `{"ok":true}`
	// ReportsJSON is the body of GET /api/reports.
	ReportsJSON = `{"reports":[]}`
	// DemoContentType is the Content-Type of every 200 demo answer.
	DemoContentType = "application/json"
)

// ProfileBody renders the body of GET /api/profile: {"sub":...,"roles":[...]}
// (roles is [] rather than null when the principal has none).
func ProfileBody(p *core.Principal) []byte {
	roles := []string{}
	if p != nil && p.Roles != nil {
		roles = p.Roles
	}
	var sub string
	if p != nil {
		sub = p.Subject
	}
	b, _ := json.Marshal(struct {
		Sub   string   `json:"sub"`
		Roles []string `json:"roles"`
	}{sub, roles})
	return b
}

// OptionalBody renders the body of GET /api/optional: {"sub":""} for an
// anonymous caller (p == nil), else {"sub":"<subject>"}.
func OptionalBody(p *core.Principal) []byte {
	var sub string
	if p != nil {
		sub = p.Subject
	}
	b, _ := json.Marshal(struct {
		Sub string `json:"sub"`
	}{sub})
	return b
}

// Exchange is one normalised request/response pair recorded by Record.
type Exchange struct {
	// Case names the case, the step number and the request ("login/ok#01 POST /auth/login").
	Case string
	// Status is the response status.
	Status int
	// Header holds only WWW-Authenticate, Cache-Control, Content-Type,
	// Retry-After and Set-Cookie, normalised.
	Header http.Header
	// Body is the normalised response body.
	Body string
}

// recordedHeaders are the headers an Exchange keeps.
var recordedHeaders = []string{"Www-Authenticate", "Cache-Control", "Content-Type", "Retry-After", "Set-Cookie"}

// Run runs every case of the suite against the adapter built by f, each as a
// subtest with a fresh fixture.
func Run(t *testing.T, f Factory) {
	t.Helper()
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) { runCase(t, f, c, nil) })
	}
}

// Record runs the deterministic cases (every case but those that wait in
// real time) with their assertions, and returns the normalised exchanges in
// order, for a golden cross-adapter parity test (compare with Diff).
func Record(t *testing.T, f Factory) []Exchange {
	t.Helper()
	var out []Exchange
	for _, c := range cases() {
		if c.realTime {
			continue
		}
		t.Run(c.name, func(t *testing.T) { runCase(t, f, c, &out) })
	}
	return out
}

// Diff compares two recordings and describes the first differences (at most
// ten); it returns "" when they are equal.
func Diff(want, got []Exchange) string {
	var b strings.Builder
	n := 0
	note := func(format string, args ...any) {
		if n < 10 {
			fmt.Fprintf(&b, format+"\n", args...)
		}
		n++
	}
	if len(want) != len(got) {
		note("recordings differ in length: want %d exchanges, got %d", len(want), len(got))
	}
	for i := 0; i < min(len(want), len(got)); i++ {
		w, g := want[i], got[i]
		if w.Case != g.Case {
			note("exchange %d: want case %q, got %q", i, w.Case, g.Case)
			continue
		}
		if w.Status != g.Status {
			note("%s: status want %d, got %d", w.Case, w.Status, g.Status)
		}
		for _, k := range recordedHeaders {
			if wv, gv := strings.Join(w.Header.Values(k), "\n"), strings.Join(g.Header.Values(k), "\n"); wv != gv {
				note("%s: header %s want %q, got %q", w.Case, k, wv, gv)
			}
		}
		if w.Body != g.Body {
			note("%s: body want %q, got %q", w.Case, w.Body, g.Body)
		}
	}
	if n > 10 {
		fmt.Fprintf(&b, "... and %d more differences\n", n-10)
	}
	return b.String()
}
