package core_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/token"
)

// login logs the test user in and returns the token response.
func login(t testing.TB, f *authtest.Fixture) *core.TokenResponse {
	t.Helper()
	tr, err := f.Service.Login(context.Background(), core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// mint signs an access token of the test user for session sid, unique by
// jti, valid for the service's access-token lifetime from the fixture clock.
func mint(t testing.TB, f *authtest.Fixture, sid string, jti int) string {
	t.Helper()
	now := f.Clock.Now()
	tok, err := f.Service.Keys().Sign(&token.AccessClaims{
		Issuer: authtest.Issuer, Subject: f.UserID, Audience: []string{authtest.Audience}, Roles: []string{"user"},
		IssuedAt: now.Unix(), ExpiresAt: now.Add(f.Service.Config().AccessTTL).Unix(), SessionID: sid,
		ID: fmt.Sprintf("jti-%d", jti), AuthTime: now.Unix(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func wantRefused(t testing.TB, s *core.Service, tok, reason string) {
	t.Helper()
	p, err := s.Authenticate(context.Background(), tok)
	if p != nil || !errors.Is(err, core.ErrInvalidToken) || core.ReasonOf(err) != reason {
		t.Fatalf("Authenticate = %v, %v; want invalid_token %s", p, err, reason)
	}
}

func mustAuthenticate(t testing.TB, s *core.Service, tok string) *core.Principal {
	t.Helper()
	p, err := s.Authenticate(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A token seen before is answered from the cache (the same principal),
// compared in full: one character changed anywhere is verified, and refused.
func TestTokenCacheHitAndMiss(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	tr := login(t, f)
	p1 := mustAuthenticate(t, f.Service, tr.AccessToken)
	if p2 := mustAuthenticate(t, f.Service, tr.AccessToken); p2 != p1 {
		t.Fatal("second request of a token was not answered from the cache")
	}
	if p1.Subject != f.UserID || p1.SessionID != tr.SessionID {
		t.Fatalf("cached principal %+v", p1)
	}
	if n, _ := core.TokenCacheStats(f.Service); n != 1 {
		t.Fatalf("%d cache entries, want 1", n)
	}
	tok := tr.AccessToken
	last := len(tok) - 2 // not the very last character: its low bits may be unused
	flip := map[byte]byte{'A': 'B'}[tok[last]]
	if flip == 0 {
		flip = 'A'
	}
	wantRefused(t, f.Service, tok[:last]+string(flip)+tok[last+1:], "signature")
	wantRefused(t, f.Service, tok+"A", "signature")
	if n, _ := core.TokenCacheStats(f.Service); n != 1 {
		t.Fatalf("%d cache entries after refusals, want 1", n)
	}
	other := login(t, f)
	if p := mustAuthenticate(t, f.Service, other.AccessToken); p == p1 || p.SessionID != other.SessionID {
		t.Fatalf("another token got principal %+v", p)
	}

	off := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.TokenCacheMaxEntries = -1 }})
	tr = login(t, off)
	if mustAuthenticate(t, off.Service, tr.AccessToken) == mustAuthenticate(t, off.Service, tr.AccessToken) {
		t.Fatal("a cache turned off answered from the cache")
	}
	if n, _ := core.TokenCacheStats(off.Service); n != 0 {
		t.Fatalf("a cache turned off holds %d entries", n)
	}
}

// A cached token expires on the service clock, with the leeway, exactly as
// a verified one does, and a clock set back before its issue is refused.
func TestTokenCacheExpiryOnHit(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	tr := login(t, f)
	p := mustAuthenticate(t, f.Service, tr.AccessToken)
	lw := f.Service.Config().Leeway
	f.Clock.Set(p.ExpiresAt.Add(lw - time.Second))
	if mustAuthenticate(t, f.Service, tr.AccessToken) != p {
		t.Fatal("a token within its leeway was not a hit")
	}
	f.Clock.Set(p.ExpiresAt.Add(lw))
	wantRefused(t, f.Service, tr.AccessToken, "expired")
	if n, _ := core.TokenCacheStats(f.Service); n != 0 {
		t.Fatalf("an expired token stays cached (%d entries)", n)
	}
	f.Clock.Set(p.IssuedAt)
	mustAuthenticate(t, f.Service, tr.AccessToken)
	f.Clock.Set(p.IssuedAt.Add(-lw - time.Second))
	wantRefused(t, f.Service, tr.AccessToken, "iat_future")
}

// A cached token of a session revoked here, or by another instance sharing
// the store (through the feed), is refused on its next request.
func TestTokenCacheRevokedSessionOnHit(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	ctx := context.Background()
	tr := login(t, f)
	p := mustAuthenticate(t, f.Service, tr.AccessToken)
	mustAuthenticate(t, f.Service, tr.AccessToken)
	if err := f.Service.RevokeSession(ctx, p, tr.SessionID, core.ClientInfo{}); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, f.Service, tr.AccessToken, "session_revoked")
	if n, _ := core.TokenCacheStats(f.Service); n != 0 {
		t.Fatalf("a revoked session's token stays cached (%d entries)", n)
	}

	b, err := core.New(withStore(f, f.Store))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	tr = login(t, f)
	if mustAuthenticate(t, b, tr.AccessToken) != mustAuthenticate(t, b, tr.AccessToken) {
		t.Fatal("the other instance did not cache the token")
	}
	if err := f.Service.Logout(ctx, core.LogoutInput{RefreshToken: tr.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	if err := b.SyncRevocations(ctx); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, b, tr.AccessToken, "session_revoked")
}

// Removing a key from the key set refuses the tokens it signed, cached or
// not; adding one keeps them valid (they are verified once more).
func TestTokenCacheKeyRemoved(t *testing.T) {
	for _, alg := range []string{token.AlgEdDSA, token.AlgHS256} {
		t.Run(alg, func(t *testing.T) {
			f := authtest.New(t, authtest.Options{Alg: alg})
			ks := f.Service.Keys()
			old := ks.SigningKey()
			tr := login(t, f)
			p := mustAuthenticate(t, f.Service, tr.AccessToken)
			next, err := token.GenerateKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			if err := ks.SetSigningKey(next); err != nil {
				t.Fatal(err)
			}
			if q := mustAuthenticate(t, f.Service, tr.AccessToken); q.TokenID != p.TokenID {
				t.Fatalf("after a rotation: %+v", q)
			}
			if err := ks.RemoveKey(old.ID()); err != nil {
				t.Fatal(err)
			}
			wantRefused(t, f.Service, tr.AccessToken, "kid")
			wantRefused(t, f.Service, tr.AccessToken, "kid")
		})
	}
}

// heapInUse returns the heap in use after two collections.
func heapInUse() int { return int(heapStats().HeapInuse) }

func heapStats() runtime.MemStats {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m
}

// slack is the heap growth the memory tests tolerate besides the cache's
// bound: the runtime's and the test's own noise. Without the bounds, 100,000
// cached tokens take about 90 MiB.
const slack = 4 << 20

// uniqueTokens is how many unique tokens the memory tests send: 100,000,
// and a tenth under the race detector, which makes each request about ten
// times slower and has nothing to find in a loop of one goroutine.
func uniqueTokens() int {
	if raceEnabled {
		return 10000
	}
	return 100000
}

// 100,000 unique invalid tokens (forged signatures, forged claims) leave
// the cache empty and the heap where it was.
func TestTokenCacheUniqueInvalidTokens(t *testing.T) {
	const bound = 1 << 20
	f := authtest.New(t, authtest.Options{Alg: token.AlgHS256, Config: func(c *core.Config) { c.TokenCacheMaxBytes = bound }})
	tr := login(t, f)
	tok := tr.AccessToken
	d1, d2 := strings.IndexByte(tok, '.'), strings.LastIndexByte(tok, '.')
	before := heapInUse()
	for i := range uniqueTokens() {
		n := fmt.Sprintf("%08d", i)
		var bad string
		if i%2 == 0 { // a signature of the right length, not the token's
			bad = tok[:len(tok)-8] + n
		} else { // claims rewritten, the signature kept
			bad = tok[:d1+1] + tok[d1+1:d1+9] + n + tok[d1+17:d2] + tok[d2:]
		}
		if _, err := f.Service.Authenticate(context.Background(), bad); !errors.Is(err, core.ErrInvalidToken) {
			t.Fatalf("forged token %d: %v", i, err)
		}
	}
	grown := heapInUse() - before
	if n, b := core.TokenCacheStats(f.Service); n != 0 || b != 0 {
		t.Fatalf("invalid tokens were cached: %d entries, %d bytes", n, b)
	}
	if grown > bound+slack {
		t.Fatalf("heap grew by %d bytes, bound %d + slack %d", grown, bound, slack)
	}
	t.Logf("heap growth after %d invalid tokens: %d bytes", uniqueTokens(), grown)
}

// 100,000 unique valid tokens keep the cache within its byte bound and the
// heap within it; with an entry bound instead, the bytes the cache charges
// are at least what its entries take on the heap.
func TestTokenCacheUniqueValidTokens(t *testing.T) {
	t.Run("bytes", func(t *testing.T) {
		const bound = 1 << 20
		f := authtest.New(t, authtest.Options{Alg: token.AlgHS256, Config: func(c *core.Config) { c.TokenCacheMaxBytes = bound }})
		sid := login(t, f).SessionID
		before := heapInUse()
		for i := range uniqueTokens() {
			mustAuthenticate(t, f.Service, mint(t, f, sid, i))
		}
		grown := heapInUse() - before
		n, b := core.TokenCacheStats(f.Service)
		if b > bound || n == 0 {
			t.Fatalf("%d entries, %d bytes; bound %d bytes", n, b, bound)
		}
		if grown > bound+slack {
			t.Fatalf("heap grew by %d bytes, bound %d + slack %d", grown, bound, slack)
		}
		t.Logf("%d valid tokens: %d entries, %d bytes charged, heap growth %d bytes", uniqueTokens(), n, b, grown)
	})
	t.Run("entries", func(t *testing.T) {
		entries := uniqueTokens() / 5
		f := authtest.New(t, authtest.Options{Alg: token.AlgHS256, Config: func(c *core.Config) { c.TokenCacheMaxEntries = entries }})
		sid := login(t, f).SessionID
		before := heapStats()
		for i := range 3 * entries {
			mustAuthenticate(t, f.Service, mint(t, f, sid, i))
		}
		after := heapStats()
		live, inUse := int(after.HeapAlloc-before.HeapAlloc), int(after.HeapInuse-before.HeapInuse)
		n, b := core.TokenCacheStats(f.Service)
		if n > entries || n < entries/2 {
			t.Fatalf("%d entries, bound %d", n, entries)
		}
		if live > b {
			t.Fatalf("%d live bytes for %d entries charged %d bytes: the charge understates", live, n, b)
		}
		t.Logf("%d entries: %d bytes charged, %d live bytes, heap in use grew %d bytes", n, b, live, inUse)
	})
}

// Many goroutines behind a barrier authenticate overlapping tokens of two
// sessions through a small cache while the key set changes under them;
// after one session is revoked none of its tokens passes, cached or not.
func TestTokenCacheConcurrent(t *testing.T) {
	const workers, perSession, rounds = 32, 100, 400
	f := authtest.New(t, authtest.Options{Alg: token.AlgHS256, Config: func(c *core.Config) { c.TokenCacheMaxEntries = 64 }})
	a, b := login(t, f), login(t, f)
	var toks [2][]string
	for i := range perSession {
		toks[0] = append(toks[0], mint(t, f, a.SessionID, i))
		toks[1] = append(toks[1], mint(t, f, b.SessionID, perSession+i))
	}
	extra, err := token.GenerateKey(token.AlgHS256)
	if err != nil {
		t.Fatal(err)
	}
	run := func(bRevoked bool) {
		var start, done sync.WaitGroup
		start.Add(1)
		errs := make(chan error, workers+1)
		stop := make(chan struct{})
		go func() { // key-set churn: every change makes cached tokens verify again
			start.Wait()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := f.Service.Keys().AddVerifyKey(extra); err != nil {
					errs <- err
					return
				}
				if err := f.Service.Keys().RemoveKey(extra.ID()); err != nil {
					errs <- err
					return
				}
				time.Sleep(time.Millisecond)
			}
		}()
		for w := range workers {
			done.Add(1)
			go func() {
				defer done.Done()
				start.Wait()
				for i := range rounds {
					s := (w + i) % 2
					j := (w*31 + i*7) % perSession
					p, err := f.Service.Authenticate(context.Background(), toks[s][j])
					switch {
					case s == 1 && bRevoked:
						if err == nil || core.ReasonOf(err) != "session_revoked" {
							errs <- fmt.Errorf("revoked session's token %d: %v, %v", j, p, err)
							return
						}
					case err != nil:
						errs <- fmt.Errorf("token %d of session %d: %w", j, s, err)
						return
					case p.TokenID != fmt.Sprintf("jti-%d", s*perSession+j) || p.SessionID != []string{a.SessionID, b.SessionID}[s]:
						errs <- fmt.Errorf("token %d of session %d yielded %+v", j, s, p)
						return
					}
				}
			}()
		}
		start.Done()
		done.Wait()
		close(stop)
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if n, _ := core.TokenCacheStats(f.Service); n > 64 {
			t.Errorf("%d cache entries, bound 64", n)
		}
	}
	run(false)
	if err := f.Service.Logout(context.Background(), core.LogoutInput{RefreshToken: b.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	run(true)
}

func TestAuthenticateCacheHitAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	f := authtest.New(t, authtest.Options{})
	tok := login(t, f).AccessToken
	mustAuthenticate(t, f.Service, tok)
	if n := testing.AllocsPerRun(1000, func() { mustAuthenticate(t, f.Service, tok) }); n != 0 {
		t.Fatalf("a cache hit allocates %v times", n)
	}
}

// BenchmarkAuthenticate measures Service.Authenticate on a token seen
// before (hit) and with the cache off (every request verifies).
func BenchmarkAuthenticate(b *testing.B) {
	for _, alg := range []string{token.AlgEdDSA, token.AlgHS256} {
		for _, mode := range []string{"hit", "verify"} {
			b.Run(alg+"/"+mode, func(b *testing.B) {
				f := authtest.New(b, authtest.Options{Alg: alg, Config: func(c *core.Config) {
					if mode == "verify" {
						c.TokenCacheMaxEntries = -1
					}
				}})
				tok := login(b, f).AccessToken
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if _, err := f.Service.Authenticate(ctx, tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// A cache value stays 40 bytes (two pointers and three 8-byte words), so
// that a slot of the cache, with its key, charge and reference bit, is one
// cache line: what a hit reads besides the token's bytes.
func TestTokenCacheValueFitsTheSlot(t *testing.T) {
	if core.VerifiedTokenSize != 40 {
		t.Fatalf("verifiedToken is %d bytes; want 40", core.VerifiedTokenSize)
	}
}
