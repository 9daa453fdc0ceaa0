package core_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/token"
)

// tenants names the tenant of each account, as an app's own data would.
type tenants struct {
	mu sync.Mutex
	m  map[string]string
}

func (u *tenants) of(subject string) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.m[subject]
}

func (u *tenants) set(subject, tenant string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.m[subject] = tenant
}

// newTenantFixture is the standard fixture whose authenticator names the
// tenant of each account from the returned tenants.
func newTenantFixture(t *testing.T) (*authtest.Fixture, *tenants) {
	t.Helper()
	users := &tenants{m: map[string]string{}}
	return authtest.New(t, authtest.Options{Tenant: users.of}), users
}

// claimsOf decodes the claim set of an access token (already verified by
// the caller) into a map.
func claimsOf(t *testing.T, accessToken string) map[string]any {
	t.Helper()
	p, err := base64.RawURLEncoding.Strict().DecodeString(strings.Split(accessToken, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(p, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// The tenant an authenticator names goes into the access token at login
// and at every refresh (from Lookup, so a move to another tenant shows at
// the next refresh), and comes back as Principal.Tenant, also from the
// token cache.
func TestTenantClaim(t *testing.T) {
	f, users := newTenantFixture(t)
	users.set(f.UserID, "acme")
	ctx := context.Background()
	tr := login(t, f)
	if got := claimsOf(t, tr.AccessToken)["tenant"]; got != "acme" {
		t.Fatalf("tenant claim = %v, want acme", got)
	}
	p := mustAuthenticate(t, f.Service, tr.AccessToken)
	if p.Tenant != "acme" || p.Subject != f.UserID {
		t.Fatalf("principal %+v, want tenant acme", p)
	}
	if hit := mustAuthenticate(t, f.Service, tr.AccessToken); hit != p || hit.Tenant != "acme" {
		t.Fatalf("cached principal %+v, want the same one with tenant acme", hit)
	}

	users.set(f.UserID, "globex")
	f.Clock.Advance(time.Minute)
	next, err := f.Service.Refresh(ctx, tr.RefreshToken, core.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustAuthenticate(t, f.Service, next.AccessToken).Tenant; got != "globex" {
		t.Fatalf("tenant after refresh = %q, want globex (from Lookup)", got)
	}
	if p.Tenant != "acme" {
		t.Fatalf("the earlier principal changed: %+v", p)
	}
}

// An account without a tenant gets a token without the claim, byte for byte
// the token of a single-tenant app.
func TestNoTenantNoClaim(t *testing.T) {
	f, _ := newTenantFixture(t)
	tr := login(t, f)
	m := claimsOf(t, tr.AccessToken)
	if _, ok := m["tenant"]; ok {
		t.Fatalf("a tenant-less token has a tenant claim: %v", m)
	}
	if len(m) != 9 {
		t.Fatalf("claims %v, want the 9 of a single-tenant token", m)
	}
	if p := mustAuthenticate(t, f.Service, tr.AccessToken); p.Tenant != "" {
		t.Fatalf("principal tenant %q, want empty", p.Tenant)
	}
}

// A tenant the token cannot carry fails the login as a server error before
// any session is stored, and the refresh before the session moves on.
func TestTenantTooLong(t *testing.T) {
	f, users := newTenantFixture(t)
	ctx := context.Background()
	tr := login(t, f)
	users.set(f.UserID, strings.Repeat("t", token.MaxTenantLength+1))
	if _, err := f.Service.Login(ctx, core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password}); !errors.Is(err, core.ErrInternal) {
		t.Fatalf("login with an oversized tenant: %v, want ErrInternal", err)
	}
	if _, err := f.Service.Refresh(ctx, tr.RefreshToken, core.ClientInfo{}); !errors.Is(err, core.ErrInternal) {
		t.Fatalf("refresh with an oversized tenant: %v, want ErrInternal", err)
	}
	list, err := f.Service.Sessions(ctx, mustAuthenticate(t, f.Service, tr.AccessToken))
	if err != nil || len(list) != 1 {
		t.Fatalf("sessions after the refused login = %d, %v; want only the first", len(list), err)
	}
	users.set(f.UserID, strings.Repeat("t", token.MaxTenantLength))
	next, err := f.Service.Refresh(ctx, tr.RefreshToken, core.ClientInfo{})
	if err != nil {
		t.Fatalf("the refresh token did not survive the refused refresh: %v", err)
	}
	if got := mustAuthenticate(t, f.Service, next.AccessToken).Tenant; len(got) != token.MaxTenantLength {
		t.Fatalf("tenant of %d bytes, want %d", len(got), token.MaxTenantLength)
	}
}
