package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/store"
)

// NotifyPair is two values of one store type over one backend (one key
// prefix, one schema), as two instances of an application hold them.
type NotifyPair struct {
	A, B store.Store
	// CutB drops B's notification connection from the server's side (as a
	// restart or a network fault would); B must reconnect by itself.
	CutB func(t *testing.T)
}

// notifyBound is how soon a revocation on one instance must be refused on
// every other.
const notifyBound = time.Second

// RunNotify checks a store.Notifier over two instances sharing a backend,
// built by newPair (which registers their cleanup with t): Watch wakes on a revocation and returns when its context
// ends; every kind of revocation on instance A (logout, revoke one, revoke
// the others, revoke a subject, reuse detection) is refused by instance B's
// guard within a second although B polls the feed only every 30 seconds;
// and after B's notification connection is cut, a revocation made while it
// reconnects is still refused within the second (B catches up from the
// feed). Stores that are not notifiers do not run it.
func RunNotify(t *testing.T, newPair func(t *testing.T) NotifyPair) {
	t.Helper()
	t.Run("watch_wakes_and_stops", func(t *testing.T) { testWatch(t, newPair(t)) })
	t.Run("every_revocation_reaches_other_instance", func(t *testing.T) { testNotifyKinds(t, newPair(t)) })
	t.Run("reconnect_catches_up_from_feed", func(t *testing.T) { testNotifyReconnect(t, newPair(t)) })
}

func notifier(t *testing.T, st store.Store) store.Notifier {
	t.Helper()
	n, ok := st.(store.Notifier)
	if !ok {
		t.Fatalf("%T is not a store.Notifier", st)
	}
	return n
}

// testWatch: Watch wakes once connected and after a revocation written
// through another store value, not before the entry can be read, and
// returns with the context's error soon after it is cancelled.
func testWatch(t *testing.T, p NotifyPair) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wakes := make(chan struct{}, 100)
	done := make(chan error, 1)
	go func() {
		done <- notifier(t, p.B).Watch(ctx, func() {
			select {
			case wakes <- struct{}{}:
			default:
			}
		})
	}()
	waitWake := func(what string) {
		t.Helper()
		select {
		case <-wakes:
		case err := <-done:
			t.Fatalf("Watch returned before its context ended: %v", err)
		case <-time.After(5 * time.Second):
			t.Fatalf("no wake %s within 5s", what)
		}
	}
	waitWake("after connecting")
	for len(wakes) > 0 {
		<-wakes
	}
	s := newSession("w1", "alice", at(0))
	mustCreate(t, p.A, s)
	mustUpdate(t, p.A, revoked(s, at(time.Minute), "logout"), true)
	waitWake("after a revocation")
	revs, err := p.B.Revocations(ctx, 0, 0)
	if err != nil || len(revs) != 1 || revs[0].SessionID != "w1" {
		t.Fatalf("feed after the wake: %v, %v; want the revocation of w1", revs, err)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Watch returned %v after cancel, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Watch still running 5s after its context was cancelled")
	}
}

// pair is two services over a NotifyPair, sharing keys and clock. They read
// the feed every 30s only, so what reaches B within a second came by
// notification.
type pair struct {
	a *fixture
	b *core.Service
	t *testing.T
}

func newServicePair(t *testing.T, p NotifyPair) *pair {
	t.Helper()
	slow := func(c *core.Config) {
		c.RevocationPollInterval = 30 * time.Second
		c.RevocationMaxStaleness = time.Minute
		c.RefreshGrace = -1 // every replay of a rotated token is reuse
	}
	a := &fixture{Fixture: authtest.New(t, authtest.Options{Store: p.A, Config: slow}), t: t}
	b, err := core.New(withSharedKeys(a.Fixture, p.B))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return &pair{a: a, b: b, t: t}
}

// seenByB logs in on A and has B's guard accept the access token (its first
// sight there).
func (p *pair) seenByB() *core.TokenResponse {
	p.t.Helper()
	tr := p.a.login()
	if _, err := p.b.Authenticate(context.Background(), tr.AccessToken); err != nil {
		p.t.Fatalf("instance B refused a live token: %v", err)
	}
	return tr
}

// principal is A's view of the caller behind tr.
func (p *pair) principal(tr *core.TokenResponse) *core.Principal {
	p.t.Helper()
	pr, err := p.a.Service.Authenticate(context.Background(), tr.AccessToken)
	if err != nil {
		p.t.Fatal(err)
	}
	return pr
}

// refusedWithin runs revoke on A and measures until B's guard refuses every
// token of gone (and still accepts every token of kept); it fails beyond
// the bound and returns the latency.
func (p *pair) refusedWithin(what string, revoke func() error, gone, kept []*core.TokenResponse) time.Duration {
	p.t.Helper()
	ctx := context.Background()
	start := time.Now()
	if err := revoke(); err != nil {
		p.t.Fatalf("%s on A: %v", what, err)
	}
	for {
		refused := 0
		for _, tr := range gone {
			_, err := p.b.Authenticate(ctx, tr.AccessToken)
			switch {
			case core.ReasonOf(err) == "session_revoked":
				refused++
			case err != nil:
				p.t.Fatalf("%s: B answered %v, want acceptance until the revocation, then session_revoked", what, err)
			}
		}
		elapsed := time.Since(start)
		if refused == len(gone) {
			for _, tr := range kept {
				if _, err := p.b.Authenticate(ctx, tr.AccessToken); err != nil {
					p.t.Fatalf("%s: B refused a session that was not revoked: %v", what, err)
				}
			}
			p.t.Logf("%s on A refused by B after %v", what, elapsed)
			return elapsed
		}
		if elapsed > notifyBound {
			p.t.Fatalf("%s on A: B still accepts the revoked session after %v (bound %v)", what, elapsed, notifyBound)
		}
		time.Sleep(time.Millisecond)
	}
}

func testNotifyKinds(t *testing.T, np NotifyPair) {
	p := newServicePair(t, np)
	ctx := context.Background()
	client := core.ClientInfo{IP: "192.0.2.7"}

	tr := p.seenByB()
	p.refusedWithin("logout", func() error {
		return p.a.Service.Logout(ctx, core.LogoutInput{RefreshToken: tr.RefreshToken})
	}, []*core.TokenResponse{tr}, nil)

	one, other := p.seenByB(), p.seenByB()
	p.refusedWithin("revoke one", func() error {
		return p.a.Service.RevokeSession(ctx, p.principal(other), one.SessionID, client)
	}, []*core.TokenResponse{one}, []*core.TokenResponse{other})

	x, y := p.seenByB(), p.seenByB()
	p.refusedWithin("revoke others", func() error {
		_, err := p.a.Service.RevokeOtherSessions(ctx, p.principal(other), client)
		return err
	}, []*core.TokenResponse{x, y}, []*core.TokenResponse{other})

	z := p.seenByB()
	p.refusedWithin("revoke subject", func() error {
		_, err := p.a.Service.RevokeSubject(ctx, p.a.UserID)
		return err
	}, []*core.TokenResponse{other, z}, nil)

	first := p.a.login()
	rotated := p.a.mustRefresh(p.a.mustRefresh(first.RefreshToken).RefreshToken)
	if _, err := p.b.Authenticate(ctx, rotated.AccessToken); err != nil {
		t.Fatalf("instance B refused a live token: %v", err)
	}
	p.refusedWithin("reuse detection", func() error {
		_, err := p.a.refresh(first.RefreshToken)
		if !errors.Is(err, core.ErrInvalidGrant) {
			return fmt.Errorf("replaying a token two rotations old: %v, want invalid_grant (reuse)", err)
		}
		return nil
	}, []*core.TokenResponse{rotated}, nil)
}

// testNotifyReconnect cuts B's notification connection and revokes at once,
// while B reconnects: B must catch up from the feed when it is back. A
// second revocation then shows the new connection carries notifications.
func testNotifyReconnect(t *testing.T, np NotifyPair) {
	p := newServicePair(t, np)
	ctx := context.Background()
	warm := p.seenByB()
	p.refusedWithin("logout before the cut", func() error {
		return p.a.Service.Logout(ctx, core.LogoutInput{RefreshToken: warm.RefreshToken})
	}, []*core.TokenResponse{warm}, nil)

	tr, kept := p.seenByB(), p.seenByB()
	p.refusedWithin("logout while B reconnects", func() error {
		np.CutB(t)
		return p.a.Service.Logout(ctx, core.LogoutInput{RefreshToken: tr.RefreshToken})
	}, []*core.TokenResponse{tr}, []*core.TokenResponse{kept})

	p.refusedWithin("logout after B reconnected", func() error {
		return p.a.Service.Logout(ctx, core.LogoutInput{RefreshToken: kept.RefreshToken})
	}, []*core.TokenResponse{kept}, nil)
}
