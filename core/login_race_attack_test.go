package core_test

import (
	"context"
	"sync"
	"testing"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/memstore"
)

// gatedAuth holds one successful Authenticate after the password was
// checked and before it returns (a slow instance, a GC pause, a slow network
// to the store: the login has not created its session yet).
type gatedAuth struct {
	core.Authenticator
	once    sync.Once
	checked chan struct{} // closed once the held login's password passed
	release chan struct{} // closed by the test to let it go on
}

func (a *gatedAuth) Authenticate(ctx context.Context, email, password string) (core.Identity, error) {
	id, err := a.Authenticator.Authenticate(ctx, email, password)
	if err == nil {
		a.once.Do(func() {
			close(a.checked)
			<-a.release
		})
	}
	return id, err
}

// A login whose password check passed just before ChangePassword, on
// another instance, and whose session is created just after ChangePassword
// listed the subject's sessions, keeps its session: it was not there to be
// revoked, and nothing afterwards compares it with the password change.
// Whoever stole the old password and keeps logging in can stay in through a
// password change. This test pins that known gap (closing it needs the
// store to remember a subject's revocation time, or the Authenticator to
// expose a credential version the login checks again after creating the
// session): when the gap is closed, the session below must be refused and
// the assertions flipped.
func TestAttackLoginRacesPasswordChange(t *testing.T) {
	st := memstore.New()
	a := authtest.New(t, authtest.Options{Store: st})
	gate := &gatedAuth{Authenticator: a.Auth, checked: make(chan struct{}), release: make(chan struct{})}
	cfg := a.Service.Config()
	cfg.Authenticator, cfg.Throttle = gate, nil
	b, err := core.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })

	type result struct {
		tr  *core.TokenResponse
		err error
	}
	login := make(chan result, 1)
	go func() {
		tr, err := b.Login(context.Background(), core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
		login <- result{tr, err}
	}()
	<-gate.checked // the old password passed on B
	if _, err := a.Service.ChangePassword(context.Background(), a.UserID, "a brand new passphrase", ""); err != nil {
		t.Fatal(err)
	}
	close(gate.release)
	r := <-login
	if r.err != nil {
		t.Fatalf("the held login: %v", r.err)
	}
	// The gap: the session logged in with the old password is live on
	// both instances after the password change returned.
	if err := a.Service.SyncRevocations(context.Background()); err != nil {
		t.Fatal(err)
	}
	for name, svc := range map[string]*core.Service{"A": a.Service, "B": b} {
		if _, err := svc.Authenticate(context.Background(), r.tr.AccessToken); err != nil {
			t.Errorf("instance %s: %v; the known gap is closed: flip this test", name, err)
		}
	}
	if _, err := a.Service.Refresh(context.Background(), r.tr.RefreshToken, core.ClientInfo{}); err != nil {
		t.Errorf("refresh after the password change: %v; the known gap is closed: flip this test", err)
	}
}
