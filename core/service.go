package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/core/token"
)

// Service is the transport-neutral authentication engine: login, access
// tokens, refresh-token rotation with reuse detection, logout, sessions and
// guards. It is safe for concurrent use. Create it with New and stop its
// background revocation poller with Close.
type Service struct {
	cfg      Config
	keys     *token.KeySet
	sessions store.Sessions
	throttle store.Throttle
	auth     Authenticator
	authz    Authorizer
	log      *slog.Logger
	now      func() time.Time
	live     *liveness
	repairs  repairs

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

// New validates cfg, applies defaults, reads the revocation feed once (an
// unreachable store is an error: the service must not start blind) and starts
// the background poller.
func New(cfg Config) (*Service, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Service{
		cfg:      c,
		keys:     c.Keys,
		sessions: boundedSessions{c.Store, c.StoreTimeout},
		auth:     boundedAuth{c.Authenticator, c.StoreTimeout},
		authz:    c.Authorizer,
		log:      c.Logger,
		now:      c.Now,
		live:     newLiveness(c.RevocationMaxStaleness, c.AccessTTL+c.Leeway+time.Minute, c.MaxLiveSessions),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if s.authz == nil {
		s.authz = StaticAuthorizer(nil)
	}
	if c.Throttle != nil {
		s.throttle = boundedThrottle{c.Throttle, c.StoreTimeout}
	}
	if sp, ok := c.Store.(interface{ SingleProcessOnly() bool }); ok && sp.SingleProcessOnly() {
		s.log.Warn("authguard: the session store is single-process only: run exactly one instance, and expect every user to log in again after a restart")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.live.sync(ctx, s.sessions, s.now()); err != nil {
		return nil, fmt.Errorf("%w: reading the revocation feed: %w", ErrUnavailable, err)
	}
	go s.poll()
	return s, nil
}

// Close stops the background poller. It does not close the store.
func (s *Service) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.done
	return nil
}

// Config returns the effective configuration (defaults applied).
func (s *Service) Config() Config { return s.cfg }

// Keys returns the key set the service signs with.
func (s *Service) Keys() *token.KeySet { return s.keys }

func (s *Service) poll() {
	defer close(s.done)
	t := time.NewTicker(s.cfg.RevocationPollInterval)
	defer t.Stop()
	const pruneEvery = time.Hour
	lastPrune := time.Now()
	failing := false
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RevocationMaxStaleness)
		err := s.live.sync(ctx, s.sessions, s.now())
		if err != nil && !failing {
			s.log.Error("authguard: revocation feed unreachable; guards fail closed until it recovers", slog.String("error", err.Error()))
		} else if err == nil && failing {
			s.log.Info("authguard: revocation feed reachable again")
		}
		failing = err != nil
		if err == nil {
			s.repair(ctx)
		}
		if err == nil && time.Since(lastPrune) >= pruneEvery {
			lastPrune = time.Now()
			retain := max(24*time.Hour, s.cfg.AccessTTL+s.cfg.Leeway+time.Hour)
			if n, err := s.sessions.Prune(ctx, s.now().Add(-retain)); err != nil {
				s.log.Warn("authguard: pruning sessions failed", slog.String("error", err.Error()))
			} else if n > 0 {
				s.log.Debug("authguard: pruned sessions", slog.Int("count", n))
			}
		}
		cancel()
	}
}

// SyncRevocations reads the revocation feed now (the poller does this every
// RevocationPollInterval). Useful in tests and after a known outage.
func (s *Service) SyncRevocations(ctx context.Context) error {
	if err := s.live.sync(ctx, s.sessions, s.now()); err != nil {
		return newError(ErrUnavailable, "revocation_feed", err)
	}
	return nil
}

// minTime returns the earlier of a and b.
func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// truncate cuts s to at most n bytes.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// asUnavailable keeps an error that already carries a kind, and otherwise
// wraps it as ErrUnavailable.
func asUnavailable(err error, reason string) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return newError(ErrUnavailable, reason, err)
}

// errText is err's text for the log, "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
