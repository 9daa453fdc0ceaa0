package token

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// fuzzSets are the key sets the fuzz targets verify against: one with the
// three signature algorithms and one HMAC set.
func fuzzSets(t testing.TB) (asym, mac *KeySet) {
	asym, err := NewKeySet(testKey(t, AlgEdDSA), testKey(t, AlgES256), testKey(t, AlgRS256))
	if err != nil {
		t.Fatal(err)
	}
	return asym, testKeySet(t, AlgHS256)
}

// seedTokens are the valid tokens and every table case, for every key.
func seedTokens(t testing.TB) []string {
	var seeds []string
	for _, alg := range allAlgs {
		k := testKey(t, alg)
		seeds = append(seeds, valid(t, k))
	}
	for _, c := range securityCases() {
		alg := c.alg
		if alg == "" {
			alg = AlgEdDSA
		}
		if tok := c.token(t, testKey(t, alg)); len(tok) < 16<<10 {
			seeds = append(seeds, tok)
		}
	}
	return seeds
}

// seedSegments returns the decoded headers and payloads of the table cases;
// headers are rewritten to name the HMAC test key.
func seedSegments(t testing.TB) (headers, payloads [][]byte) {
	hk := testKey(t, AlgHS256)
	for _, c := range securityCases() {
		alg := c.alg
		if alg == "" {
			alg = AlgEdDSA
		}
		k := testKey(t, alg)
		parts := strings.Split(c.token(t, k), ".")
		if len(parts) != 3 {
			continue
		}
		dec := base64.RawURLEncoding.Strict()
		if h, err := dec.DecodeString(parts[0]); err == nil && len(h) < 2048 {
			h = bytes.ReplaceAll(h, []byte(k.kid), []byte(hk.kid))
			h = bytes.ReplaceAll(h, []byte(`"`+alg+`"`), []byte(`"HS256"`))
			headers = append(headers, h)
		}
		if p, err := dec.DecodeString(parts[1]); err == nil {
			payloads = append(payloads, p)
		}
	}
	return headers, payloads
}

// checkSignature verifies the signature of an accepted token independently
// of Verify: strict stdlib decoding and golang-jwt's verifier.
func checkSignature(t *testing.T, ks *KeySet, token string) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("accepted token has %d segments", len(parts))
	}
	dec := base64.RawURLEncoding.Strict()
	hb, err := dec.DecodeString(parts[0])
	if err != nil {
		t.Fatalf("accepted header does not decode: %v", err)
	}
	var h map[string]any
	if err := json.Unmarshal(hb, &h); err != nil {
		t.Fatalf("accepted header is not JSON: %v", err)
	}
	for name := range h {
		if name != "alg" && name != "kid" && name != "typ" {
			t.Fatalf("accepted header has member %q", name)
		}
	}
	var k *Key
	if kid, ok := h["kid"].(string); ok {
		k, _ = ks.Key(kid)
	} else {
		k = ks.cur.Load().sole
	}
	if k == nil || h["alg"] != k.alg {
		t.Fatalf("accepted header %s names no key of its alg", hb)
	}
	sig, err := dec.DecodeString(parts[2])
	if err != nil {
		t.Fatalf("accepted signature does not decode: %v", err)
	}
	input := parts[0] + "." + parts[1]
	var vk any = k.verifyKey
	if k.mac {
		vk = k.secret
	}
	if err := jwt.GetSigningMethod(k.alg).Verify(input, sig, vk); err != nil {
		t.Fatalf("accepted token has an invalid signature: %v", err)
	}
	if _, err := dec.DecodeString(parts[1]); err != nil {
		t.Fatalf("accepted payload does not decode: %v", err)
	}
}

// checkAccepted asserts the invariants of an accepted claim set.
func checkAccepted(t *testing.T, c *AccessClaims, o *VerifyOptions) {
	t.Helper()
	if c.Issuer != o.Issuer || !slices.Contains(c.Audience, o.Audience) || c.Subject == "" || c.ID == "" || c.SessionID == "" {
		t.Fatalf("accepted claims break the rules: %+v", c)
	}
	now := o.Now.Unix()
	lee := int64(o.Leeway.Seconds())
	if c.ExpiresAt <= c.IssuedAt || c.ExpiresAt-c.IssuedAt > int64(o.MaxTTL.Seconds()) ||
		now >= c.ExpiresAt+lee || c.IssuedAt > now+lee || c.NotBefore > now+lee {
		t.Fatalf("accepted times break the rules: %+v", c)
	}
}

// FuzzVerify feeds arbitrary tokens to Verify: it must never panic, and an
// accepted token must re-verify identically and carry a valid signature.
func FuzzVerify(f *testing.F) {
	for _, s := range seedTokens(f) {
		f.Add(s)
	}
	for _, alg := range allAlgs {
		k := testKey(f, alg)
		f.Add(mint(f, k, stdHeader(k), stdPayload("tenant", `"acme"`)))
	}
	asym, mac := fuzzSets(f)
	o := testOptions()
	f.Fuzz(func(t *testing.T, token string) {
		for _, ks := range []*KeySet{asym, mac} {
			var c AccessClaims
			if err := ks.Verify(token, &o, &c); err != nil {
				if ReasonOf(err) == ReasonNone {
					t.Fatalf("error without reason: %v", err)
				}
				continue
			}
			var again AccessClaims
			if err := ks.Verify(token, &o, &again); err != nil || !reflect.DeepEqual(c, again) {
				t.Fatalf("second verification differs: %v %+v %+v", err, c, again)
			}
			checkSignature(t, ks, token)
			checkAccepted(t, &c, &o)
		}
	})
}

// FuzzClaims signs arbitrary claim bytes with the real HMAC key, so the
// fuzzer reaches the claim parser; whatever Verify accepts must read the
// same through encoding/json and have no duplicate or case-variant names.
func FuzzClaims(f *testing.F) {
	_, payloads := seedSegments(f)
	for _, p := range payloads {
		f.Add(p)
	}
	f.Add([]byte(stdPayload()))
	f.Add([]byte(stdPayload("tenant", `"acme"`)))
	f.Add([]byte(stdPayload("client_id", `"cli"`, "tenant", `"t\u00e9nant"`)))
	k := testKey(f, AlgHS256)
	ks := testKeySet(f, AlgHS256)
	h64 := enc(stdHeader(k))
	o := testOptions()
	f.Fuzz(func(t *testing.T, payload []byte) {
		token := signRaw(t, k, AlgHS256, h64, base64.RawURLEncoding.EncodeToString(payload))
		var c AccessClaims
		if ks.Verify(token, &o, &c) != nil {
			return
		}
		checkAccepted(t, &c, &o)
		if !utf8.Valid(payload) {
			t.Fatal("accepted invalid UTF-8")
		}
		dec := json.NewDecoder(bytes.NewReader(payload))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("encoding/json rejects an accepted claim set: %v", err)
		}
		if _, err := dec.Token(); err == nil {
			t.Fatal("trailing data accepted")
		}
		names := topLevelNames(t, payload)
		if len(names) != len(m) {
			t.Fatalf("duplicate member names accepted: %q", names)
		}
		for _, n := range names {
			for _, known := range knownClaims {
				if n != known && strings.EqualFold(n, known) {
					t.Fatalf("case variant %q accepted", n)
				}
			}
		}
		str := func(name, got string) {
			if v, ok := m[name]; ok || got != "" {
				if s, _ := v.(string); s != got {
					t.Fatalf("%s: encoding/json reads %q, Verify %q", name, v, got)
				}
			}
		}
		str("iss", c.Issuer)
		str("sub", c.Subject)
		str("jti", c.ID)
		str("sid", c.SessionID)
		str("client_id", c.ClientID)
		str("tenant", c.Tenant)
		if _, ok := m["tenant"]; ok && (c.Tenant == "" || len(c.Tenant) > MaxTenantLength) {
			t.Fatalf("tenant %q accepted", c.Tenant)
		}
		num := func(name string, got int64) {
			v, ok := m[name]
			if !ok {
				if got != 0 {
					t.Fatalf("%s: absent but Verify reads %d", name, got)
				}
				return
			}
			f, err := v.(json.Number).Float64()
			if err != nil || f < 0 || math.Abs(math.Trunc(f)-float64(got)) > 1 {
				t.Fatalf("%s: encoding/json reads %v, Verify %d", name, v, got)
			}
		}
		num("exp", c.ExpiresAt)
		num("iat", c.IssuedAt)
		num("nbf", c.NotBefore)
		num("auth_time", c.AuthTime)
		var aud []string
		switch v := m["aud"].(type) {
		case string:
			aud = []string{v}
		case []any:
			for _, a := range v {
				aud = append(aud, a.(string))
			}
		}
		if !slices.Equal(aud, c.Audience) {
			t.Fatalf("aud: encoding/json reads %q, Verify %q", aud, c.Audience)
		}
		if r, ok := m["roles"].([]any); ok {
			if len(r) != len(c.Roles) {
				t.Fatalf("roles: %v vs %q", r, c.Roles)
			}
			for i := range r {
				if r[i].(string) != c.Roles[i] {
					t.Fatalf("roles: %v vs %q", r, c.Roles)
				}
			}
		} else if c.Roles != nil {
			t.Fatalf("roles absent but Verify reads %q", c.Roles)
		}
	})
}

// topLevelNames lists the member names of a JSON object, duplicates kept.
func topLevelNames(t *testing.T, b []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %v", err)
	}
	var names []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

// FuzzHeader signs the standard claims under arbitrary header bytes.
func FuzzHeader(f *testing.F) {
	k := testKey(f, AlgHS256)
	headers, _ := seedSegments(f)
	for _, h := range headers {
		f.Add(h)
	}
	ks := testKeySet(f, AlgHS256)
	p64 := enc(stdPayload())
	o := testOptions()
	f.Fuzz(func(t *testing.T, header []byte) {
		token := signRaw(t, k, AlgHS256, base64.RawURLEncoding.EncodeToString(header), p64)
		if ks.Verify(token, &o, nil) != nil {
			return
		}
		var h map[string]any
		if err := json.Unmarshal(header, &h); err != nil || !utf8.Valid(header) {
			t.Fatalf("accepted header %q: %v", header, err)
		}
		names := topLevelNames(t, header)
		if len(names) != len(h) {
			t.Fatalf("duplicate header members accepted: %q", header)
		}
		typ, _ := h["typ"].(string)
		if h["alg"] != AlgHS256 || (h["kid"] != nil && h["kid"] != k.kid) ||
			(!strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt")) {
			t.Fatalf("accepted header %s", header)
		}
		for name := range h {
			if name != "alg" && name != "kid" && name != "typ" {
				t.Fatalf("accepted header member %q", name)
			}
		}
	})
}

// FuzzJSONScanner checks the scanner against encoding/json: every object it
// accepts is valid JSON without duplicate names, and every string it
// decodes reads the same through encoding/json.
func FuzzJSONScanner(f *testing.F) {
	headers, payloads := seedSegments(f)
	for _, b := range append(headers, payloads...) {
		f.Add(b)
	}
	for _, s := range []string{`{}`, `{"a":"\ud83d\ude00\u00e9\n\"\\\/"}`, `{"a":[{"b":{}}],"c":-0.5e+7}`, `"x"`, `{"a":1}x`, `{"a":"\ud800"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		accepted := validJSONObject(bytes.Clone(data))
		if accepted {
			if !json.Valid(data) || !utf8.Valid(data) {
				t.Fatalf("scanner accepts invalid JSON %q", data)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatalf("scanner accepts a non-object %q: %v", data, err)
			}
		}
		// Strings: the scanner's decoding equals encoding/json's.
		q := append(append([]byte{'"'}, data...), '"')
		s := jsonScanner{b: bytes.Clone(q)}
		sp, ok := s.str()
		if !ok || s.i != len(q) {
			return
		}
		var want string
		if err := json.Unmarshal(q, &want); err != nil {
			t.Fatalf("scanner accepts string %q that encoding/json rejects: %v", q, err)
		}
		if got := string(s.b[sp.a:sp.b]); got != want || !utf8.ValidString(got) {
			t.Fatalf("string %q: scanner %q, encoding/json %q", q, got, want)
		}
	})
}

// FuzzBase64Decode checks the decoder against base64.RawURLEncoding.Strict()
// (which also skips line breaks; ours refuses them).
func FuzzBase64Decode(f *testing.F) {
	for _, s := range []string{"", "A", "AA", "AB", "AAA", "AAB", "AAAA", "_-_-", "a+b/", "AA==", "eyJhbGciOiJFZERTQSJ9", "YQ", "YR", "YWI", "YWJ"} {
		f.Add(s)
	}
	for _, s := range seedTokens(f)[:8] {
		for _, seg := range strings.Split(s, ".") {
			f.Add(seg)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := base64.RawURLEncoding.Strict().DecodeString(s)
		if strings.ContainsAny(s, "\r\n") {
			// The stdlib skips line breaks even in strict mode; a JWS
			// segment holds none.
			err = errors.New("line break")
		}
		buf := make([]byte, b64DecodedLen(len(s)))
		n, ok := b64Decode(buf, s)
		if ok != (err == nil) {
			t.Fatalf("%q: ours ok=%v, stdlib err=%v", s, ok, err)
		}
		if ok && !bytes.Equal(buf[:n], want) {
			t.Fatalf("%q: ours %x, stdlib %x", s, buf[:n], want)
		}
		if b64Alphabet(s) != !strings.ContainsFunc(s, func(r rune) bool {
			return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
		}) {
			t.Fatalf("%q: alphabet check disagrees", s)
		}
	})
}
