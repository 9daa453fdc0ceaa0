package core

import (
	"context"
	"net/netip"
	"time"
)

// The login throttle: fixed-window failure counters per address, per client
// IP and (optionally) overall, kept in the Throttle store. An attempt is
// checked and counted before the password is, so a burst of parallel guesses
// cannot get more checks than the limit.

// checkThrottle refuses with ErrTooManyRequests while any of keys (account,
// then IP, then the global key when a global limit is set) is at its limit.
func (s *Service) checkThrottle(ctx context.Context, now time.Time, keys ...string) error {
	if s.cfg.LoginThrottle.DisabledUnsafe {
		return nil
	}
	w := s.cfg.LoginThrottle.Window
	limits := s.throttleLimits()
	if limits[2] > 0 {
		keys = append(keys, globalThrottleKey)
	}
	for i, k := range keys {
		n, start, err := s.throttle.Peek(ctx, k, now, w)
		if err != nil {
			return newError(ErrUnavailable, "throttle_store", err)
		}
		if n >= limits[i] {
			return &Error{Kind: ErrTooManyRequests, Reason: throttleReasons[i], RetryAfter: start.Add(w).Sub(now)}
		}
	}
	return nil
}

// ipThrottleKey is the client's throttle identity: an IPv4 address as it is,
// an IPv6 address masked to prefix bits (a /64 is one client, however many
// addresses it rotates through), anything unparsable as given.
func ipThrottleKey(ip string, prefix int) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if !a.Is6() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(prefix)
	if err != nil {
		return a.String()
	}
	return p.String()
}

// globalThrottleKey counts failed logins across all accounts and addresses.
const globalThrottleKey = "global:"

func (s *Service) throttleLimits() [3]int {
	t := s.cfg.LoginThrottle
	return [3]int{t.AccountLimit, t.IPLimit, t.GlobalLimit}
}

// hitThrottle counts one credential check against each key (account, then
// IP) before the check runs, so a burst of parallel guesses cannot all pass
// checkThrottle before any is counted, and refuses the attempt when a burst
// pushed a count past its limit. It returns the IP window's start, for
// Forgive after a success.
func (s *Service) hitThrottle(ctx context.Context, now time.Time, keys ...string) (time.Time, error) {
	var last time.Time
	if s.cfg.LoginThrottle.DisabledUnsafe {
		return last, nil
	}
	limits := s.throttleLimits()
	w := s.cfg.LoginThrottle.Window
	for i, k := range keys {
		n, start, err := s.throttle.Hit(ctx, k, now, w)
		if err != nil {
			return last, newError(ErrUnavailable, "throttle_store", err)
		}
		if n > limits[i] {
			return last, &Error{Kind: ErrTooManyRequests, Reason: throttleReasons[i] + "_burst", RetryAfter: start.Add(w).Sub(now)}
		}
		last = start
	}
	return last, nil
}

var throttleReasons = [...]string{"account_limit", "ip_limit", "global_limit"}
