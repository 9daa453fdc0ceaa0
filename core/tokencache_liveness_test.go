package core_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/memstore"
	"github.com/authguard/authguard/core/store"
)

// feedStore is a memstore whose revocation feed can be taken down.
type feedStore struct {
	*memstore.Store
	feedDown atomic.Bool
}

func (s *feedStore) Revocations(ctx context.Context, after int64, limit int) ([]store.Revocation, error) {
	if s.feedDown.Load() {
		return nil, errors.New("injected feed outage")
	}
	return s.Store.Revocations(ctx, after, limit)
}

// A token answered from the cache without a session lookup still fails
// closed (503 revocation_feed_stale, never 200, never 401) once the feed has
// not been read for longer than allowed, and is served again once it is:
// with the default clock, whose monotonic reading times the feed, and with
// an injected one.
func TestTokenCacheHitFailsClosedOnStaleFeed(t *testing.T) {
	for _, clock := range []string{"default", "injected"} {
		t.Run(clock, func(t *testing.T) {
			st := &feedStore{Store: memstore.New()}
			f := authtest.New(t, authtest.Options{Store: st, Config: func(c *core.Config) {
				if clock == "default" {
					c.Now = nil
				}
				c.RevocationPollInterval = 5 * time.Millisecond
				c.RevocationMaxStaleness = 60 * time.Millisecond
			}})
			tok := login(t, f).AccessToken
			mustAuthenticate(t, f.Service, tok)
			mustAuthenticate(t, f.Service, tok)
			if !core.TokenCacheVouched(f.Service, tok) {
				t.Fatal("a token seen twice is not answered from the cache")
			}
			st.feedDown.Store(true)
			deadline := time.Now().Add(5 * time.Second)
			for {
				p, err := f.Service.Authenticate(context.Background(), tok)
				if err != nil {
					if !errors.Is(err, core.ErrUnavailable) || core.ReasonOf(err) != "revocation_feed_stale" {
						t.Fatalf("stale feed: %v; want unavailable revocation_feed_stale", err)
					}
					break
				}
				if p == nil || time.Now().After(deadline) {
					t.Fatal("a cached token is still accepted long after the feed went down")
				}
				time.Sleep(5 * time.Millisecond)
			}
			st.feedDown.Store(false)
			if err := f.Service.SyncRevocations(context.Background()); err != nil {
				t.Fatal(err)
			}
			mustAuthenticate(t, f.Service, tok)
		})
	}
}

// When the entry that vouched for a cached token's session leaves the
// sessions seen live (here replaced by a refresh), the next hit looks the
// session up again, and the new entry vouches from then on; a revocation
// still refuses the token on its next request.
func TestTokenCacheHitAfterSeenEntryReplaced(t *testing.T) {
	st := &countingStore{Store: memstore.New()}
	f := authtest.New(t, authtest.Options{Store: st})
	ctx := context.Background()
	tr := login(t, f)
	p := mustAuthenticate(t, f.Service, tr.AccessToken)
	if !core.TokenCacheVouched(f.Service, tr.AccessToken) {
		t.Fatal("an admitted token has no entry vouching for its session")
	}
	next, err := f.Service.Refresh(ctx, tr.RefreshToken, core.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if core.TokenCacheVouched(f.Service, tr.AccessToken) {
		t.Fatal("a replaced entry still vouches")
	}
	reads := st.reads.Load()
	if mustAuthenticate(t, f.Service, tr.AccessToken) != p {
		t.Fatal("the cached token was verified again")
	}
	if !core.TokenCacheVouched(f.Service, tr.AccessToken) {
		t.Fatal("the refreshed session's entry does not vouch for the cached token")
	}
	if n := st.reads.Load() - reads; n != 0 {
		t.Fatalf("%d store reads for a session seen live", n)
	}
	if err := f.Service.Logout(ctx, core.LogoutInput{RefreshToken: next.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, f.Service, tr.AccessToken, "session_revoked")
	wantRefused(t, f.Service, next.AccessToken, "session_revoked")
}
