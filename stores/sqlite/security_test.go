package sqlitestore

// R34 of the security checklist (the R-numbers of SECURITY.md) for the
// SQLite store: SECURITY.md maps every item to its tests.

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
)

// R34: the database holds only digests of refresh tokens. After logins,
// rotations, a grace replay (whose successor is read back from the store)
// and a logout, no table row and no byte of the database files (WAL
// included) contains a refresh token or its raw 32 bytes.
func TestR34_SQLiteKeepsOnlyDigests(t *testing.T) {
	st, path := openTemp(t)
	f := authtest.New(t, authtest.Options{Store: st})
	ctx := context.Background()
	login := func(email string) *core.TokenResponse {
		tr, err := f.Service.Login(ctx, core.LoginInput{Email: email, Password: authtest.Password})
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	refresh := func(rt string) *core.TokenResponse {
		tr, err := f.Service.Refresh(ctx, rt, core.ClientInfo{})
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	t0 := login(authtest.UserEmail)
	t1 := refresh(t0.RefreshToken)
	if replay := refresh(t0.RefreshToken); replay.RefreshToken != t1.RefreshToken {
		t.Fatal("grace replay did not return the successor")
	}
	f.Clock.Advance(time.Minute)
	t2 := refresh(t1.RefreshToken)
	other := login(authtest.AdminEmail)
	if err := f.Service.Logout(ctx, core.LogoutInput{RefreshToken: other.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	var secrets []string
	for _, tok := range []string{t0.RefreshToken, t1.RefreshToken, t2.RefreshToken, other.RefreshToken} {
		raw, err := base64.RawURLEncoding.Strict().DecodeString(tok)
		if err != nil || len(raw) < 32 {
			t.Fatal("refresh token is not base64url of at least 256 bits")
		}
		secrets = append(secrets, tok, string(raw))
	}
	leaks := func(where, s string) {
		t.Helper()
		for _, secret := range secrets {
			if strings.Contains(s, secret) {
				t.Fatalf("%s holds a raw refresh token (or its bytes)", where)
			}
		}
	}

	// Every value of every row of every table.
	tables, err := st.r.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		if err := tables.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	tables.Close()
	values := 0
	for _, n := range names {
		rows, err := st.r.QueryContext(ctx, `SELECT * FROM "`+n+`"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				switch v := v.(type) {
				case string:
					leaks(n+"."+cols[i], v)
				case []byte:
					leaks(n+"."+cols[i], string(v))
				}
				values++
			}
		}
		rows.Close()
	}
	if values == 0 {
		t.Fatal("no rows read: the check would pass vacuously")
	}

	// The files themselves, before and after the final checkpoint.
	readAll := func() {
		t.Helper()
		matches, _ := filepath.Glob(path + "*")
		for _, m := range matches {
			b, err := os.ReadFile(m)
			if err != nil {
				t.Fatal(err)
			}
			leaks(filepath.Base(m), string(b))
		}
		if len(matches) == 0 {
			t.Fatal("no database files found")
		}
	}
	readAll()
	if err := f.Service.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	readAll()
}
