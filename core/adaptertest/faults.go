package adaptertest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/memstore"
	"github.com/authguard/authguard/core/store"
)

// errStoreDown is what the fault injector returns from a failing method: an
// availability error, neither store.ErrNotFound nor store.ErrConflict.
var errStoreDown = errors.New("adaptertest: injected store outage")

// faultStore is the memory store with injectable outages: after
// construction, chosen methods (or all) return errStoreDown until healed.
type faultStore struct {
	*memstore.Store
	mu   sync.Mutex
	fail map[string]bool
}

var _ store.Store = (*faultStore)(nil)

func newFaultStore() *faultStore { return &faultStore{Store: memstore.New(), fail: map[string]bool{}} }

// Fail makes the named methods fail ("*" = every method).
func (s *faultStore) Fail(methods ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range methods {
		s.fail[m] = true
	}
}

// Heal ends every injected outage.
func (s *faultStore) Heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.fail)
}

func (s *faultStore) down(method string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail["*"] || s.fail[method] {
		return errStoreDown
	}
	return nil
}

func (s *faultStore) CreateSession(ctx context.Context, ss store.Session) error {
	if err := s.down("CreateSession"); err != nil {
		return err
	}
	return s.Store.CreateSession(ctx, ss)
}

func (s *faultStore) Session(ctx context.Context, id string) (store.Session, error) {
	if err := s.down("Session"); err != nil {
		return store.Session{}, err
	}
	return s.Store.Session(ctx, id)
}

func (s *faultStore) UpdateSession(ctx context.Context, u store.Update) error {
	if err := s.down("UpdateSession"); err != nil {
		return err
	}
	return s.Store.UpdateSession(ctx, u)
}

func (s *faultStore) ListSessions(ctx context.Context, subject string, now time.Time) ([]store.Session, error) {
	if err := s.down("ListSessions"); err != nil {
		return nil, err
	}
	return s.Store.ListSessions(ctx, subject, now)
}

func (s *faultStore) Revocations(ctx context.Context, after int64, limit int) ([]store.Revocation, error) {
	if err := s.down("Revocations"); err != nil {
		return nil, err
	}
	return s.Store.Revocations(ctx, after, limit)
}

func (s *faultStore) Prune(ctx context.Context, cutoff time.Time) (int, error) {
	if err := s.down("Prune"); err != nil {
		return 0, err
	}
	return s.Store.Prune(ctx, cutoff)
}

func (s *faultStore) Hit(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	if err := s.down("Hit"); err != nil {
		return 0, time.Time{}, err
	}
	return s.Store.Hit(ctx, key, now, window)
}

func (s *faultStore) Peek(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	if err := s.down("Peek"); err != nil {
		return 0, time.Time{}, err
	}
	return s.Store.Peek(ctx, key, now, window)
}

func (s *faultStore) Reset(ctx context.Context, key string) error {
	if err := s.down("Reset"); err != nil {
		return err
	}
	return s.Store.Reset(ctx, key)
}

func (s *faultStore) CreateUser(ctx context.Context, u store.User) error {
	if err := s.down("CreateUser"); err != nil {
		return err
	}
	return s.Store.CreateUser(ctx, u)
}

func (s *faultStore) UserByEmail(ctx context.Context, email string) (store.User, error) {
	if err := s.down("UserByEmail"); err != nil {
		return store.User{}, err
	}
	return s.Store.UserByEmail(ctx, email)
}

func (s *faultStore) UserByID(ctx context.Context, id string) (store.User, error) {
	if err := s.down("UserByID"); err != nil {
		return store.User{}, err
	}
	return s.Store.UserByID(ctx, id)
}

func (s *faultStore) UpdateUser(ctx context.Context, u store.User) error {
	if err := s.down("UpdateUser"); err != nil {
		return err
	}
	return s.Store.UpdateUser(ctx, u)
}

// CountUsers and Ping are promoted from the embedded memstore (the optional
// store.UserCounter and store.Pinger); these keep them under fault injection.
func (s *faultStore) CountUsers(ctx context.Context) (int, error) {
	if err := s.down("CountUsers"); err != nil {
		return 0, err
	}
	return s.Store.CountUsers(ctx)
}

func (s *faultStore) Ping(ctx context.Context) error {
	if err := s.down("Ping"); err != nil {
		return err
	}
	return s.Store.Ping(ctx)
}

// failingAuthorizer is a policy engine that cannot be reached.
type failingAuthorizer struct{}

func (failingAuthorizer) Authorize(context.Context, *core.Principal, string, string) (bool, error) {
	return false, errors.New("adaptertest: injected policy engine outage")
}
