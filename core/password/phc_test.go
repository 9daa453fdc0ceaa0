package password

import (
	"errors"
	"strings"
	"testing"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/memstore"
)

const defaultPHCPrefix = "$argon2id$v=19$m=19456,t=2,p=1$"

func wantReason(t *testing.T, err, kind error, reason string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error %v does not match %v", err, kind)
	}
	if got := core.ReasonOf(err); got != reason {
		t.Fatalf("reason = %q, want %q (error %v)", got, reason, err)
	}
}

func TestPasswordHashRoundTrip(t *testing.T) {
	const pw = "correct horse battery staple"
	enc, err := Hash(pw, DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, defaultPHCPrefix) {
		t.Fatalf("hash %q lacks prefix %q", enc, defaultPHCPrefix)
	}
	h, err := parsePHC(enc)
	if err != nil {
		t.Fatalf("parsePHC(own output): %v", err)
	}
	if h.params != DefaultParams || len(h.salt) != 16 || len(h.key) != 32 {
		t.Fatalf("parsed params %+v, salt %d, key %d", h.params, len(h.salt), len(h.key))
	}
	if h.String() != enc {
		t.Fatalf("re-encoding differs: %q vs %q", h.String(), enc)
	}
	if !h.verify(pw) {
		t.Fatal("correct password does not verify")
	}
	if h.verify(pw + " ") {
		t.Fatal("wrong password verifies")
	}
	enc2, err := Hash(pw, Params{}) // zero params: the defaults
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc2, defaultPHCPrefix) || enc2 == enc {
		t.Fatalf("second hash %q: want default params and a fresh salt", enc2)
	}
}

func TestPasswordUnicodeAndLongPasswords(t *testing.T) {
	// 85 code points: Latin with diacritics, CJK, Cyrillic, emoji, a
	// combining mark and a NUL.
	uni := strings.Repeat("Pä密п🔑e\u0301", 12) + "\x00"
	if n := len([]rune(uni)); n < 64 {
		t.Fatalf("test password has only %d characters", n)
	}
	long := strings.Repeat("ab€", core.MaxPasswordBytes/5) // 5 bytes per repeat
	long += strings.Repeat("z", core.MaxPasswordBytes-len(long))
	if len(long) != core.MaxPasswordBytes {
		t.Fatalf("long password is %d bytes", len(long))
	}
	for _, tc := range []struct {
		name, pw string
		wrong    []string
	}{
		{"unicode", uni, []string{strings.ToLower(uni), strings.ToUpper(uni), uni[:len(uni)-1]}},
		{"1024 bytes", long, []string{long[:core.MaxPasswordBytes-1]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := Hash(tc.pw, DefaultParams)
			if err != nil {
				t.Fatal(err)
			}
			h, err := parsePHC(enc)
			if err != nil {
				t.Fatal(err)
			}
			if !h.verify(tc.pw) {
				t.Fatal("password does not verify")
			}
			for _, w := range tc.wrong {
				if w == tc.pw {
					continue
				}
				if h.verify(w) {
					t.Fatalf("a case-folded or truncated variant verifies (len %d)", len(w))
				}
			}
		})
	}
}

func TestPHCParse(t *testing.T) {
	const salt = "c29tZXNhbHRzb21lc2FsdA"                    // 16 bytes
	const key = "Q2hhbmdlIG1lLCBJIGFtIGEgMzItYnl0ZSBrZXkhIQ" // 31 bytes
	valid := "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key
	cases := []struct {
		name string
		in   string
		ok   bool
	}{
		{"valid", valid, true},
		{"valid other params", "$argon2id$v=19$m=65536,t=3,p=4$" + salt + "$" + key, true},
		{"valid weak but in bounds", "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$" + key, true},
		{"argon2i", "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key, false},
		{"argon2d", "$argon2d$v=19$m=19456,t=2,p=1$" + salt + "$" + key, false},
		{"bcrypt", "$2b$12$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyzABCD", false},
		{"upper-case variant", "$ARGON2ID$v=19$m=19456,t=2,p=1$" + salt + "$" + key, false},
		{"version 16", "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key, false},
		{"version missing", "$argon2id$m=19456,t=2,p=1$" + salt + "$" + key, false},
		{"version leading zero", "$argon2id$v=019$m=19456,t=2,p=1$" + salt + "$" + key, false},
		{"empty", "", false},
		{"dollar only", "$", false},
		{"missing hash", "$argon2id$v=19$m=19456,t=2,p=1$" + salt, false},
		{"empty hash", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$", false},
		{"empty salt", "$argon2id$v=19$m=19456,t=2,p=1$$" + key, false},
		{"missing params", "$argon2id$v=19$" + salt + "$" + key, false},
		{"missing p", "$argon2id$v=19$m=19456,t=2$" + salt + "$" + key, false},
		{"params reordered", "$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key, false},
		{"extra param", "$argon2id$v=19$m=19456,t=2,p=1,keyid=abc$" + salt + "$" + key, false},
		{"space in params", "$argon2id$v=19$m=19456, t=2,p=1$" + salt + "$" + key, false},
		{"leading zero", "$argon2id$v=19$m=019456,t=2,p=1$" + salt + "$" + key, false},
		{"negative", "$argon2id$v=19$m=-19456,t=2,p=1$" + salt + "$" + key, false},
		{"plus sign", "$argon2id$v=19$m=+19456,t=2,p=1$" + salt + "$" + key, false},
		{"empty value", "$argon2id$v=19$m=,t=2,p=1$" + salt + "$" + key, false},
		{"huge m", "$argon2id$v=19$m=4294967295,t=2,p=1$" + salt + "$" + key, false},
		{"m over uint32", "$argon2id$v=19$m=99999999999,t=2,p=1$" + salt + "$" + key, false},
		{"m above bound", "$argon2id$v=19$m=262145,t=1,p=1$" + salt + "$" + key, false},
		{"work above bound", "$argon2id$v=19$m=262144,t=9,p=1$" + salt + "$" + key, false},
		{"huge t", "$argon2id$v=19$m=19456,t=1000000,p=1$" + salt + "$" + key, false},
		{"t zero", "$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key, false},
		{"p zero", "$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key, false},
		{"huge p", "$argon2id$v=19$m=19456,t=2,p=255$" + salt + "$" + key, false},
		{"p over uint8", "$argon2id$v=19$m=19456,t=2,p=257$" + salt + "$" + key, false},
		{"m below 8p", "$argon2id$v=19$m=8,t=2,p=2$" + salt + "$" + key, false},
		{"bad base64 salt", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXN!bHRzb21lc2FsdA$" + key, false},
		{"url base64", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXN_bHRzb21lc2FsdA$" + key, false},
		{"padded salt", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key, false},
		{"newline in salt", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNh\nbHRzb21lc2FsdA$" + key, false},
		{"non-canonical trailing bits", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdB$" + key, false},
		{"impossible base64 length", "$argon2id$v=19$m=19456,t=2,p=1$" + salt[:21] + "$" + key, false},
		{"salt too short", "$argon2id$v=19$m=19456,t=2,p=1$c29tZQ$" + key, false},
		{"salt too long", "$argon2id$v=19$m=19456,t=2,p=1$" + strings.Repeat("A", 88) + "$" + key, false},
		{"key too short", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$c2hvcnQ", false},
		{"key too long", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + strings.Repeat("A", 88), false},
		{"trailing field", valid + "$extra", false},
		{"trailing dollar", valid + "$", false},
		{"trailing space", valid + " ", false},
		{"leading space", " " + valid, false},
		{"no leading dollar", valid[1:], false},
		{"very long", valid + strings.Repeat("A", 1<<20), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := parsePHC(tc.in)
			if tc.ok {
				if err != nil {
					t.Fatalf("parsePHC: %v", err)
				}
				if h.String() != tc.in {
					t.Fatalf("re-encoding %q differs from %q", h.String(), tc.in)
				}
				return
			}
			if err == nil {
				t.Fatalf("parsePHC accepted %q", tc.in)
			}
			if !errors.Is(err, errPHC) {
				t.Fatalf("error %v does not wrap errPHC", err)
			}
			if len(tc.in) > 8 && strings.Contains(err.Error(), tc.in) {
				t.Fatal("parse error quotes the input")
			}
		})
	}
}

func TestParamsValidation(t *testing.T) {
	d := DefaultParams
	with := func(f func(*Params)) Params { p := d; f(&p); return p }
	for _, tc := range []struct {
		name string
		p    Params
		ok   bool
		want Params
	}{
		{"defaults", d, true, d},
		{"zero means defaults", Params{}, true, d},
		{"partial fills defaults", Params{Memory: 65536}, true, with(func(p *Params) { p.Memory = 65536 })},
		{"46 MiB t=1 row", Params{Memory: 47104, Time: 1}, true, with(func(p *Params) { p.Memory, p.Time = 47104, 1 })},
		{"7 MiB t=5 row", Params{Memory: 7168, Time: 5}, true, with(func(p *Params) { p.Memory, p.Time = 7168, 5 })},
		{"memory one below", with(func(p *Params) { p.Memory-- }), false, Params{}},
		{"t=1 at 19 MiB", with(func(p *Params) { p.Time = 1 }), false, Params{}},
		{"7 MiB t=4", Params{Memory: 7168, Time: 4}, false, Params{}},
		{"short salt", with(func(p *Params) { p.SaltLen = 8 }), false, Params{}},
		{"short key", with(func(p *Params) { p.KeyLen = 16 }), false, Params{}},
		{"memory above bound", with(func(p *Params) { p.Memory = MaxMemory + 1 }), false, Params{}},
		{"huge memory", with(func(p *Params) { p.Memory = 1 << 31 }), false, Params{}},
		{"time above bound", with(func(p *Params) { p.Time = MaxTime + 1 }), false, Params{}},
		{"threads above bound", with(func(p *Params) { p.Threads = MaxThreads + 1 }), false, Params{}},
		{"key above bound", with(func(p *Params) { p.KeyLen = MaxKeyLen + 1 }), false, Params{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := validateParams(tc.p)
			if !tc.ok {
				if !errors.Is(err, core.ErrConfig) {
					t.Fatalf("validateParams(%+v) = %+v, %v; want core.ErrConfig", tc.p, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("validateParams(%+v) = %+v, %v; want %+v", tc.p, got, err, tc.want)
			}
		})
	}

	// Refused before any hashing, by Hash and by the constructor.
	weak := with(func(p *Params) { p.Time = 1 })
	if _, err := Hash("pw", weak); !errors.Is(err, core.ErrConfig) {
		t.Fatalf("Hash with weak params: %v", err)
	}
	if _, err := NewAuthenticator(memstore.New(), Options{Params: weak}); !errors.Is(err, core.ErrConfig) {
		t.Fatalf("NewAuthenticator with weak params: %v", err)
	}
	if _, err := NewAuthenticator(memstore.New(), Options{MaxConcurrent: -1}); !errors.Is(err, core.ErrConfig) {
		t.Fatalf("NewAuthenticator with MaxConcurrent -1: %v", err)
	}
	if _, err := NewAuthenticator(nil, Options{}); !errors.Is(err, core.ErrConfig) {
		t.Fatalf("NewAuthenticator without store: %v", err)
	}
}

func FuzzParsePHC(f *testing.F) {
	const salt = "c29tZXNhbHRzb21lc2FsdA"
	const key = "Q2hhbmdlIG1lLCBJIGFtIGEgMzItYnl0ZSBrZXkhIQ"
	for _, s := range []string{
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=65536,t=3,p=4$" + salt + "$" + key,
		"$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2$" + salt + "$" + key,
		"$argon2id$v=19$m=4294967295,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXN!bHRzb21lc2FsdA$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$extra",
		"$argon2id$v=19$m=019456,t=2,p=1$" + salt + "$" + key,
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parsePHC(s)
		if err != nil {
			if !errors.Is(err, errPHC) {
				t.Fatalf("error %v does not wrap errPHC", err)
			}
			return
		}
		if enc := h.String(); enc != s {
			t.Fatalf("accepted %q re-encodes as %q", s, enc)
		}
		if int(h.params.SaltLen) != len(h.salt) || int(h.params.KeyLen) != len(h.key) {
			t.Fatalf("lengths %+v do not match salt %d, key %d", h.params, len(h.salt), len(h.key))
		}
		if err := h.params.checkBounds(minStoredSaltLen, minStoredKeyLen); err != nil {
			t.Fatalf("accepted out-of-bounds params: %v", err)
		}
	})
}
