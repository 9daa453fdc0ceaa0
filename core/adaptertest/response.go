package adaptertest

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/authguard/authguard/core"
)

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
