package rbac

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// PolicyVersioner reads the version of a stored policy, which every change
// raises (SQLAdapter and RedisAdapter implement it). It is the truth a
// Watcher polls.
type PolicyVersioner interface {
	PolicyVersion(ctx context.Context) (int64, error)
}

// PolicyNotifier is the push channel of a stored policy (Redis pub/sub,
// PostgreSQL LISTEN/NOTIFY). As for core's store.Notifier, a wake is only a
// hint to read the version now: WatchPolicy calls wake once listening
// (after every reconnection too, so that what changed meanwhile is read)
// and after every change it hears of, reconnects by itself with a bounded
// backoff, and returns promptly once ctx ends. Messages may be lost; the
// Watcher's polling covers them.
type PolicyNotifier interface {
	WatchPolicy(ctx context.Context, wake func()) error
}

// NotifierFunc makes a function a PolicyNotifier.
type NotifierFunc func(ctx context.Context, wake func()) error

// WatchPolicy calls f.
func (f NotifierFunc) WatchPolicy(ctx context.Context, wake func()) error { return f(ctx, wake) }

// Defaults of Watch.
const (
	// DefaultPollInterval is how often a Watcher reads the policy version
	// when no push arrives.
	DefaultPollInterval = 500 * time.Millisecond
	// DefaultMaxStaleness is how long a Watcher may fail to check the
	// policy version before its Authorizer answers errors (503), like the
	// core's RevocationMaxStaleness.
	DefaultMaxStaleness = 3 * time.Second
)

// ErrPolicyStale is the error an Authorizer answers every decision with
// while its Watcher has not checked the policy version for longer than its
// maximal staleness: the core answers 503 temporarily_unavailable.
var ErrPolicyStale = errors.New("rbac: the policy could not be checked for changes within the allowed staleness")

// WatchOption configures Watch.
type WatchOption func(*watchOptions) error

type watchOptions struct {
	poll, maxStale, timeout time.Duration
	staleOK                 bool
	notifier                PolicyNotifier
	log                     *slog.Logger
}

// WithPollInterval sets how often the version is read without a push
// (default DefaultPollInterval; at least 10ms).
func WithPollInterval(d time.Duration) WatchOption {
	return func(o *watchOptions) error {
		if d < 10*time.Millisecond {
			return fmt.Errorf("rbac: WithPollInterval(%v): want 10ms or more", d)
		}
		o.poll = d
		return nil
	}
}

// WithMaxStaleness sets how long the version may go unchecked (the backend
// down, a reload failing) before every decision of the Authorizer is an
// ErrPolicyStale error (default DefaultMaxStaleness; at least the poll
// interval).
func WithMaxStaleness(d time.Duration) WatchOption {
	return func(o *watchOptions) error {
		if d <= 0 {
			return fmt.Errorf("rbac: WithMaxStaleness(%v): want more than 0", d)
		}
		o.maxStale = d
		return nil
	}
}

// UnsafeServeStalePolicy makes the Authorizer keep deciding with the last
// policy it loaded however long the version cannot be checked: a role
// removed meanwhile keeps working on this instance until the backend
// answers again. Only for apps that prefer that to answering 503.
func UnsafeServeStalePolicy() WatchOption {
	return func(o *watchOptions) error {
		o.staleOK = true
		return nil
	}
}

// WithNotifier sets the push channel (default: the versioner itself when it
// is a PolicyNotifier, as RedisAdapter is; for PostgreSQL use
// SQLAdapter.Notifier). nil means polling only.
func WithNotifier(n PolicyNotifier) WatchOption {
	return func(o *watchOptions) error {
		o.notifier = n
		return nil
	}
}

// WithWatchLogger sets where the Watcher logs a failing version check, its
// recovery, and a push channel that gave up (default slog.Default()).
func WithWatchLogger(l *slog.Logger) WatchOption {
	return func(o *watchOptions) error {
		if l == nil {
			return errors.New("rbac: WithWatchLogger(nil)")
		}
		o.log = l
		return nil
	}
}

// freshness is how an Authorizer knows whether its Watcher keeps up: a
// flag that a timer raises when the deadline a good check set passes, so
// that a decision reads one atomic flag, and a Watcher stuck in a hung call
// still goes stale in time.
type freshness struct {
	stale    atomic.Bool
	maxStale time.Duration

	mu       sync.Mutex // guards deadline and timer
	deadline time.Time
	timer    *time.Timer
}

func newFreshness(maxStale time.Duration) *freshness {
	f := &freshness{maxStale: maxStale, deadline: time.Now().Add(maxStale)}
	f.timer = time.AfterFunc(maxStale, f.expire)
	return f
}

// expire raises the flag if the deadline has passed (a good check may have
// moved it while the timer fired).
func (f *freshness) expire() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d := time.Until(f.deadline); d > 0 {
		f.timer.Reset(d)
		return
	}
	f.stale.Store(true)
}

// checked records a good check that started at at: the policy is known as
// of at, and stays fresh until at plus the maximal staleness.
func (f *freshness) checked(at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deadline = at.Add(f.maxStale)
	if d := time.Until(f.deadline); d > 0 {
		f.stale.Store(false)
		f.timer.Reset(d)
	}
}

// stop stops the timer.
func (f *freshness) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.timer.Stop()
}

// check returns ErrPolicyStale when the last good check is too old.
func (f *freshness) check() error {
	if f.stale.Load() {
		return ErrPolicyStale
	}
	return nil
}

// Watcher keeps an Authorizer's policy in step with the stored one: see
// Watch. Close stops it.
type Watcher struct {
	a      *Authorizer
	src    PolicyVersioner
	o      watchOptions
	f      *freshness // nil with UnsafeServeStalePolicy
	wake   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	mu      sync.Mutex // guards below (the loop and Version)
	seen    int64
	loaded  bool
	failing bool
}

// Watch keeps a's policy in step with the policy stored behind src (the
// adapter of a's enforcer: a SQLAdapter or RedisAdapter) until Close. It
// reads src's version every poll interval, and at once when the push
// channel (WithNotifier, or src itself when it is a PolicyNotifier) says
// something changed or has just (re)connected; when the version is not the
// one last loaded, it calls a.Reload, which loads the whole policy and
// empties the decision cache. The version is read before the policy, so a
// change made during a reload is reloaded again.
//
// Unless UnsafeServeStalePolicy, when no check has succeeded (version read
// and, if needed, reload) for longer than the maximal staleness, every
// decision of a is an ErrPolicyStale error, which guards answer with 503:
// an instance cut off from the policy denies rather than allowing on a
// policy that may have changed. Decisions are served again as soon as a
// check succeeds.
//
// Watch reads the version (and loads the policy) once before it returns,
// within the maximal staleness; its failure is logged, not returned, and
// the staleness counts from Watch. A has at most one Watcher at a time.
func Watch(a *Authorizer, src PolicyVersioner, opts ...WatchOption) (*Watcher, error) {
	if a == nil || src == nil {
		return nil, errors.New("rbac: Watch needs an Authorizer and a PolicyVersioner")
	}
	o := watchOptions{poll: DefaultPollInterval, maxStale: DefaultMaxStaleness, log: slog.Default()}
	if n, ok := src.(PolicyNotifier); ok {
		o.notifier = n
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if o.maxStale < o.poll {
		return nil, fmt.Errorf("rbac: Watch: maximal staleness %v is under the poll interval %v", o.maxStale, o.poll)
	}
	// A check that hangs ends in time for the next one to keep a fresh.
	o.timeout = max(o.poll, min(o.maxStale/2, time.Second))
	w := &Watcher{a: a, src: src, o: o, wake: make(chan struct{}, 1)}
	if !o.staleOK {
		w.f = newFreshness(o.maxStale)
	}
	if !a.watched.CompareAndSwap(false, true) {
		return nil, errors.New("rbac: Watch: the Authorizer has a Watcher already")
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	_ = w.check(ctx)
	if w.f != nil {
		a.fresh.Store(w.f)
	}
	w.wg.Add(1)
	go w.poll(ctx)
	if o.notifier != nil {
		w.wg.Add(1)
		go w.listen(ctx)
	}
	return w, nil
}

// poke asks the loop to check now; it never blocks.
func (w *Watcher) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// retryMin is how soon a failed check is tried again; the delay doubles
// while checks keep failing, up to the poll interval.
const retryMin = 50 * time.Millisecond

// poll checks every poll interval, sooner after a failed check (a
// connection just back may fail once on a dead pooled connection), and on
// every wake, until ctx ends.
func (w *Watcher) poll(ctx context.Context) {
	defer w.wg.Done()
	t := time.NewTimer(w.o.poll)
	defer t.Stop()
	fails := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
		}
		next := w.o.poll
		if w.check(ctx) {
			fails = 0
		} else {
			fails++
			next = min(w.o.poll, retryMin<<min(fails-1, 10))
		}
		t.Reset(next)
	}
}

// listen runs the push channel until ctx ends. When it gives up early,
// polling goes on alone.
func (w *Watcher) listen(ctx context.Context) {
	defer w.wg.Done()
	err := w.o.notifier.WatchPolicy(ctx, w.poke)
	if ctx.Err() == nil {
		w.o.log.Warn("rbac: the policy's push channel stopped; polling only", "err", err)
	}
}

// check reads the version and reloads the policy if it moved, and reports
// whether that worked.
func (w *Watcher) check(ctx context.Context) bool {
	at := time.Now() // what a good check proves: the policy as of now
	cctx, cancel := context.WithTimeout(ctx, w.o.timeout)
	v, err := w.src.PolicyVersion(cctx)
	cancel()
	w.mu.Lock()
	defer w.mu.Unlock()
	if err == nil && (!w.loaded || v != w.seen) {
		if err = w.a.Reload(); err == nil {
			w.seen, w.loaded = v, true
		}
	}
	if err != nil {
		if ctx.Err() == nil && !w.failing {
			w.o.log.Warn("rbac: cannot check the policy for changes", "err", err)
		}
		w.failing = ctx.Err() == nil
		return false
	}
	if w.failing {
		w.o.log.Info("rbac: the policy is checked for changes again", "version", v)
		w.failing = false
	}
	if w.f != nil {
		w.f.checked(at)
	}
	return true
}

// Version returns the policy version the Authorizer last loaded, and false
// before the first successful check.
func (w *Watcher) Version() (int64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen, w.loaded
}

// Close stops the Watcher and waits for its goroutines: at most for a
// version read or reload under way to end (a reload through the adapter's
// LoadPolicy, which takes no context, ends when the adapter's own timeouts
// say). The Authorizer then decides with the policy it has, as without a
// Watcher, and may get a new one. Close is idempotent.
func (w *Watcher) Close() error {
	w.once.Do(func() {
		w.cancel()
		w.wg.Wait()
		if w.f != nil {
			w.a.fresh.CompareAndSwap(w.f, nil)
			w.f.stop()
		}
		w.a.watched.Store(false)
	})
	return nil
}
