package core_test

// Focused tests for items of the security checklist (the R-numbers of
// SECURITY.md) that had no test of their own. Each test name carries the
// item number; SECURITY.md maps every item to its tests.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
)

func secLogin(t *testing.T, f *authtest.Fixture, email string, c core.ClientInfo) *core.TokenResponse {
	t.Helper()
	tr, err := f.Service.Login(context.Background(), core.LoginInput{Email: email, Password: authtest.Password, Client: c})
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	return tr
}

func secRefresh(t *testing.T, f *authtest.Fixture, rt string) *core.TokenResponse {
	t.Helper()
	tr, err := f.Service.Refresh(context.Background(), rt, core.ClientInfo{})
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	return tr
}

// secClaims decodes the payload of a compact JWS without verifying it.
func secClaims(t *testing.T, jws string) map[string]any {
	t.Helper()
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS")
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// R27: every access token the Service issues carries a unique jti of 128
// random bits (base64url of 16 bytes), on login and on every refresh.
func TestR27_ServiceIssuesUniqueRandomJTI(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	seen := map[string]bool{}
	check := func(access string) {
		t.Helper()
		jti, _ := secClaims(t, access)["jti"].(string)
		raw, err := base64.RawURLEncoding.Strict().DecodeString(jti)
		if err != nil || len(raw) != 16 {
			t.Fatalf("jti %q is not 128 bits of base64url", jti)
		}
		if seen[jti] {
			t.Fatalf("jti %q issued twice", jti)
		}
		seen[jti] = true
	}
	for range 2 {
		tr := secLogin(t, f, authtest.UserEmail, core.ClientInfo{})
		check(tr.AccessToken)
		for range 25 {
			f.Clock.Advance(time.Second)
			tr = secRefresh(t, f, tr.RefreshToken)
			check(tr.AccessToken)
		}
	}
}

// secWalkStrings calls fn with every string and byte slice reachable from v,
// unexported fields included (read only, through reflection).
func secWalkStrings(v reflect.Value, seen map[uintptr]bool, fn func(string)) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || seen[v.Pointer()] {
			return
		}
		seen[v.Pointer()] = true
		secWalkStrings(v.Elem(), seen, fn)
	case reflect.Interface:
		if !v.IsNil() {
			secWalkStrings(v.Elem(), seen, fn)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			secWalkStrings(v.Field(i), seen, fn)
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			secWalkStrings(it.Key(), seen, fn)
			secWalkStrings(it.Value(), seen, fn)
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			fn(string(v.Bytes()))
			return
		}
		for i := range v.Len() {
			secWalkStrings(v.Index(i), seen, fn)
		}
	case reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, v.Len())
			for i := range b {
				b[i] = byte(v.Index(i).Uint())
			}
			fn(string(b))
			return
		}
		for i := range v.Len() {
			secWalkStrings(v.Index(i), seen, fn)
		}
	case reflect.String:
		fn(v.String())
	}
}

// R34: refresh tokens carry 256 random bits, and the store keeps only
// digests: neither a refresh token (current, rotated or the sealed successor
// served to grace replays) nor its raw bytes can be read back from anything
// the memory store holds.
func TestR34_StoreKeepsOnlyDigests(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	ctx := context.Background()
	t0 := secLogin(t, f, authtest.UserEmail, core.ClientInfo{IP: "192.0.2.1"})
	t1 := secRefresh(t, f, t0.RefreshToken)
	replay := secRefresh(t, f, t0.RefreshToken) // grace replay: the successor is opened from the store
	if replay.RefreshToken != t1.RefreshToken {
		t.Fatal("grace replay did not return the successor")
	}
	f.Clock.Advance(time.Minute)
	t2 := secRefresh(t, f, t1.RefreshToken)
	other := secLogin(t, f, authtest.AdminEmail, core.ClientInfo{})
	if err := f.Service.Logout(ctx, core.LogoutInput{RefreshToken: other.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	tokens := []string{t0.RefreshToken, t1.RefreshToken, t2.RefreshToken, other.RefreshToken}
	var secrets []string
	for _, tok := range tokens {
		raw, err := base64.RawURLEncoding.Strict().DecodeString(tok)
		if err != nil || len(raw) < 32 {
			t.Fatalf("refresh token is not base64url of at least 256 bits")
		}
		secrets = append(secrets, tok, string(raw))
	}
	// Stop the revocation poller so that nothing touches the store while it
	// is read without its lock.
	if err := f.Service.Close(); err != nil {
		t.Fatal(err)
	}
	var sawSession bool
	digests := 0
	secWalkStrings(reflect.ValueOf(f.Store), map[uintptr]bool{}, func(s string) {
		if s == t0.SessionID {
			sawSession = true
		}
		if len(s) == 32 {
			digests++
		}
		for _, secret := range secrets {
			if strings.Contains(s, secret) {
				t.Fatalf("the store holds a raw refresh token (or its bytes)")
			}
		}
	})
	if !sawSession || digests < len(tokens) {
		t.Fatalf("the walk did not reach the sessions (session seen %v, %d digests)", sawSession, digests)
	}
	// The session keeps one digest of the current token and one of the
	// lineage secret, nothing per rotated token.
	if s, err := f.Store.Session(ctx, t2.SessionID); err != nil || len(s.TokenDigest) != 32 || len(s.SecretDigest) != 32 {
		t.Fatalf("session digests: %d and %d bytes (%v), want 32 each", len(s.TokenDigest), len(s.SecretDigest), err)
	}
}

// R41: the deny-list behind the guards is keyed by session id (sid), not by
// token: revoking a session refuses every access token of it, also those never
// presented to logout, and an entry outlives the tokens it covers.
func TestR41_RevocationKeyedBySessionOutlivesTokens(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	ctx := context.Background()
	t0 := secLogin(t, f, authtest.UserEmail, core.ClientInfo{})
	f.Clock.Advance(time.Minute)
	t1 := secRefresh(t, f, t0.RefreshToken)
	if err := f.Service.Logout(ctx, core.LogoutInput{RefreshToken: t1.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	for _, at := range []string{t0.AccessToken, t1.AccessToken} {
		if _, err := f.Service.Authenticate(ctx, at); core.ReasonOf(err) != "session_revoked" {
			t.Fatalf("access token of a revoked session: %v, want session_revoked", err)
		}
	}
	// The feed names the session, nothing else.
	revs, err := f.Store.Revocations(ctx, 0, 0)
	if err != nil || len(revs) != 1 || revs[0].SessionID != t0.SessionID {
		t.Fatalf("revocation feed %+v, %v; want one entry for the session", revs, err)
	}
	// One second before t1 expires (exp + leeway), after the cache has been
	// pruned, the entry is still there.
	cfg := f.Service.Config()
	exp := time.Unix(int64(secClaims(t, t1.AccessToken)["exp"].(float64)), 0)
	f.Clock.Set(exp.Add(cfg.Leeway - time.Second))
	if err := f.Service.SyncRevocations(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Service.Authenticate(ctx, t1.AccessToken); core.ReasonOf(err) != "session_revoked" {
		t.Fatalf("revoked session's token near its expiry: %v, want session_revoked", err)
	}
	// Afterwards the token is refused on its own expiry.
	f.Clock.Set(exp.Add(cfg.Leeway + time.Hour))
	if err := f.Service.SyncRevocations(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Service.Authenticate(ctx, t1.AccessToken); core.ReasonOf(err) != "expired" {
		t.Fatalf("long after expiry: %v, want expired", err)
	}
}

// secCountingAuth counts credential checks (each one Argon2id computation).
type secCountingAuth struct {
	core.Authenticator
	n atomic.Int64
}

func (c *secCountingAuth) Authenticate(ctx context.Context, email, password string) (core.Identity, error) {
	c.n.Add(1)
	return c.Authenticator.Authenticate(ctx, email, password)
}

// R57: the throttle is checked before the password hash: a throttled attempt
// (right password included) never reaches the authenticator.
func TestR57_ThrottleCheckedBeforePasswordHash(t *testing.T) {
	var auth *secCountingAuth
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) {
		auth = &secCountingAuth{Authenticator: c.Authenticator}
		c.Authenticator = auth
		c.LoginThrottle.IPLimit = 12
	}})
	ctx := context.Background()
	try := func(email, password, ip string) error {
		_, err := f.Service.Login(ctx, core.LoginInput{Email: email, Password: password, Client: core.ClientInfo{IP: ip}})
		return err
	}
	limit := f.Service.Config().LoginThrottle.AccountLimit
	for range limit {
		if err := try(authtest.UserEmail, "a wrong password", "192.0.2.1"); !errors.Is(err, core.ErrInvalidGrant) {
			t.Fatalf("wrong password: %v", err)
		}
	}
	if got := auth.n.Load(); got != int64(limit) {
		t.Fatalf("%d credential checks for %d attempts", got, limit)
	}
	for _, pw := range []string{"a wrong password", authtest.Password} {
		if err := try(authtest.UserEmail, pw, "192.0.2.2"); !errors.Is(err, core.ErrTooManyRequests) {
			t.Fatalf("throttled account: %v, want 429", err)
		}
	}
	if got := auth.n.Load(); got != int64(limit) {
		t.Fatalf("throttled attempts reached the password hash (%d checks)", got)
	}
	// The same for the IP limit: two more checks from 192.0.2.1, then none.
	for i := range 5 {
		err := try("someone"+string(rune('a'+i))+"@example.com", "a wrong password", "192.0.2.1")
		if want := i >= 2; errors.Is(err, core.ErrTooManyRequests) != want {
			t.Fatalf("attempt %d from a throttled IP: %v", i, err)
		}
	}
	if got := auth.n.Load(); got != int64(limit)+2 {
		t.Fatalf("%d credential checks, want %d", got, limit+2)
	}
}

// R58: the comparisons of secrets are constant-time: Argon2id hashes with
// crypto/subtle, HMAC signatures with hmac.Equal; no variable-time
// comparison helper is used on byte slices anywhere in the core, its token
// package or the memory store. Refresh-token digests are never compared: they
// are looked up as map or index keys.
func TestR58_SecretsComparedInConstantTime(t *testing.T) {
	fset := token.NewFileSet()
	calls := map[string]map[string]bool{} // function -> "pkg.Func" called
	for _, dir := range []string{".", "memstore", "password", "token"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Body == nil {
					continue
				}
				fn := fd.Name.Name
				if fd.Recv != nil && len(fd.Recv.List) == 1 {
					rt := fd.Recv.List[0].Type
					if st, ok := rt.(*ast.StarExpr); ok {
						rt = st.X
					}
					if id, ok := rt.(*ast.Ident); ok {
						fn = id.Name + "." + fn
					}
				}
				ast.Inspect(fd.Body, func(n ast.Node) bool {
					ce, ok := n.(*ast.CallExpr)
					if !ok {
						return true
					}
					sel, ok := ce.Fun.(*ast.SelectorExpr)
					if !ok {
						return true
					}
					pkg, ok := sel.X.(*ast.Ident)
					if !ok {
						return true
					}
					called := pkg.Name + "." + sel.Sel.Name
					switch called {
					case "bytes.Equal", "bytes.Compare", "reflect.DeepEqual", "slices.Equal":
						t.Errorf("%s: %s calls %s (variable time)", fset.Position(ce.Pos()), fn, called)
					}
					if calls[fn] == nil {
						calls[fn] = map[string]bool{}
					}
					calls[fn][called] = true
					return true
				})
			}
		}
	}
	for fn, want := range map[string]string{
		"phcHash.verify": "subtle.ConstantTimeCompare", // Argon2id hash
		"Key.verifyMAC":  "hmac.Equal",                 // HS256 signature
	} {
		if !calls[fn][want] {
			t.Errorf("%s does not call %s", fn, want)
		}
	}
}
