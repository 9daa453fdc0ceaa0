package token

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// securityCase is one malicious (or boundary) token. The token is built by
// hand and signed with the real key, so only the targeted check can fail.
type securityCase struct {
	name   string
	alg    string // key algorithm (EdDSA when empty)
	token  func(t testing.TB, k *Key) string
	opts   func(o *VerifyOptions)
	reason string // "" = must be accepted
}

// tok signs header and payload JSON with k.
func tok(header, payload string) func(testing.TB, *Key) string {
	return func(t testing.TB, k *Key) string { return mint(t, k, header, payload) }
}

// withHeader signs the standard payload under a header built from k.
func withHeader(f func(k *Key) string) func(testing.TB, *Key) string {
	return func(t testing.TB, k *Key) string { return mint(t, k, f(k), stdPayload()) }
}

// extraHeader adds a member to the standard header.
func extraHeader(member string) func(testing.TB, *Key) string {
	return withHeader(func(k *Key) string {
		return strings.TrimSuffix(stdHeader(k), "}") + "," + member + "}"
	})
}

// headerWith builds a header from raw members.
func headerWith(members string) func(testing.TB, *Key) string {
	return withHeader(func(k *Key) string {
		return "{" + strings.ReplaceAll(members, "KID", k.kid) + "}"
	})
}

// payload signs a payload under the standard header.
func payload(p string) func(testing.TB, *Key) string {
	return func(t testing.TB, k *Key) string { return mint(t, k, stdHeader(k), p) }
}

// claims signs the standard payload with members replaced.
func claims(replace ...string) func(testing.TB, *Key) string {
	return payload(stdPayload(replace...))
}

// valid is a correctly signed standard token.
func valid(t testing.TB, k *Key) string { return mint(t, k, stdHeader(k), stdPayload()) }

// mutate edits a valid token.
func mutate(f func(string) string) func(testing.TB, *Key) string {
	return func(t testing.TB, k *Key) string { return f(valid(t, k)) }
}

// segments builds a token from raw (already encoded) header and payload
// segments signed with k.
func segments(h64, p64 func(k *Key) string) func(testing.TB, *Key) string {
	return func(t testing.TB, k *Key) string { return signRaw(t, k, k.alg, h64(k), p64(k)) }
}

// tweakLast sets the lowest bit of the last character's 6-bit value, which
// a lax decoder drops (non-canonical trailing bits).
func tweakLast(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[i|1])
}

func at(d time.Duration) func(o *VerifyOptions) {
	return func(o *VerifyOptions) { o.Now = testNow.Add(d) }
}

var (
	nowS   = testNow.Unix()
	expS   = nowS + 600
	leeway = int64(5)
)

func securityCases() []securityCase {
	exp := itoa(expS)
	return []securityCase{
		// A. Token format and parsing.
		{name: "R1/jws_json_serialization", token: func(t testing.TB, k *Key) string {
			parts := strings.Split(valid(t, k), ".")
			return `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`
		}, reason: "malformed"},
		{name: "R1/jws_general_json", token: func(t testing.TB, k *Key) string {
			parts := strings.Split(valid(t, k), ".")
			return `{"payload":"` + parts[1] + `","signatures":[{"protected":"` + parts[0] + `","signature":"` + parts[2] + `"}]}`
		}, reason: "malformed"},
		{name: "R1/five_segments_jwe", token: func(t testing.TB, k *Key) string {
			return enc(`{"alg":"RSA-OAEP","enc":"A256GCM","kid":"`+k.kid+`"}`) + ".AAAA.AAAA.AAAA.AAAA"
		}, reason: "malformed"},
		{name: "R1/four_segments", token: mutate(func(s string) string { return s + ".AAAA" }), reason: "malformed"},
		{name: "R1/two_segments", token: mutate(func(s string) string { return s[:strings.LastIndexByte(s, '.')] }), reason: "malformed"},
		{name: "R1/empty_signature", token: mutate(func(s string) string { return s[:strings.LastIndexByte(s, '.')+1] }), reason: "malformed"},
		{name: "R1/empty_header", token: mutate(func(s string) string { return s[strings.IndexByte(s, '.'):] }), reason: "malformed"},
		{name: "R1/empty_payload", token: func(t testing.TB, k *Key) string { return signRaw(t, k, k.alg, enc(stdHeader(k)), "") }, reason: "malformed"},
		{name: "R1/empty_token", token: func(testing.TB, *Key) string { return "" }, reason: "malformed"},
		{name: "R1/dots_only", token: func(testing.TB, *Key) string { return ".." }, reason: "malformed"},
		{name: "R1/padding", token: mutate(func(s string) string { return s + "==" }), reason: "malformed"},
		{name: "R1/padding_in_signed_payload", token: segments(
			func(k *Key) string { return enc(stdHeader(k)) },
			func(*Key) string { return padded(stdPayload()) },
		), reason: "malformed"},
		{name: "R1/padding_in_signed_header", token: segments(
			func(k *Key) string { return padded(stdHeader(k)) },
			func(*Key) string { return enc(stdPayload()) },
		), reason: "malformed"},
		{name: "R1/std_alphabet_plus", token: mutate(func(s string) string { return strings.Replace(s, ".", ".+", 1) }), reason: "malformed"},
		{name: "R1/std_alphabet_slash", token: mutate(func(s string) string { return s[:len(s)-1] + "/" }), reason: "malformed"},
		{name: "R1/std_base64_signed", token: segments(
			func(k *Key) string { return enc(stdHeader(k)) },
			func(*Key) string {
				// A payload whose standard encoding holds '+' or '/'.
				for n := 1; ; n++ {
					p := base64.RawStdEncoding.EncodeToString([]byte(stdPayload("x", `"`+strings.Repeat("?", n)+`"`)))
					if strings.ContainsAny(p, "+/") {
						return p
					}
				}
			},
		), reason: "malformed"},
		{name: "R1/whitespace_inside", token: mutate(func(s string) string { return strings.Replace(s, ".", ". ", 1) }), reason: "malformed"},
		{name: "R1/leading_space", token: mutate(func(s string) string { return " " + s }), reason: "malformed"},
		{name: "R1/trailing_newline", token: mutate(func(s string) string { return s + "\n" }), reason: "malformed"},
		{name: "R1/bearer_prefix", token: mutate(func(s string) string { return "Bearer " + s }), reason: "malformed"},
		{name: "R1/nul_byte", token: mutate(func(s string) string { return s + "\x00" }), reason: "malformed"},
		{name: "R1/non_ascii", token: mutate(func(s string) string { return strings.Replace(s, ".", ".é", 1) }), reason: "malformed"},

		{name: "R2/oversized_token", token: mutate(func(s string) string { return s + strings.Repeat("A", DefaultMaxTokenLength) }), reason: "too_long"},
		{name: "R2/oversized_garbage_1MiB", token: func(testing.TB, *Key) string { return strings.Repeat("\x00.", 1<<19) }, reason: "too_long"},
		{name: "R2/custom_max_length", token: valid, opts: func(o *VerifyOptions) { o.MaxLength = 64 }, reason: "too_long"},
		{name: "R2/custom_max_length_fits", token: valid, opts: func(o *VerifyOptions) { o.MaxLength = 4096 }},
		{name: "R2/oversized_header_segment", token: extraHeader(`"x":"` + strings.Repeat("a", 1000) + `"`), reason: "header"},

		{name: "R3/tweaked_signature_trailing_bits", token: mutate(tweakLast), reason: "malformed"},
		{name: "R3/tweaked_signature_trailing_bits/HS256", alg: AlgHS256, token: mutate(tweakLast), reason: "malformed"},
		{name: "R3/tweaked_payload_trailing_bits", token: segments(
			func(k *Key) string { return enc(stdHeader(k)) },
			func(*Key) string {
				for n := 0; ; n++ {
					if p := enc(stdPayload("x", `"`+strings.Repeat("c", n)+`"`)); len(p)%4 != 0 {
						return tweakLast(p)
					}
				}
			},
		), reason: "malformed"},
		{name: "R3/tweaked_header_trailing_bits", token: segments(
			func(k *Key) string {
				h := enc(stdHeader(k))
				if len(h)%4 == 0 {
					h = enc(strings.TrimSuffix(stdHeader(k), "}") + " }")
				}
				return tweakLast(h)
			},
			func(*Key) string { return enc(stdPayload()) },
		), reason: "malformed"},
		{name: "R3/signature_one_byte_short", token: mutate(func(s string) string { return s[:len(s)-2] }), reason: "signature"},
		{name: "R3/signature_one_char_long", token: mutate(func(s string) string { return s + "A" }), reason: "signature"},
		{name: "R3/signature_bit_flip", token: mutate(func(s string) string {
			i := strings.LastIndexByte(s, '.') + 3
			c := byte('A')
			if s[i] == 'A' {
				c = 'B'
			}
			return s[:i] + string(c) + s[i+1:]
		}), reason: "signature"},
		{name: "R3/payload_changed_after_signing", token: mutate(func(s string) string {
			parts := strings.Split(s, ".")
			parts[1] = enc(stdPayload("sub", `"admin"`))
			return strings.Join(parts, ".")
		}), reason: "signature"},
		{name: "R3/signature_reused_from_other_token", token: func(t testing.TB, k *Key) string {
			a := valid(t, k)
			b := mint(t, k, stdHeader(k), stdPayload("sub", `"other"`))
			return a[:strings.LastIndexByte(a, '.')] + b[strings.LastIndexByte(b, '.'):]
		}, reason: "signature"},

		{name: "R4/payload_array", token: payload(`[` + stdPayload() + `]`), reason: "claims"},
		{name: "R4/payload_null", token: payload(`null`), reason: "claims"},
		{name: "R4/payload_string", token: payload(`"` + testIssuer + `"`), reason: "claims"},
		{name: "R4/payload_number", token: payload(`1`), reason: "claims"},
		{name: "R4/payload_empty_object", token: payload(`{}`), reason: "issuer"},
		{name: "R4/payload_not_json", token: payload(`iss=x`), reason: "claims"},
		{name: "R4/header_array", token: withHeader(func(k *Key) string { return "[" + stdHeader(k) + "]" }), reason: "header"},
		{name: "R4/header_null", token: withHeader(func(*Key) string { return "null" }), reason: "header"},
		{name: "R4/header_string", token: withHeader(func(*Key) string { return `"EdDSA"` }), reason: "header"},
		{name: "R4/header_trailing_data", token: withHeader(func(k *Key) string { return stdHeader(k) + "{}" }), reason: "header"},
		{name: "R4/header_invalid_utf8", token: headerWith(`"alg":"EdDSA","kid":"KID","typ":"at+jwt\xff"`), reason: "typ"},
		{name: "R4/invalid_utf8", token: claims("sub", "\"user\xff\""), reason: "claims"},
		{name: "R4/invalid_utf8_in_unknown_member", token: claims("x", "\"\xc3\""), reason: "claims"},
		{name: "R4/invalid_utf8_outside_string", token: payload(strings.Replace(stdPayload(), "{", "{\xef\xbb\xbf", 1)), reason: "claims"},
		{name: "R4/overlong_utf8", token: claims("sub", "\"\xc0\xaf\""), reason: "claims"},
		{name: "R4/utf8_encoded_surrogate", token: claims("sub", "\"\xed\xa0\x80\""), reason: "claims"},
		{name: "R4/lone_high_surrogate_escape", token: claims("sub", `"\ud800"`), reason: "claims"},
		{name: "R4/lone_low_surrogate_escape", token: claims("sub", `"\udc00x"`), reason: "claims"},
		{name: "R4/reversed_surrogate_pair", token: claims("sub", `"\udc00\ud800"`), reason: "claims"},
		{name: "R4/surrogate_pair_ok", token: claims("sub", `"\ud83d\ude00"`)},
		{name: "R4/unescaped_control_char", token: claims("sub", "\"a\nb\""), reason: "claims"},
		{name: "R4/unescaped_tab", token: claims("sub", "\"a\tb\""), reason: "claims"},
		{name: "R4/bad_escape", token: claims("sub", `"a\xb"`), reason: "claims"},
		{name: "R4/short_unicode_escape", token: claims("sub", `"\u12"`), reason: "claims"},
		{name: "R4/trailing_data", token: payload(stdPayload() + "x"), reason: "claims"},
		{name: "R4/second_object", token: payload(stdPayload() + "{}"), reason: "claims"},
		{name: "R4/trailing_whitespace_ok", token: payload(" \t\r\n" + stdPayload() + " \n")},
		{name: "R4/trailing_comma", token: payload(strings.TrimSuffix(stdPayload(), "}") + ",}"), reason: "claims"},
		{name: "R4/missing_comma", token: payload(strings.Replace(stdPayload(), `,"sub"`, ` "sub"`, 1)), reason: "claims"},
		{name: "R4/single_quotes", token: payload(strings.Replace(stdPayload(), `"sid":"sess-1"`, `'sid':'sess-1'`, 1)), reason: "claims"},
		{name: "R4/unterminated", token: payload(strings.TrimSuffix(stdPayload(), "}")), reason: "claims"},
		{name: "R4/leading_zero_number", token: claims("x", `012`), reason: "claims"},
		{name: "R4/nan", token: claims("x", `NaN`), reason: "claims"},
		{name: "R4/deep_nesting", token: claims("x", strings.Repeat("[", 40)+strings.Repeat("]", 40)), reason: "claims"},
		{name: "R4/nested_unknown_members_ok", token: claims("x", `{"a":[1,-2.5e3,true,false,null,{"b":"\u00e9"}],"c":{}}`, "y", `[]`)},
		{name: "R4/moderate_nesting_ok", token: claims("x", strings.Repeat("[", 20)+strings.Repeat("]", 20))},
		{name: "R4/too_many_members", token: func(t testing.TB, k *Key) string {
			extra := make([]string, 0, 2*maxMembers)
			for i := range maxMembers {
				extra = append(extra, "m"+itoa(int64(i)), "0")
			}
			return mint(t, k, stdHeader(k), stdPayload(extra...))
		}, reason: "claims"},

		{name: "R5/duplicate_exp", token: payload(strings.TrimSuffix(stdPayload(), "}") + `,"exp":` + itoa(expS+86400) + `}`), reason: "claims"},
		{name: "R5/duplicate_sub", token: payload(strings.TrimSuffix(stdPayload(), "}") + `,"sub":"admin"}`), reason: "claims"},
		{name: "R5/duplicate_aud", token: payload(strings.TrimSuffix(stdPayload(), "}") + `,"aud":"other"}`), reason: "claims"},
		{name: "R5/duplicate_unknown_member", token: claims("x", `1`, "y", `2`, "z", `3`, `x\u0000`, `4`, "x ", `5`, "q", `1`, `q\"`, `1`)},
		{name: "R5/duplicate_unknown", token: payload(strings.TrimSuffix(stdPayload(), "}") + `,"x":1,"x":2}`), reason: "claims"},
		{name: "R5/duplicate_via_escape", token: payload(strings.TrimSuffix(stdPayload(), "}") + `,"\u0065xp":` + itoa(expS+86400) + `}`), reason: "claims"},
		{name: "R5/escaped_name_ok", token: payload(strings.Replace(stdPayload(), `"sid"`, `"\u0073id"`, 1))},
		{name: "R5/case_variant_EXP", token: claims("EXP", itoa(expS+86400)), reason: "claims"},
		{name: "R5/case_variant_Exp", token: claims("Exp", itoa(expS+86400)), reason: "claims"},
		{name: "R5/case_variant_Sub", token: claims("Sub", `"admin"`), reason: "claims"},
		{name: "R5/case_variant_AUD", token: claims("AUD", `"other"`), reason: "claims"},
		{name: "R5/case_variant_Roles", token: claims("Roles", `["root"]`), reason: "claims"},
		{name: "R5/case_variant_Tenant", token: claims("tenant", `"acme"`, "Tenant", `"other"`), reason: "claims"},
		{name: "R5/case_variant_Auth_Time", token: claims("Auth_Time", `1`), reason: "claims"},
		{name: "R5/case_variant_unicode_long_s", token: claims("\u017fub", `"admin"`), reason: "claims"},
		{name: "R5/case_variant_unicode_long_s_escaped", token: claims(`i\u017fs`, `"x"`), reason: "claims"},
		{name: "R5/case_variant_alone", token: claims("exp", "-", "EXP", exp), reason: "claims"},
		{name: "R5/duplicate_header_alg", token: headerWith(`"alg":"EdDSA","alg":"EdDSA","kid":"KID","typ":"at+jwt"`), reason: "header"},
		{name: "R5/duplicate_header_kid", token: headerWith(`"alg":"EdDSA","kid":"other","kid":"KID","typ":"at+jwt"`), reason: "header"},
		{name: "R5/header_case_variant_ALG", token: headerWith(`"alg":"EdDSA","ALG":"none","kid":"KID","typ":"at+jwt"`), reason: "header"},
		{name: "R5/header_case_variant_Kid", token: headerWith(`"alg":"EdDSA","Kid":"KID","typ":"at+jwt"`), reason: "header"},

		{name: "R6/crit", token: extraHeader(`"crit":["exp"]`), reason: "header"},
		{name: "R6/crit_empty", token: extraHeader(`"crit":[]`), reason: "header"},
		{name: "R7/cty_JWT", token: extraHeader(`"cty":"JWT"`), reason: "header"},
		{name: "R7/zip", token: extraHeader(`"zip":"DEF"`), reason: "header"},
		{name: "R7/b64_false", token: extraHeader(`"b64":false`), reason: "header"},
		{name: "R7/enc", token: extraHeader(`"enc":"A256GCM"`), reason: "header"},
		{name: "R7/nested_jwt_payload", token: func(t testing.TB, k *Key) string {
			inner := valid(t, k)
			return mint(t, k, stdHeader(k), `"`+inner+`"`)
		}, reason: "claims"},

		// B. Algorithms and keys.
		{name: "R8/alg_mismatch", token: withHeader(func(k *Key) string { return `{"alg":"ES256","kid":"` + k.kid + `","typ":"at+jwt"}` }), reason: "alg"},
		{name: "R8/alg_case", token: withHeader(func(k *Key) string { return `{"alg":"eddsa","kid":"` + k.kid + `","typ":"at+jwt"}` }), reason: "alg"},
		{name: "R8/alg_case/HS256", alg: AlgHS256, token: withHeader(func(k *Key) string { return `{"alg":"hs256","kid":"` + k.kid + `","typ":"at+jwt"}` }), reason: "alg"},
		{name: "R8/alg_other_hash", alg: AlgHS256, token: withHeader(func(k *Key) string { return `{"alg":"HS512","kid":"` + k.kid + `","typ":"at+jwt"}` }), reason: "alg"},
		{name: "R8/alg_Ed25519_name", token: withHeader(func(k *Key) string { return `{"alg":"Ed25519","kid":"` + k.kid + `","typ":"at+jwt"}` }), reason: "alg"},
		{name: "R8/alg_missing", token: headerWith(`"kid":"KID","typ":"at+jwt"`), reason: "alg"},
		{name: "R8/alg_non_string", token: headerWith(`"alg":["EdDSA"],"kid":"KID","typ":"at+jwt"`), reason: "alg"},
		{name: "R8/alg_null", token: headerWith(`"alg":null,"kid":"KID","typ":"at+jwt"`), reason: "alg"},
		{name: "R8/alg_trailing_space", token: headerWith(`"alg":"EdDSA ","kid":"KID","typ":"at+jwt"`), reason: "alg"},
		{name: "R8/alg_escaped_ok", token: headerWith(`"alg":"\u0045dDSA","kid":"KID","typ":"at+jwt"`)},
		{name: "R9/none_variants/none", token: headerWith(`"alg":"none","kid":"KID","typ":"at+jwt"`), reason: "alg"},
		{name: "R9/none_variants/None", token: headerWith(`"alg":"None","kid":"KID","typ":"at+jwt"`), reason: "alg"},
		{name: "R9/none_variants/NONE", token: headerWith(`"alg":"NONE","kid":"KID","typ":"at+jwt"`), reason: "alg"},
		{name: "R9/none_variants/nOnE", token: headerWith(`"alg":"nOnE","kid":"KID","typ":"at+jwt"`), reason: "alg"},
		{name: "R9/none_variants/none_no_kid", token: headerWith(`"alg":"none","typ":"at+jwt"`), reason: "alg"},
		{name: "R9/none_unsigned", token: func(testing.TB, *Key) string {
			return enc(`{"alg":"none","typ":"at+jwt"}`) + "." + enc(stdPayload()) + "."
		}, reason: "malformed"},
		{name: "R9/none_unsigned_with_dummy_signature", token: func(t testing.TB, k *Key) string {
			return enc(`{"alg":"none","kid":"`+k.kid+`","typ":"at+jwt"}`) + "." + enc(stdPayload()) + ".AAAA"
		}, reason: "alg"},
		{name: "R10/hs256_token_against_eddsa_key", token: func(t testing.TB, k *Key) string {
			// Key confusion: the public key used as an HMAC secret.
			h := enc(`{"alg":"HS256","kid":"` + k.kid + `","typ":"at+jwt"}`)
			input := h + "." + enc(stdPayload())
			m := hmac.New(sha256.New, k.pub.(ed25519.PublicKey))
			m.Write([]byte(input))
			return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
		}, reason: "alg"},
		{name: "R10/hs256_token_against_rsa_key_pem", alg: AlgRS256, token: func(t testing.TB, k *Key) string {
			pubPEM, _ := k.MarshalPublicPEM()
			h := enc(`{"alg":"HS256","kid":"` + k.kid + `","typ":"at+jwt"}`)
			input := h + "." + enc(stdPayload())
			m := hmac.New(sha256.New, pubPEM)
			m.Write([]byte(input))
			return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
		}, reason: "alg"},
		{name: "R10/eddsa_token_against_hs256_key", alg: AlgHS256, token: func(t testing.TB, k *Key) string {
			return signRaw(t, testKey(t, AlgEdDSA), AlgEdDSA, enc(`{"alg":"EdDSA","kid":"`+k.kid+`","typ":"at+jwt"}`), enc(stdPayload()))
		}, reason: "alg"},
		{name: "R10/es256_token_against_rs256_key", alg: AlgRS256, token: func(t testing.TB, k *Key) string {
			return signRaw(t, testKey(t, AlgES256), AlgES256, enc(`{"alg":"ES256","kid":"`+k.kid+`","typ":"at+jwt"}`), enc(stdPayload()))
		}, reason: "alg"},
		{name: "R12/jku", token: extraHeader(`"jku":"https://attacker.example/jwks.json"`), reason: "header"},
		{name: "R12/jwk", token: extraHeader(`"jwk":{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`), reason: "header"},
		{name: "R12/x5u", token: extraHeader(`"x5u":"https://attacker.example/cert.pem"`), reason: "header"},
		{name: "R12/x5c", token: extraHeader(`"x5c":["MIIB"]`), reason: "header"},
		{name: "R12/x5t", token: extraHeader(`"x5t":"AAAA"`), reason: "header"},
		{name: "R12/x5t#S256", token: extraHeader(`"x5t#S256":"AAAA"`), reason: "header"},
		{name: "R12/unknown_header_member", token: extraHeader(`"foo":"bar"`), reason: "header"},
		{name: "R13/unknown_kid", token: headerWith(`"alg":"EdDSA","kid":"no-such-key","typ":"at+jwt"`), reason: "kid"},
		{name: "R13/kid_case_differs", token: withHeader(func(k *Key) string {
			return `{"alg":"EdDSA","kid":"` + strings.ToUpper(k.kid) + `","typ":"at+jwt"}`
		}), reason: "kid"},
		{name: "R13/kid_prefix", token: withHeader(func(k *Key) string {
			return `{"alg":"EdDSA","kid":"` + k.kid[:10] + `","typ":"at+jwt"}`
		}), reason: "kid"},
		{name: "R13/non_string_kid", token: headerWith(`"alg":"EdDSA","kid":1,"typ":"at+jwt"`), reason: "kid"},
		{name: "R13/non_string_kid/null", token: headerWith(`"alg":"EdDSA","kid":null,"typ":"at+jwt"`), reason: "kid"},
		{name: "R13/non_string_kid/array", token: headerWith(`"alg":"EdDSA","kid":["KID"],"typ":"at+jwt"`), reason: "kid"},
		{name: "R13/non_string_kid/object", token: headerWith(`"alg":"EdDSA","kid":{"kid":"KID"},"typ":"at+jwt"`), reason: "kid"},
		{name: "R13/non_string_kid/true", token: headerWith(`"alg":"EdDSA","kid":true,"typ":"at+jwt"`), reason: "kid"},
		{name: "R13/empty_kid", token: headerWith(`"alg":"EdDSA","kid":"","typ":"at+jwt"`), reason: "kid"},
		{name: "R13/kid_too_long", token: headerWith(`"alg":"EdDSA","kid":"` + strings.Repeat("k", MaxKeyIDLength+1) + `","typ":"at+jwt"`), reason: "kid"},
		{name: "R13/kid_path_traversal", token: headerWith(`"alg":"EdDSA","kid":"../../etc/passwd","typ":"at+jwt"`), reason: "kid"},
		{name: "R13/kid_sql", token: headerWith(`"alg":"EdDSA","kid":"x' OR '1'='1","typ":"at+jwt"`), reason: "kid"},
		{name: "R13/kid_nul", token: headerWith(`"alg":"EdDSA","kid":"KID\u0000","typ":"at+jwt"`), reason: "kid"},
		{name: "R13/missing_kid_single_key_ok", token: headerWith(`"alg":"EdDSA","typ":"at+jwt"`)},

		// C. Claims validation and typing.
		{name: "R17/expired", token: valid, opts: at(10*time.Minute + 5*time.Second), reason: "expired"},
		{name: "R17/expired_long_ago", token: claims("iat", itoa(nowS-7200), "exp", itoa(nowS-3600)), reason: "expired"},
		{name: "R17/leeway_boundaries/at_exp_plus_leeway_rejected", token: valid, opts: at(time.Duration(expS-nowS+leeway) * time.Second), reason: "expired"},
		{name: "R17/leeway_boundaries/1s_before_accepted", token: valid, opts: at(time.Duration(expS-nowS+leeway-1) * time.Second)},
		{name: "R17/leeway_boundaries/1ns_before_accepted", token: valid, opts: at(time.Duration(expS-nowS+leeway)*time.Second - 1)},
		{name: "R17/leeway_boundaries/zero_leeway_at_exp_rejected", token: valid, opts: func(o *VerifyOptions) { o.Leeway = 0; o.Now = time.Unix(expS, 0) }, reason: "expired"},
		{name: "R17/leeway_boundaries/zero_leeway_before_exp_accepted", token: valid, opts: func(o *VerifyOptions) { o.Leeway = 0; o.Now = time.Unix(expS, 0).Add(-time.Nanosecond) }},
		{name: "R17/leeway_clamped_to_60s", token: valid, opts: func(o *VerifyOptions) { o.Leeway = time.Hour; o.Now = time.Unix(expS+60, 0) }, reason: "expired"},
		{name: "R17/negative_leeway_is_zero", token: valid, opts: func(o *VerifyOptions) { o.Leeway = -time.Hour; o.Now = time.Unix(expS-1, 0) }},
		{name: "R17/ignore_expiry", token: valid, opts: func(o *VerifyOptions) { o.IgnoreExpiry = true; o.Now = time.Unix(expS+86400, 0) }},
		{name: "R17/ignore_expiry_keeps_other_checks", token: claims("iss", `"https://evil.example"`), opts: func(o *VerifyOptions) { o.IgnoreExpiry = true }, reason: "issuer"},
		{name: "R17/exp_missing", token: claims("exp", "-"), reason: "claims"},
		{name: "R17/exp_zero", token: claims("exp", `0`, "iat", `0`), reason: "lifetime"},
		{name: "R18/nbf", token: claims("nbf", itoa(nowS+60)), reason: "not_yet_valid"},
		{name: "R18/nbf_boundary_leeway_accepted", token: claims("nbf", itoa(nowS+leeway))},
		{name: "R18/nbf_boundary_past_leeway_rejected", token: claims("nbf", itoa(nowS+leeway+1)), reason: "not_yet_valid"},
		{name: "R18/nbf_past_ok", token: claims("nbf", itoa(nowS-10))},
		{name: "R18/nbf_quoted", token: claims("nbf", `"`+itoa(nowS)+`"`), reason: "claims"},
		{name: "R19/iat_future", token: claims("iat", itoa(nowS+60), "exp", itoa(nowS+660)), reason: "iat_future"},
		{name: "R19/iat_within_leeway_ok", token: claims("iat", itoa(nowS+leeway), "exp", itoa(nowS+600))},
		{name: "R19/iat_past_leeway_rejected", token: claims("iat", itoa(nowS+leeway+1), "exp", itoa(nowS+600)), reason: "iat_future"},
		{name: "R19/iat_missing", token: claims("iat", "-"), reason: "claims"},
		{name: "R19/max_lifetime", token: claims("exp", itoa(nowS+3601)), reason: "lifetime"},
		{name: "R19/max_lifetime_exact_ok", token: claims("exp", itoa(nowS+3600))},
		{name: "R19/max_lifetime_unset_ok", token: claims("exp", itoa(nowS+86400*365)), opts: func(o *VerifyOptions) { o.MaxTTL = 0 }},
		{name: "R19/exp_equals_iat", token: claims("exp", itoa(nowS)), reason: "lifetime"},
		{name: "R19/exp_before_iat", token: claims("exp", itoa(nowS-1)), reason: "lifetime"},
		{name: "R20/quoted_exp", token: claims("exp", `"`+exp+`"`), reason: "claims"},
		{name: "R20/quoted_iat", token: claims("iat", `"`+itoa(nowS)+`"`), reason: "claims"},
		{name: "R20/quoted_auth_time", token: claims("auth_time", `"1"`), reason: "claims"},
		{name: "R20/exp_bool", token: claims("exp", `true`), reason: "claims"},
		{name: "R20/exp_null", token: claims("exp", `null`), reason: "claims"},
		{name: "R20/exp_array", token: claims("exp", `[`+exp+`]`), reason: "claims"},
		{name: "R20/exp_object", token: claims("exp", `{"v":`+exp+`}`), reason: "claims"},
		{name: "R20/exp_negative", token: claims("exp", `-1`), reason: "claims"},
		{name: "R20/exp_negative_zero", token: claims("exp", `-0`), reason: "claims"},
		{name: "R20/exp_absurd", token: claims("exp", `100000000001`), reason: "claims"},
		{name: "R20/exp_absurd_exponent", token: claims("exp", `1e300`), reason: "claims"},
		{name: "R20/exp_huge_integer", token: claims("exp", `99999999999999999999999999999`), reason: "claims"},
		{name: "R20/exp_decimal_ok", token: claims("exp", exp+`.999`)},
		{name: "R20/exp_exponent_ok", token: claims("exp", `1.750000600e9`)},
		{name: "R20/exp_exponent_truncates_to_expired", token: claims("exp", `17500000e2`), reason: "lifetime"},
		{name: "R20/exp_tiny_exponent", token: claims("exp", `1e-300`), reason: "lifetime"},
		{name: "R20/string_aud_number", token: claims("aud", `123`), reason: "claims"},
		{name: "R20/aud_array_with_number", token: claims("aud", `["`+testAudience+`",1]`), reason: "claims"},
		{name: "R20/aud_null", token: claims("aud", `null`), reason: "claims"},
		{name: "R20/aud_object", token: claims("aud", `{"aud":"`+testAudience+`"}`), reason: "claims"},
		{name: "R20/aud_nested_array", token: claims("aud", `[["`+testAudience+`"]]`), reason: "claims"},
		{name: "R20/iss_number", token: claims("iss", `1`), reason: "claims"},
		{name: "R20/sub_number", token: claims("sub", `42`), reason: "claims"},
		{name: "R20/sub_null", token: claims("sub", `null`), reason: "claims"},
		{name: "R20/jti_number", token: claims("jti", `42`), reason: "claims"},
		{name: "R20/sid_array", token: claims("sid", `["s"]`), reason: "claims"},
		{name: "R20/client_id_number", token: claims("client_id", `1`), reason: "claims"},
		{name: "R20/tenant_ok", token: claims("tenant", `"acme"`)},
		{name: "R20/tenant_escaped_ok", token: claims("tenant", `"t\u00e9nant-\u0031"`)},
		{name: "R20/tenant_longest_ok", token: claims("tenant", `"`+strings.Repeat("t", MaxTenantLength)+`"`)},
		{name: "R20/tenant_too_long", token: claims("tenant", `"`+strings.Repeat("t", MaxTenantLength+1)+`"`), reason: "claims"},
		{name: "R20/tenant_escapes_too_long", token: claims("tenant", `"`+strings.Repeat(`\u0074`, MaxTenantLength+1)+`"`), reason: "claims"},
		{name: "R20/tenant_empty", token: claims("tenant", `""`), reason: "claims"},
		{name: "R20/tenant_number", token: claims("tenant", `1`), reason: "claims"},
		{name: "R20/tenant_null", token: claims("tenant", `null`), reason: "claims"},
		{name: "R20/tenant_array", token: claims("tenant", `["acme"]`), reason: "claims"},
		{name: "R20/tenant_object", token: claims("tenant", `{"id":"acme"}`), reason: "claims"},
		{name: "R20/tenant_bad_utf8", token: claims("tenant", "\"a\xffb\""), reason: "claims"},
		{name: "R20/tenant_control_char", token: claims("tenant", "\"a\x01b\""), reason: "claims"},
		{name: "R20/tenant_duplicate", token: payload(strings.TrimSuffix(stdPayload("tenant", `"acme"`), "}") + `,"tenant":"other"}`), reason: "claims"},
		{name: "R20/tenant_duplicate_via_escape", token: payload(strings.TrimSuffix(stdPayload("tenant", `"acme"`), "}") + `,"\u0074enant":"other"}`), reason: "claims"},
		{name: "R20/roles_string", token: claims("roles", `"admin"`), reason: "claims"},
		{name: "R20/roles_with_number", token: claims("roles", `["admin",1]`), reason: "claims"},
		{name: "R20/roles_null", token: claims("roles", `null`), reason: "claims"},
		{name: "R20/roles_missing_ok", token: claims("roles", "-")},
		{name: "R20/auth_time_missing_ok", token: claims("auth_time", "-")},
		{name: "R21/issuer", token: claims("iss", `"https://evil.example"`), reason: "issuer"},
		{name: "R21/issuer_trailing_slash", token: claims("iss", `"`+testIssuer+`/"`), reason: "issuer"},
		{name: "R21/issuer_case", token: claims("iss", `"`+strings.ToUpper(testIssuer)+`"`), reason: "issuer"},
		{name: "R21/issuer_missing", token: claims("iss", "-"), reason: "issuer"},
		{name: "R21/issuer_empty", token: claims("iss", `""`), reason: "issuer"},
		{name: "R21/issuer_with_nul", token: claims("iss", `"`+testIssuer+`\u0000"`), reason: "issuer"},
		{name: "R22/aud_missing", token: claims("aud", "-"), reason: "audience"},
		{name: "R22/aud_empty_array", token: claims("aud", `[]`), reason: "audience"},
		{name: "R22/aud_empty_string", token: claims("aud", `""`), reason: "audience"},
		{name: "R22/aud_array_empty_string", token: claims("aud", `[""]`), reason: "audience"},
		{name: "R22/aud_wrong", token: claims("aud", `"other-api"`), reason: "audience"},
		{name: "R22/aud_case", token: claims("aud", `"API"`), reason: "audience"},
		{name: "R22/aud_prefix", token: claims("aud", `"api2"`), reason: "audience"},
		{name: "R22/aud_array_wrong", token: claims("aud", `["a","b"]`), reason: "audience"},
		{name: "R22/aud_array_contains_ok", token: claims("aud", `["other","`+testAudience+`"]`)},
		{name: "R23/empty_sub", token: claims("sub", `""`), reason: "claims"},
		{name: "R23/missing_sub", token: claims("sub", "-"), reason: "claims"},
		{name: "R23/empty_jti", token: claims("jti", `""`), reason: "claims"},
		{name: "R23/missing_jti", token: claims("jti", "-"), reason: "claims"},
		{name: "R23/empty_sid", token: claims("sid", `""`), reason: "claims"},
		{name: "R23/missing_sid", token: claims("sid", "-"), reason: "claims"},
		{name: "R24/typ_missing", token: headerWith(`"alg":"EdDSA","kid":"KID"`), reason: "typ"},
		{name: "R24/typ_jwt", token: headerWith(`"alg":"EdDSA","kid":"KID","typ":"JWT"`), reason: "typ"},
		{name: "R24/typ_rt+jwt", token: headerWith(`"alg":"EdDSA","kid":"KID","typ":"rt+jwt"`), reason: "typ"},
		{name: "R24/typ_dpop+jwt", token: headerWith(`"alg":"EdDSA","kid":"KID","typ":"dpop+jwt"`), reason: "typ"},
		{name: "R24/typ_empty", token: headerWith(`"alg":"EdDSA","kid":"KID","typ":""`), reason: "typ"},
		{name: "R24/typ_non_string", token: headerWith(`"alg":"EdDSA","kid":"KID","typ":1`), reason: "typ"},
		{name: "R24/typ_with_params", token: headerWith(`"alg":"EdDSA","kid":"KID","typ":"at+jwt; charset=utf-8"`), reason: "typ"},
		{name: "R24/typ_prefix_only", token: headerWith(`"alg":"EdDSA","kid":"KID","typ":"application/jwt"`), reason: "typ"},
		{name: "R24/application_at+jwt_ok", token: headerWith(`"alg":"EdDSA","kid":"KID","typ":"application/at+jwt"`)},
		{name: "R24/typ_case_insensitive_ok", token: headerWith(`"alg":"EdDSA","kid":"KID","typ":"AT+JWT"`)},
		{name: "R24/application_case_insensitive_ok", token: headerWith(`"alg":"EdDSA","kid":"KID","typ":"Application/AT+JWT"`)},
		{name: "R28/expired_and_bad_signature", token: func(t testing.TB, k *Key) string {
			s := mint(t, k, stdHeader(k), stdPayload("exp", itoa(nowS-100), "iat", itoa(nowS-700)))
			return s[:strings.LastIndexByte(s, '.')+1] + strings.Repeat("A", k.sigB64Len-1) + "A"
		}, reason: "signature"},
		{name: "R28/garbage_claims_and_bad_signature", token: func(t testing.TB, k *Key) string {
			s := mint(t, k, stdHeader(k), `[not json`)
			return tweakSig(s)
		}, reason: "signature"},
		{name: "R28/forged_claims_other_key", token: func(t testing.TB, k *Key) string {
			other, _ := GenerateKey(AlgEdDSA)
			return mint(t, other, stdHeader(k), stdPayload("sub", `"admin"`, "roles", `["admin"]`))
		}, reason: "signature"},
		{name: "R49/cnf_bound_token", token: claims("cnf", `{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}`), reason: "cnf"},
		{name: "R49/cnf_case_variant", token: claims("CNF", `{"jkt":"x"}`), reason: "claims"},
		{name: "options/empty_issuer", token: valid, opts: func(o *VerifyOptions) { o.Issuer = "" }, reason: "options"},
		{name: "options/empty_audience", token: valid, opts: func(o *VerifyOptions) { o.Audience = "" }, reason: "options"},
		{name: "ok/EdDSA", token: valid},
		{name: "ok/HS256", alg: AlgHS256, token: valid},
		{name: "ok/ES256", alg: AlgES256, token: valid},
		{name: "ok/RS256", alg: AlgRS256, token: valid},
		{name: "ok/whitespace_everywhere", token: func(t testing.TB, k *Key) string {
			h := "\n{ \"alg\" : \"EdDSA\" ,\t\"kid\":\"" + k.kid + "\" , \"typ\" : \"at+jwt\" }\r\n"
			return mint(t, k, h, strings.ReplaceAll(stdPayload(), ",", " ,\n "))
		}},
		{name: "ok/unknown_claims_skipped", token: claims("email_verified", `true`, "scope", `"a b"`, "ext", `{"n":[1,2,{"d":null}]}`)},
	}
}

// padded encodes s (padding it with JSON whitespace as needed) so that the
// encoding ends in '=' padding.
func padded(s string) string {
	for len(s)%3 == 0 {
		s += " "
	}
	return base64.URLEncoding.EncodeToString([]byte(s))
}

func tweakSig(s string) string {
	i := strings.LastIndexByte(s, '.') + 1
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

// TestVerifySecurityCases runs one named case per security item: each token
// must be rejected with its reason (or accepted when no reason is given).
func TestVerifySecurityCases(t *testing.T) {
	names := map[string]bool{}
	for _, c := range securityCases() {
		if names[c.name] {
			t.Fatalf("duplicate case name %s", c.name)
		}
		names[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			alg := c.alg
			if alg == "" {
				alg = AlgEdDSA
			}
			k := testKey(t, alg)
			ks, err := NewKeySet(k)
			if err != nil {
				t.Fatal(err)
			}
			token := c.token(t, k)
			o := testOptions()
			if c.opts != nil {
				c.opts(&o)
			}
			got := AccessClaims{Subject: "untouched"}
			err = ks.Verify(token, &o, &got)
			if c.reason == "" {
				if err != nil {
					t.Fatalf("rejected (%v), want accepted", err)
				}
				if got.Subject == "" || got.Issuer != testIssuer || !slices.Contains(got.Audience, testAudience) {
					t.Fatalf("accepted but claims not filled: %+v", got)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want rejection %q", c.reason)
			}
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %#v is not an ErrInvalid *Error", err)
			}
			if e.Reason().String() != c.reason || ReasonOf(err) != e.Reason() {
				t.Fatalf("reason %q, want %q", e.Reason(), c.reason)
			}
			if got.Subject != "untouched" {
				t.Fatal("claims written on failure")
			}
			// R64: the log text carries no key id and no token material.
			msg := err.Error()
			if strings.Contains(msg, k.kid) || (len(token) > 8 && strings.Contains(msg, token[:8])) {
				t.Fatalf("error text leaks token or kid: %s", msg)
			}
		})
	}
}

func TestVerifyKidSelection(t *testing.T) {
	a, b := testKey(t, AlgEdDSA), testKey(t, AlgES256)
	o := testOptions()
	t.Run("R13/missing_kid_multiple_keys", func(t *testing.T) {
		ks, _ := NewKeySet(a, b)
		token := mint(t, a, `{"alg":"EdDSA","typ":"at+jwt"}`, stdPayload())
		if got := reasonWord(ks.Verify(token, &o, nil)); got != "kid" {
			t.Fatalf("reason %q, want kid", got)
		}
		// With the kid it verifies.
		if err := ks.Verify(valid(t, a), &o, nil); err != nil {
			t.Fatal(err)
		}
		if err := ks.Verify(valid(t, b), &o, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("R13/kid_of_other_key", func(t *testing.T) {
		ks, _ := NewKeySet(a, b)
		// An EdDSA token naming the ES256 key fails on alg, not signature.
		token := mint(t, a, `{"alg":"EdDSA","kid":"`+b.kid+`","typ":"at+jwt"}`, stdPayload())
		if got := reasonWord(ks.Verify(token, &o, nil)); got != "alg" {
			t.Fatalf("reason %q, want alg", got)
		}
	})
	t.Run("R12/no_fetch_of_jku_or_x5u", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Skip("no loopback listener:", err)
		}
		defer ln.Close()
		url := "http://" + ln.Addr().String() + "/jwks.json"
		ks, _ := NewKeySet(a)
		for _, member := range []string{"jku", "x5u"} {
			token := mint(t, a, strings.TrimSuffix(stdHeader(a), "}")+`,"`+member+`":"`+url+`"}`, stdPayload())
			if ks.Verify(token, &o, nil) == nil {
				t.Fatalf("%s token accepted", member)
			}
		}
		// Also an unknown kid with a URL-looking value.
		token := mint(t, a, `{"alg":"EdDSA","kid":"`+strings.ReplaceAll(ln.Addr().String(), ":", ".")+`","typ":"at+jwt"}`, stdPayload())
		if ks.Verify(token, &o, nil) == nil {
			t.Fatal("unknown kid accepted")
		}
		_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(100 * time.Millisecond))
		if conn, err := ln.Accept(); err == nil {
			conn.Close()
			t.Fatal("Verify made a network request")
		}
	})
}

// R2: rejection costs O(1) allocations (none at all for the shared reasons).
func TestVerifyRejectionAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	k := testKey(t, AlgEdDSA)
	ks, _ := NewKeySet(k)
	o := testOptions()
	cases := map[string]string{
		"R2/oversized_token_zero_alloc": strings.Repeat("A", 1<<20),
		"malformed":                     "a.b.c.d",
		"header":                        mint(t, k, strings.TrimSuffix(stdHeader(k), "}")+`,"crit":["x"]}`, stdPayload()),
		"kid":                           mint(t, k, `{"alg":"EdDSA","kid":"nope","typ":"at+jwt"}`, stdPayload()),
		"alg":                           mint(t, k, `{"alg":"none","typ":"at+jwt"}`, stdPayload()),
		"signature":                     tweakSig(valid(t, k)),
	}
	hk := testKey(t, AlgHS256)
	hks, _ := NewKeySet(hk)
	hcases := map[string]string{
		"HS256/signature": tweakSig(valid(t, hk)),
		"HS256/expired":   mint(t, hk, stdHeader(hk), stdPayload("exp", itoa(nowS-10), "iat", itoa(nowS-100))),
		"HS256/claims":    mint(t, hk, stdHeader(hk), stdPayload("exp", `"1"`)),
		"HS256/audience":  mint(t, hk, stdHeader(hk), stdPayload("aud", `"x"`)),
	}
	check := func(ks *KeySet, name, token string) {
		t.Run(name, func(t *testing.T) {
			if ks.Verify(token, &o, nil) == nil {
				t.Fatal("accepted")
			}
			// Verify itself allocates nothing on rejection; a failed
			// Ed25519 check allocates inside crypto/ed25519 and golang-jwt.
			var c AccessClaims
			allocs := testing.AllocsPerRun(100, func() { _ = ks.Verify(token, &o, &c) })
			if allocs > 2 || (allocs > 0 && !strings.HasSuffix(name, "signature")) {
				t.Fatalf("rejection allocates %.1f times", allocs)
			}
		})
	}
	for name, token := range cases {
		check(ks, name, token)
	}
	for name, token := range hcases {
		check(hks, name, token)
	}
	t.Run("success_allocations", func(t *testing.T) {
		for _, alg := range []string{AlgHS256, AlgEdDSA} {
			k := testKey(t, alg)
			ks, _ := NewKeySet(k)
			token := valid(t, k)
			var c AccessClaims
			allocs := testing.AllocsPerRun(100, func() {
				if err := ks.Verify(token, &o, &c); err != nil {
					t.Fatal(err)
				}
			})
			if allocs > 3 {
				t.Errorf("%s: success allocates %.1f times, want <= 3", alg, allocs)
			}
		}
	})
}

// TestSignVerifyRoundTrip signs with every algorithm and reads the claims back.
func TestSignVerifyRoundTrip(t *testing.T) {
	variants := map[string]func(c *AccessClaims){
		"standard": func(*AccessClaims) {},
		"multi_audience": func(c *AccessClaims) {
			c.Audience = []string{"other", testAudience, "third"}
		},
		"all_optional": func(c *AccessClaims) {
			c.NotBefore = c.IssuedAt - 1
			c.ClientID = "mobile-app"
			c.Roles = []string{"admin", "user", "reports:read"}
		},
		"no_roles":  func(c *AccessClaims) { c.Roles = nil },
		"escapes":   func(c *AccessClaims) { c.Subject = "ü\"\\/\n\t\x01<>&\u2028😀"; c.SessionID = "s\x7f" },
		"long_role": func(c *AccessClaims) { c.Roles = []string{strings.Repeat("r", 3000)} },
		"tenant":    func(c *AccessClaims) { c.Tenant = "acme-eu" },
		"tenant_longest_escaped": func(c *AccessClaims) {
			c.Tenant = strings.Repeat("é\"", MaxTenantLength/3)
		},
	}
	for _, alg := range allAlgs {
		for name, edit := range variants {
			t.Run(alg+"/"+name, func(t *testing.T) {
				ks := testKeySet(t, alg)
				in := testClaims()
				edit(&in)
				token, err := ks.Sign(&in)
				if err != nil {
					t.Fatal(err)
				}
				o := testOptions()
				var out AccessClaims
				if err := ks.Verify(token, &o, &out); err != nil {
					t.Fatal(err)
				}
				want := in
				if want.Roles == nil {
					want.Roles = []string{}
				}
				if !reflect.DeepEqual(out, want) {
					t.Fatalf("round trip:\n got %#v\nwant %#v", out, want)
				}
				// Interoperability: golang-jwt reads the same token.
				var gc golangJWTClaims
				k := ks.SigningKey()
				vk := k.verifyKey
				if k.mac {
					vk = k.secret
				}
				_, err = jwt.ParseWithClaims(token, &gc, func(*jwt.Token) (any, error) { return vk, nil },
					jwt.WithValidMethods([]string{alg}), jwt.WithTimeFunc(func() time.Time { return testNow }),
					jwt.WithAudience(testAudience), jwt.WithIssuer(testIssuer), jwt.WithStrictDecoding())
				if err != nil {
					t.Fatalf("golang-jwt rejects our token: %v", err)
				}
				if gc.Subject != in.Subject || gc.SessionID != in.SessionID || gc.ID != in.ID {
					t.Fatalf("golang-jwt reads %+v", gc)
				}
			})
		}
	}
}

// TestVerifyGolangJWTTokens checks tokens minted by golang-jwt verify too.
func TestVerifyGolangJWTTokens(t *testing.T) {
	for _, alg := range allAlgs {
		t.Run(alg, func(t *testing.T) {
			k := testKey(t, alg)
			ks, _ := NewKeySet(k)
			c := testClaims()
			gc := golangJWTClaims{
				RegisteredClaims: jwt.RegisteredClaims{
					Issuer: c.Issuer, Subject: c.Subject, Audience: jwt.ClaimStrings(c.Audience),
					ExpiresAt: jwt.NewNumericDate(time.Unix(c.ExpiresAt, 0)),
					IssuedAt:  jwt.NewNumericDate(time.Unix(c.IssuedAt, 0)), ID: c.ID,
				},
				SessionID: c.SessionID, Roles: c.Roles, AuthTime: c.AuthTime,
			}
			token := jwt.NewWithClaims(jwt.GetSigningMethod(alg), gc)
			token.Header["kid"] = k.kid
			token.Header["typ"] = "at+jwt"
			s, err := token.SignedString(k.signKey)
			if err != nil {
				t.Fatal(err)
			}
			o := testOptions()
			var out AccessClaims
			if err := ks.Verify(s, &o, &out); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out, c) {
				t.Fatalf("got %#v", out)
			}
		})
	}
}

// R26: the claim set is minimal and deterministic.
func TestSignClaimsJSON(t *testing.T) {
	ks := testKeySet(t, AlgEdDSA)
	c := testClaims()
	c.Roles = nil
	token, err := ks.Sign(&c)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(token, ".")
	h, _ := base64.RawURLEncoding.Strict().DecodeString(parts[0])
	p, _ := base64.RawURLEncoding.Strict().DecodeString(parts[1])
	k := ks.SigningKey()
	if string(h) != `{"alg":"EdDSA","kid":"`+k.ID()+`","typ":"at+jwt"}` {
		t.Fatalf("header %s", h)
	}
	want := `{"iss":"https://issuer.example","sub":"user-1","aud":"api","exp":` + itoa(expS) + `,"iat":` + itoa(nowS) +
		`,"jti":"Zx1rL0bFh2Ck7YQ3m9uT4A","sid":"sess-1","roles":[],"auth_time":` + itoa(nowS-60) + `}`
	if string(p) != want {
		t.Fatalf("payload\n got %s\nwant %s", p, want)
	}
	c.Audience = []string{"a", "b"}
	c.NotBefore = nowS
	c.ClientID = "cli"
	token, _ = ks.Sign(&c)
	p, _ = base64.RawURLEncoding.Strict().DecodeString(strings.Split(token, ".")[1])
	var m map[string]any
	if err := json.Unmarshal(p, &m); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m["aud"], []any{"a", "b"}) || m["nbf"] != float64(nowS) || m["client_id"] != "cli" {
		t.Fatalf("payload %s", p)
	}
	if len(m) != 11 {
		t.Fatalf("unexpected members: %s", p)
	}
	// The tenant is the last member, and only when named.
	c = testClaims()
	c.Roles = nil
	c.Tenant = "acme"
	token, _ = ks.Sign(&c)
	p, _ = base64.RawURLEncoding.Strict().DecodeString(strings.Split(token, ".")[1])
	if !strings.HasSuffix(string(p), `,"auth_time":`+itoa(nowS-60)+`,"tenant":"acme"}`) {
		t.Fatalf("payload with a tenant %s", p)
	}
}

func TestSignRefusesIncompleteClaims(t *testing.T) {
	ks := testKeySet(t, AlgEdDSA)
	cases := map[string]func(c *AccessClaims){
		"no_iss":          func(c *AccessClaims) { c.Issuer = "" },
		"no_sub":          func(c *AccessClaims) { c.Subject = "" },
		"no_sid":          func(c *AccessClaims) { c.SessionID = "" },
		"no_aud":          func(c *AccessClaims) { c.Audience = nil },
		"empty_aud":       func(c *AccessClaims) { c.Audience = []string{testAudience, ""} },
		"no_iat":          func(c *AccessClaims) { c.IssuedAt = 0 },
		"exp_le_iat":      func(c *AccessClaims) { c.ExpiresAt = c.IssuedAt },
		"absurd_exp":      func(c *AccessClaims) { c.ExpiresAt = MaxNumericDate + 1 },
		"negative_nbf":    func(c *AccessClaims) { c.NotBefore = -1 },
		"bad_utf8":        func(c *AccessClaims) { c.Subject = "a\xffb" },
		"bad_utf8_tenant": func(c *AccessClaims) { c.Tenant = "a\xffb" },
		"long_tenant":     func(c *AccessClaims) { c.Tenant = strings.Repeat("t", MaxTenantLength+1) },
		"bad_utf8_role": func(c *AccessClaims) {
			c.Roles = []string{"\xc0"}
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			c := testClaims()
			edit(&c)
			if _, err := ks.Sign(&c); err == nil || !errors.Is(err, ErrSign) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	if _, err := ks.Sign(nil); err == nil {
		t.Fatal("nil claims signed")
	}
}

// R27: jti values are unique and carry 128 random bits.
func TestTokenID(t *testing.T) {
	t.Run("R27/jti_unique_128bit", func(t *testing.T) {
		seen := make(map[string]bool, 10000)
		for range 10000 {
			id := newTokenID()
			raw, err := base64.RawURLEncoding.Strict().DecodeString(id)
			if err != nil || len(raw) != 16 {
				t.Fatalf("jti %q is not 128 bits of base64url", id)
			}
			if seen[id] {
				t.Fatalf("duplicate jti %s", id)
			}
			seen[id] = true
		}
	})
	t.Run("R27/sign_fills_empty_jti", func(t *testing.T) {
		ks := testKeySet(t, AlgEdDSA)
		a, b := testClaims(), testClaims()
		a.ID, b.ID = "", ""
		ta, _ := ks.Sign(&a)
		tb, _ := ks.Sign(&b)
		if len(a.ID) != 22 || a.ID == b.ID {
			t.Fatalf("jti %q %q", a.ID, b.ID)
		}
		o := testOptions()
		var out AccessClaims
		if err := ks.Verify(ta, &o, &out); err != nil || out.ID != a.ID {
			t.Fatalf("jti %q vs %q: %v", out.ID, a.ID, err)
		}
		if ta == tb {
			t.Fatal("identical tokens")
		}
	})
}

// R28: nothing is read from the claims before the signature is verified.
func TestVerifySignatureBeforeClaims(t *testing.T) {
	k := testKey(t, AlgHS256)
	ks, _ := NewKeySet(k)
	o := testOptions()
	// Every claim defect combined with a bad signature reports "signature".
	for _, c := range securityCases() {
		if c.alg != "" || c.reason == "" || c.opts != nil {
			continue
		}
		switch c.reason {
		case "claims", "expired", "not_yet_valid", "iat_future", "lifetime", "issuer", "audience", "cnf":
		default:
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			token := tweakSig(c.token(t, k))
			if got := reasonWord(ks.Verify(token, &o, nil)); got != "signature" {
				t.Fatalf("reason %q, want signature", got)
			}
		})
	}
}

// TestVerifyConcurrentRotation verifies from 64 goroutines while another
// rotates the signing key (run with -race).
func TestVerifyConcurrentRotation(t *testing.T) {
	stable := testKey(t, AlgEdDSA)
	ks, _ := NewKeySet(stable)
	c := testClaims()
	stableTok, _ := ks.Sign(&c)
	keys := make([]*Key, 16)
	for i := range keys {
		keys[i], _ = GenerateKey(AlgEdDSA)
	}
	var latest atomic.Pointer[string]
	latest.Store(&stableTok)
	start := make(chan struct{})
	var wg sync.WaitGroup
	var failures, verified atomic.Int64
	done := make(chan struct{})
	o := testOptions()
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				var out AccessClaims
				if err := ks.Verify(stableTok, &o, &out); err != nil || out.Subject != c.Subject {
					failures.Add(1)
				}
				// The newest token may be retired by now, but never panics
				// or verifies wrongly.
				if err := ks.Verify(*latest.Load(), &o, &out); err == nil && out.Subject != c.Subject {
					failures.Add(1)
				}
				if i%16 == 0 {
					if _, ok := ks.JWKS(); !ok {
						failures.Add(1)
					}
				}
				verified.Add(1)
			}
		}()
	}
	close(start)
	for i, k := range keys {
		if err := ks.SetSigningKey(k); err != nil {
			t.Error(err)
		}
		cc := testClaims()
		tok, err := ks.Sign(&cc)
		if err != nil {
			t.Error(err)
		}
		latest.Store(&tok)
		if i >= 2 {
			if err := ks.RemoveKey(keys[i-2].ID()); err != nil {
				t.Error(err)
			}
		}
		time.Sleep(time.Millisecond)
	}
	close(done)
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatalf("%d failed verifications during rotation", failures.Load())
	}
	if verified.Load() == 0 {
		t.Fatal("nothing verified")
	}
}

func TestVerifyNilArguments(t *testing.T) {
	ks := testKeySet(t, AlgEdDSA)
	k := ks.SigningKey()
	if got := reasonWord(ks.Verify(valid(t, k), nil, nil)); got != "options" {
		t.Fatalf("nil options: %q", got)
	}
	o := testOptions()
	o.Now = time.Time{} // zero: the real clock, long after the test token expired
	if got := reasonWord(ks.Verify(valid(t, k), &o, nil)); got != "expired" {
		t.Fatalf("zero Now: %q", got)
	}
}
