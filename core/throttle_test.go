package core_test

import (
	"context"
	"errors"
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
