package sqlitestore

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/store"
)

// atkPair is two services, each over its own handle on one SQLite file (two
// processes on one host), sharing keys and users.
type atkPair struct {
	f    *authtest.Fixture
	a, b *core.Service
	stB  *Store
}

func newAtkPair(t *testing.T) *atkPair {
	t.Helper()
	stA, path := openTemp(t)
	f := authtest.New(t, authtest.Options{Store: stA, Config: func(c *core.Config) {
		c.RevocationPollInterval = time.Hour
		c.RevocationMaxStaleness = 2 * time.Hour
	}})
	stB, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stB.Close() })
	cfg := f.Service.Config()
	cfg.Store, cfg.Throttle = stB, stB
	b, err := core.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return &atkPair{f: f, a: f.Service, b: b, stB: stB}
}

func (p *atkPair) login(t *testing.T) *core.TokenResponse {
	t.Helper()
	tr, err := p.a.Login(context.Background(), core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// Two instances on one file, 20 goroutines each, present one token at once,
// round after round down the lineage: exactly one successor per round, no
// 503 (the losers of the file lock wait, then replay or are refused), and the
// lineage goes on.
func TestAttackTwoHandlesConcurrentRefresh(t *testing.T) {
	p := newAtkPair(t)
	tr := p.login(t)
	rt := tr.RefreshToken
	for round := range 5 {
		var wg sync.WaitGroup
		start := make(chan struct{})
		var mu sync.Mutex
		succ := map[string]int{}
		var unavailable atomic.Int32
		for i := range 40 {
			svc := p.a
			if i%2 == 1 {
				svc = p.b
			}
			wg.Go(func() {
				<-start
				r, err := svc.Refresh(context.Background(), rt, core.ClientInfo{})
				switch {
				case err == nil:
					mu.Lock()
					succ[r.RefreshToken]++
					mu.Unlock()
				case errors.Is(err, core.ErrInvalidGrant) && core.ReasonOf(err) == "grace_replays_exhausted":
				case errors.Is(err, core.ErrUnavailable):
					unavailable.Add(1)
				default:
					t.Errorf("round %d: %v", round, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if n := unavailable.Load(); n > 0 {
			t.Fatalf("round %d: %d answers of 503 to a burst of 40 presentations", round, n)
		}
		if len(succ) != 1 {
			t.Fatalf("round %d: %d successor lineages, want 1", round, len(succ))
		}
		for s, n := range succ {
			if n > 1+p.f.Service.Config().RefreshGraceReplays {
				t.Fatalf("round %d: %d successes", round, n)
			}
			rt = s
		}
		p.f.Clock.Advance(time.Minute)
	}
	s, err := p.stB.Session(context.Background(), tr.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	if s.Generation != 5 || !s.RevokedAt.IsZero() {
		t.Fatalf("generation %d revoked %v after 5 rounds", s.Generation, s.RevokedAt)
	}
}

// Instance B refreshes every session of a user in loops while instance A
// revokes the subject. A's revocation is never overwritten by B's rotations:
// afterwards every session is revoked, B refuses every token it handed out,
// and once B has read the feed it refuses their access tokens.
func TestAttackTwoHandlesRevokeSubjectVsRefresh(t *testing.T) {
	p := newAtkPair(t)
	const sessions = 6
	latest := map[string]*core.TokenResponse{}
	var mu sync.Mutex
	for range sessions {
		tr := p.login(t)
		latest[tr.SessionID] = tr
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	ids := make([]string, 0, sessions)
	for sid := range latest {
		ids = append(ids, sid)
	}
	// One client per session: a client holds one chain of tokens.
	for _, sid := range ids {
		for range 1 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					mu.Lock()
					rt := latest[sid].RefreshToken
					mu.Unlock()
					r, err := p.b.Refresh(context.Background(), rt, core.ClientInfo{})
					if errors.Is(err, core.ErrInvalidGrant) {
						if core.ReasonOf(err) != "grace_replays_exhausted" {
							return
						}
						continue
					}
					if err != nil {
						continue
					}
					mu.Lock()
					if r.RefreshToken != rt {
						latest[sid] = r
					}
					mu.Unlock()
				}
			})
		}
	}
	time.Sleep(50 * time.Millisecond)
	n, err := p.a.RevokeSubject(context.Background(), p.f.UserID)
	close(stop)
	wg.Wait()
	if err != nil || n != sessions {
		t.Fatalf("RevokeSubject under load from another instance: %d, %v", n, err)
	}
	if err := p.b.SyncRevocations(context.Background()); err != nil {
		t.Fatal(err)
	}
	for sid, tr := range latest {
		s, err := p.stB.Session(context.Background(), sid)
		if err != nil {
			t.Fatal(err)
		}
		if s.RevokedAt.IsZero() || s.RevokeReason != "subject" {
			t.Fatalf("session %s: revoked %v reason %q", sid, s.RevokedAt, s.RevokeReason)
		}
		if _, err := p.b.Refresh(context.Background(), tr.RefreshToken, core.ClientInfo{}); err == nil {
			t.Fatalf("session %s refreshed on B after the subject was revoked on A", sid)
		}
		if _, err := p.b.Authenticate(context.Background(), tr.AccessToken); err == nil {
			t.Fatalf("session %s: B accepts an access token after reading the feed", sid)
		}
	}
}

// Instance B's handle is closed between its read and its write (the
// process's database goes away mid-request): 503, nothing written, and the
// client's retry on A, after the grace window, continues the lineage.
func TestAttackHandleClosedBetweenReadAndWrite(t *testing.T) {
	p := newAtkPair(t)
	tr := p.login(t)
	cs := &closingStore{Store: p.stB}
	cfg := p.b.Config()
	cfg.Store, cfg.Throttle = cs, cs
	b, err := core.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, err = b.Refresh(context.Background(), tr.RefreshToken, core.ClientInfo{})
	if !errors.Is(err, core.ErrUnavailable) {
		t.Fatalf("refresh over a handle closed before its write: %v, want 503", err)
	}
	p.f.Clock.Advance(time.Hour)
	next, err := p.a.Refresh(context.Background(), tr.RefreshToken, core.ClientInfo{})
	if err != nil {
		t.Fatalf("retry on the other instance: %v", err)
	}
	if _, err := p.a.Refresh(context.Background(), next.RefreshToken, core.ClientInfo{}); err != nil {
		t.Fatal(err)
	}
}

type closingStore struct{ *Store }

func (c *closingStore) UpdateSession(ctx context.Context, u store.Update) error {
	c.Store.Close()
	return c.Store.UpdateSession(ctx, u)
}

// Refreshes whose contexts expire at random moments (before the read,
// between read and write, inside the commit). The client keeps the token it
// has until it gets an answer, and retries only after the grace window. It
// must never be refused: every cancellation either wrote nothing or is
// remembered as a possibly lost rotation.
func TestAttackRandomCancellation(t *testing.T) {
	st, _ := openTemp(t)
	f := authtest.New(t, authtest.Options{Store: st, Config: func(c *core.Config) {
		c.RevocationPollInterval = time.Hour
		c.RevocationMaxStaleness = 2 * time.Hour
	}})
	tr, err := f.Service.Login(context.Background(), core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	rt := tr.RefreshToken
	ok, failed := 0, 0
	for i := range 300 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rand.IntN(3000))*time.Microsecond)
		r, err := f.Service.Refresh(ctx, rt, core.ClientInfo{})
		cancel()
		switch {
		case err == nil:
			ok++
			rt = r.RefreshToken
		case errors.Is(err, core.ErrInvalidGrant):
			t.Fatalf("attempt %d (%d ok, %d failed before): %v (reason %q): a client that only retried was refused", i, ok, failed, err, core.ReasonOf(err))
		default:
			failed++
		}
		f.Clock.Advance(f.Service.Config().RefreshGrace + time.Second)
	}
	t.Logf("%d refreshes succeeded, %d cancelled", ok, failed)
	if ok == 0 {
		t.Fatal("no refresh got through: the test exercised nothing")
	}
}
