package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/authguard/authguard/core/internal/telemetry"
	"github.com/authguard/authguard/core/internal/tokencache"
	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/core/token"
)

// Service is the transport-neutral authentication engine: login, access
// tokens, refresh-token rotation with reuse detection, logout, sessions and
// guards. It is safe for concurrent use. Create it with New and stop its
// background revocation poller (and watcher, see store.Notifier) with Close.
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
	tokens   *tokencache.Cache[verifiedToken] // nil when turned off
	tel      *telemetry.T                     // nil without providers
	repairs  repairs

	stopOnce sync.Once
	stop     chan struct{}
	wake     chan struct{} // one slot: wakes arriving during a sync coalesce
	bg       sync.WaitGroup
}

// New validates cfg, applies defaults, reads the revocation feed once (an
// unreachable store is an error: the service must not start blind) and starts
// the background poller, and the watcher when the store is a store.Notifier.
func New(cfg Config) (*Service, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	tel, err := telemetry.New(c.MeterProvider, c.TracerProvider, c.TokenCacheMaxEntries >= 0)
	if err != nil {
		return nil, newError(ErrConfig, "telemetry", err)
	}
	s := &Service{
		cfg:      c,
		keys:     c.Keys,
		sessions: boundedSessions{c.Store, c.StoreTimeout, tel},
		auth:     boundedAuth{c.Authenticator, c.StoreTimeout, tel},
		authz:    c.Authorizer,
		log:      c.Logger,
		now:      c.Now,
		live:     newLiveness(c.RevocationMaxStaleness, c.AccessTTL+c.Leeway+time.Minute, c.MaxLiveSessions, cfg.Now == nil),
		tokens:   newTokenCache(&c),
		tel:      tel,
		stop:     make(chan struct{}),
		wake:     make(chan struct{}, 1),
	}
	if s.authz == nil {
		s.authz = StaticAuthorizer(nil)
	}
	if c.Throttle != nil {
		s.throttle = boundedThrottle{c.Throttle, c.StoreTimeout, tel}
	}
	if sp, ok := c.Store.(interface{ SingleProcessOnly() bool }); ok && sp.SingleProcessOnly() {
		s.log.Warn("authguard: the session store is single-process only: run exactly one instance, and expect every user to log in again after a restart")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.live.sync(ctx, s.sessions, s.now()); err != nil {
		return nil, fmt.Errorf("%w: reading the revocation feed: %w", ErrUnavailable, err)
	}
	s.bg.Add(1)
	go s.poll()
	if n, ok := c.Store.(store.Notifier); ok {
		s.bg.Add(1)
		go s.watch(n)
	}
	return s, nil
}

// Close stops the background poller and watcher. It does not close the store.
func (s *Service) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	s.bg.Wait()
	return nil
}

// watch runs the store's Watch until Close: each wake asks the poller for a
// feed read at once.
func (s *Service) watch(n store.Notifier) {
	defer s.bg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.stop
		cancel()
	}()
	err := n.Watch(ctx, func() {
		select {
		case s.wake <- struct{}{}:
		default: // a read is already due; it will see this change too
		}
	})
	if err != nil && ctx.Err() == nil {
		s.log.Warn("authguard: revocation notifications unavailable; polling the feed only", slog.String("error", err.Error()))
	}
}

// Config returns the effective configuration (defaults applied).
func (s *Service) Config() Config { return s.cfg }

// Keys returns the key set the service signs with.
func (s *Service) Keys() *token.KeySet { return s.keys }

// poll reads the feed every RevocationPollInterval, and at once when the
// watcher wakes it (then it only reads the feed: repairs and pruning keep
// the ticker's pace). One read runs at a time, however many wakes arrive.
func (s *Service) poll() {
	defer s.bg.Done()
	t := time.NewTicker(s.cfg.RevocationPollInterval)
	defer t.Stop()
	const pruneEvery = time.Hour
	lastPrune := time.Now()
	failing := false
	for {
		woken := false
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.wake:
			woken = true
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RevocationMaxStaleness)
		err := s.live.sync(ctx, s.sessions, s.now())
		if err != nil && !failing {
			s.log.Error("authguard: revocation feed unreachable; guards fail closed until it recovers", slog.String("error", err.Error()))
		} else if err == nil && failing {
			s.log.Info("authguard: revocation feed reachable again")
		}
		failing = err != nil
		if err == nil && !woken {
			s.repair(ctx)
		}
		if err == nil && !woken && time.Since(lastPrune) >= pruneEvery {
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
// RevocationPollInterval, and when the store notifies a change). Useful in
// tests and after a known outage.
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
