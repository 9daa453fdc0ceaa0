package goclient

import (
	"context"
	"errors"
	"time"
)

// margin is how long before the access token of t expires it is refreshed:
// the WithRefreshSkew value when one was given, else the smaller of
// DefaultRefreshSkew and a tenth of the token's lifetime.
func (c *Client) margin(t Tokens) time.Duration {
	if c.skewSet {
		return c.skew
	}
	m := DefaultRefreshSkew
	if !t.AccessIssuedAt.IsZero() && !t.AccessExpiresAt.IsZero() {
		if tenth := t.AccessExpiresAt.Sub(t.AccessIssuedAt) / 10; tenth < m {
			m = max(tenth, 0)
		}
	}
	return m
}

// refreshAt is when the access token of t is due for a refresh; the zero
// time when its expiry is unknown.
func (c *Client) refreshAt(t Tokens) time.Time {
	if t.AccessExpiresAt.IsZero() {
		return time.Time{}
	}
	return t.AccessExpiresAt.Add(-c.margin(t))
}

// bumpLocked records that cur changed and wakes KeepFresh. c.mu is held.
func (c *Client) bumpLocked() {
	c.gen++
	close(c.changed)
	c.changed = make(chan struct{})
}

// KeepFresh refreshes the access token in the background, shortly before it
// expires (the refresh margin, see WithRefreshSkew), until ctx ends or the
// session is over, so requests never wait for a refresh and an idle program
// keeps its session alive. Run it in its own goroutine:
//
//	go func() {
//		if err := c.KeepFresh(ctx); errors.Is(err, goclient.ErrLoggedOut) {
//			// show the login screen
//		}
//	}()
//
// Its refreshes are the client's single flight: a refresh that Do starts on
// a 401 at the same moment is the same request. A failed refresh that does
// not end the session (a network error, a timeout, a 5xx, a 429, a store
// error) keeps the tokens and is retried after a wait that doubles from 1s up
// to 1m, or after the server's Retry-After when that is longer. A login,
// logout or refresh by another caller reschedules it.
//
// KeepFresh returns ErrLoggedOut when there is no session or the server ended
// it (the tokens are cleared), ctx.Err() when ctx ends, and the error of the
// TokenStore when it cannot load the tokens. A token response without
// expiresIn gives it no time to aim at: it then waits for the next change.
func (c *Client) KeepFresh(ctx context.Context) error {
	var wait time.Duration // after a failure: the wait before the next try
	for {
		c.mu.Lock()
		if err := c.loadLocked(ctx); err != nil {
			c.mu.Unlock()
			return err
		}
		t, gen, changed := c.cur, c.gen, c.changed
		c.mu.Unlock()
		if t.AccessToken == "" && t.RefreshToken == "" {
			return ErrLoggedOut
		}
		due := c.refreshAt(t)
		if t.AccessToken == "" {
			due = c.now() // a refresh token only: get an access token now
		}
		var timer <-chan time.Time
		switch {
		case wait > 0:
			timer = time.After(wait)
		case !due.IsZero():
			timer = time.After(due.Sub(c.now()))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
			wait = 0
			continue
		case <-timer:
		}
		if c.now().Before(due) {
			// Not due (the retry wait of a failed save ended, or the
			// wall clock went back): aim at the due time again.
			wait = 0
			continue
		}
		_, _, err := c.refresh(ctx, gen)
		switch {
		case err == nil:
			wait = 0
		case errors.Is(err, ErrLoggedOut):
			return err
		case ctx.Err() != nil:
			return ctx.Err()
		default:
			wait = min(max(2*wait, retryMin), retryMax)
			if te := (*TemporaryError)(nil); errors.As(err, &te) && te.RetryAfter > wait {
				wait = te.RetryAfter
			}
		}
	}
}
