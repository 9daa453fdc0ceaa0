package adaptertest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
)

// Flows: the request sequences the cases share.

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
