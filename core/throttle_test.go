package core_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
)

// R55 and R57: a burst of parallel guesses for one account cannot get more
// credential checks than the limit, however many pass the first look.
func TestThrottleHoldsUnderParallelBurst(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	const n = 40
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			_, errs[i] = f.Service.Login(context.Background(), core.LoginInput{
				Email: authtest.UserEmail, Password: "not the password", Client: core.ClientInfo{IP: "192.0.2.1"}})
		}(i)
	}
	close(start)
	wg.Wait()
	checked, throttled := 0, 0
	for _, err := range errs {
		switch {
		case errors.Is(err, core.ErrInvalidGrant):
			checked++
		case errors.Is(err, core.ErrTooManyRequests):
			throttled++
		default:
			t.Fatalf("unexpected %v", err)
		}
	}
	if checked > 10 || checked+throttled != n {
		t.Fatalf("%d credential checks, %d throttled; want at most 10 checks", checked, throttled)
	}
	// The right password is refused too while the account is throttled.
	_, err := f.Service.Login(context.Background(), core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
	if !errors.Is(err, core.ErrTooManyRequests) {
		t.Fatalf("correct password during throttling: %v, want 429", err)
	}
}

// R55: an optional global limit brakes a distributed attack that stays under
// every per-account and per-IP limit.
func TestGlobalLoginLimit(t *testing.T) {
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.LoginThrottle.GlobalLimit = 3 }})
	ctx := context.Background()
	for i, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		_, err := f.Service.Login(ctx, core.LoginInput{Email: email, Password: "guess",
			Client: core.ClientInfo{IP: "198.51.100." + string(rune('1'+i))}})
		if !errors.Is(err, core.ErrInvalidGrant) {
			t.Fatalf("attempt %d: %v, want invalid_grant", i, err)
		}
	}
	_, err := f.Service.Login(ctx, core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password,
		Client: core.ClientInfo{IP: "203.0.113.9"}})
	if !errors.Is(err, core.ErrTooManyRequests) || core.ReasonOf(err) != "global_limit" {
		t.Fatalf("after the global limit: %v, want 429 global_limit", err)
	}
	var e *core.Error
	if !errors.As(err, &e) || e.RetryAfter <= 0 {
		t.Fatalf("no Retry-After: %v", err)
	}
}

// R63: a failed login of a known account names its subject in the audit log.
func TestFailedLoginLogsKnownSubject(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	_, err := f.Service.Login(context.Background(), core.LoginInput{Email: authtest.AdminEmail, Password: "guess"})
	if !errors.Is(err, core.ErrInvalidGrant) {
		t.Fatal(err)
	}
	if !strings.Contains(f.Logs.String(), `"subject":"`+f.AdminID+`"`) {
		t.Fatalf("failed login of a known account without its subject: %s", f.Logs.String())
	}
}

// R42: a password change ends every other session at once and keeps the one
// that made it; the old password stops working.
func TestChangePasswordRevokesOtherSessions(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	ctx := context.Background()
	login := func(pw string) (*core.TokenResponse, error) {
		return f.Service.Login(ctx, core.LoginInput{Email: authtest.UserEmail, Password: pw})
	}
	keep, err := login(authtest.Password)
	if err != nil {
		t.Fatal(err)
	}
	other, err := login(authtest.Password)
	if err != nil {
		t.Fatal(err)
	}
	n, err := f.Service.ChangePassword(ctx, f.UserID, "a brand new passphrase", keep.SessionID)
	if err != nil || n != 1 {
		t.Fatalf("ChangePassword = %d, %v; want 1 revoked", n, err)
	}
	if _, err := f.Service.Authenticate(ctx, other.AccessToken); !errors.Is(err, core.ErrInvalidToken) {
		t.Fatalf("the other session survived: %v", err)
	}
	if _, err := f.Service.Authenticate(ctx, keep.AccessToken); err != nil {
		t.Fatalf("the session making the change was revoked: %v", err)
	}
	if _, err := login(authtest.Password); !errors.Is(err, core.ErrInvalidGrant) {
		t.Fatalf("old password: %v, want invalid_grant", err)
	}
	if _, err := login("a brand new passphrase"); err != nil {
		t.Fatalf("new password: %v", err)
	}
}

// IPv6 clients cannot escape the per-IP limit by rotating addresses within
// their /64: the addresses of one /64 are counted together, those of
// another /64 apart, and IPv4 addresses one by one.
func TestThrottleCountsIPv6PerPrefix(t *testing.T) {
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) {
		c.LoginThrottle.IPLimit = 3
		c.LoginThrottle.AccountLimit = 1000
	}})
	login := func(email, ip string) error {
		_, err := f.Service.Login(context.Background(), core.LoginInput{Email: email, Password: "wrong password", Client: core.ClientInfo{IP: ip}})
		return err
	}
	for i := range 3 {
		if err := login(fmt.Sprintf("u%d@example.com", i), fmt.Sprintf("2001:db8:1:2::%x", i+1)); !errors.Is(err, core.ErrInvalidGrant) {
			t.Fatalf("attempt %d: %v, want invalid_grant", i, err)
		}
	}
	if err := login("u9@example.com", "2001:db8:1:2:ffff:1:2:3"); !errors.Is(err, core.ErrTooManyRequests) {
		t.Fatalf("a fourth address of the same /64: %v, want too_many_requests", err)
	}
	if err := login("u9@example.com", "2001:db8:1:3::1"); !errors.Is(err, core.ErrInvalidGrant) {
		t.Fatalf("another /64: %v, want invalid_grant", err)
	}
	for i := range 3 {
		if err := login("v@example.com", fmt.Sprintf("192.0.2.%d", i+1)); !errors.Is(err, core.ErrInvalidGrant) {
			t.Fatalf("IPv4 address %d: %v, want invalid_grant (counted per address)", i, err)
		}
	}
}
