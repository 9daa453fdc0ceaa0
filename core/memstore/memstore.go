// Package memstore is the reference in-memory implementation of store.Store.
//
// SINGLE PROCESS ONLY. ALL STATE IS LOST ON RESTART.
//
// A memstore lives in the memory of one process. Two instances of a service
// behind a load balancer that each use their own memstore do not share
// sessions, rotations or revocations: a token rotated or revoked on one
// instance stays valid on the other. Use it for tests, development and
// single-instance deployments only; use a shared store (sqlite on one host,
// postgres or redis across hosts) otherwise. When the process restarts every
// session is gone, so every user must log in again (this fails closed: no
// token outlives the store that knew it).
//
// One mutex guards all state, so [Store.UpdateSession] compares the version
// and writes the session (and its feed entry) as one step. Slices (digests,
// Successor, Roles) are copied on the way in and on the way out, so callers
// can never alias the store's state. Times are kept in UTC at full precision
// (the monotonic clock reading is stripped). Besides store.Store, a Store
// implements store.UserCounter, store.Pinger and store.Footprinter.
package memstore

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/authguard/authguard/core/store"
)

// ErrClosed is returned by every method of a Store after Close.
var ErrClosed = errors.New("memstore: store is closed")

type sessionRec struct {
	s   store.Session
	seq uint64 // insertion order, tie-breaker for "oldest first"
}

type throttleRec struct {
	count int
	start time.Time
	end   time.Time // start + window at the last hit, for Prune
}

// Store is an in-memory store.Store. The zero value is not usable; call New.
// It is safe for concurrent use by multiple goroutines of ONE process.
type Store struct {
	mu       sync.Mutex
	closed   bool
	sessions map[string]*sessionRec
	feed     []store.Revocation // in Seq order
	lastSeq  int64
	nextIns  uint64
	throttle map[string]throttleRec
	users    map[string]store.User // by id
	byEmail  map[string]string     // email -> id
}

var (
	_ store.Store       = (*Store)(nil)
	_ store.UserCounter = (*Store)(nil)
	_ store.Pinger      = (*Store)(nil)
	_ store.Footprinter = (*Store)(nil)
)

// New returns an empty in-memory store. See the package documentation: it is
// for a single process only, and all state is lost on restart.
func New() *Store {
	return &Store{
		sessions: make(map[string]*sessionRec),
		throttle: make(map[string]throttleRec),
		users:    make(map[string]store.User),
		byEmail:  make(map[string]string),
	}
}

// SingleProcessOnly reports true: a memstore is never shared between
// processes. Callers that accept any store.Store can test for this method
// (interface{ SingleProcessOnly() bool }) to warn loudly, or refuse to start,
// when they run as one of several instances.
func (m *Store) SingleProcessOnly() bool { return true }

// lock checks the context, takes the mutex and checks that the store is open.
// On success the caller must unlock s.mu.
func (m *Store) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	return nil
}

// utc normalises a time to UTC without a monotonic reading; zero stays zero.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// cloneSession copies the session's slices, so neither side aliases the other.
func cloneSession(s store.Session) store.Session {
	s.TokenDigest = bytes.Clone(s.TokenDigest)
	s.SecretDigest = bytes.Clone(s.SecretDigest)
	s.Successor = bytes.Clone(s.Successor)
	return s
}

// normSession is cloneSession with every time in UTC.
func normSession(s store.Session) store.Session {
	s.AuthTime = utc(s.AuthTime)
	s.CreatedAt = utc(s.CreatedAt)
	s.LastUsedAt = utc(s.LastUsedAt)
	s.IdleExpiresAt = utc(s.IdleExpiresAt)
	s.AbsoluteExpiresAt = utc(s.AbsoluteExpiresAt)
	s.RevokedAt = utc(s.RevokedAt)
	s.RotatedAt = utc(s.RotatedAt)
	return cloneSession(s)
}

// ---- Sessions ----

// CreateSession stores s as it is given (the core sets Version to 1). It
// returns store.ErrConflict if the id already exists.
func (m *Store) CreateSession(ctx context.Context, s store.Session) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if _, ok := m.sessions[s.ID]; ok {
		return fmt.Errorf("memstore: session %q: %w", s.ID, store.ErrConflict)
	}
	m.nextIns++
	m.sessions[s.ID] = &sessionRec{s: normSession(s), seq: m.nextIns}
	return nil
}

// Session returns the session with the given id, revoked or expired ones
// included, or store.ErrNotFound.
func (m *Store) Session(ctx context.Context, id string) (store.Session, error) {
	if err := m.lock(ctx); err != nil {
		return store.Session{}, err
	}
	defer m.mu.Unlock()
	rec, ok := m.sessions[id]
	if !ok {
		return store.Session{}, store.ErrNotFound
	}
	return cloneSession(rec.s), nil
}

// UpdateSession replaces the session u.Session.ID with u.Session if its
// stored Version is still u.Version, and appends (ID, RevokedAt) to the
// revocation feed when u.Revoked. It returns store.ErrStale when the version
// moved on and store.ErrNotFound when the session is gone, writing nothing.
// An update that fails store.Update.Check is refused with an error.
func (m *Store) UpdateSession(ctx context.Context, u store.Update) error {
	if err := u.Check(); err != nil {
		return fmt.Errorf("memstore: %w", err)
	}
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	rec, ok := m.sessions[u.Session.ID]
	if !ok {
		return store.ErrNotFound
	}
	if rec.s.Version != u.Version {
		return store.ErrStale
	}
	rec.s = normSession(u.Session)
	if u.Revoked {
		m.lastSeq++
		m.feed = append(m.feed, store.Revocation{Seq: m.lastSeq, SessionID: rec.s.ID, RevokedAt: rec.s.RevokedAt})
	}
	return nil
}

// ListSessions returns the subject's sessions that are active at now (not
// revoked, both deadlines after now), oldest first (by CreatedAt, then by
// insertion order).
func (m *Store) ListSessions(ctx context.Context, subject string, now time.Time) ([]store.Session, error) {
	if err := m.lock(ctx); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var recs []*sessionRec
	for _, rec := range m.sessions {
		if rec.s.Subject == subject && rec.s.Active(now) {
			recs = append(recs, rec)
		}
	}
	slices.SortFunc(recs, func(a, b *sessionRec) int {
		return cmp.Or(a.s.CreatedAt.Compare(b.s.CreatedAt), cmp.Compare(a.seq, b.seq))
	})
	out := make([]store.Session, len(recs))
	for i, rec := range recs {
		out[i] = cloneSession(rec.s)
	}
	return out, nil
}

// Revocations returns feed entries with Seq > after, in Seq order, at most
// limit of them (limit <= 0: all).
func (m *Store) Revocations(ctx context.Context, after int64, limit int) ([]store.Revocation, error) {
	if err := m.lock(ctx); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	i := sort.Search(len(m.feed), func(i int) bool { return m.feed[i].Seq > after })
	rest := m.feed[i:]
	if limit > 0 && len(rest) > limit {
		rest = rest[:limit]
	}
	return slices.Clone(rest), nil
}

// Prune deletes sessions whose idle or absolute deadline or revocation time
// is before cutoff, feed entries revoked before cutoff, and throttle counters
// whose window ended before cutoff. It returns how many sessions it deleted.
// Sequence numbers are never reused.
func (m *Store) Prune(ctx context.Context, cutoff time.Time) (int, error) {
	if err := m.lock(ctx); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	n := 0
	for id, rec := range m.sessions {
		s := &rec.s
		if s.IdleExpiresAt.Before(cutoff) || s.AbsoluteExpiresAt.Before(cutoff) ||
			(!s.RevokedAt.IsZero() && s.RevokedAt.Before(cutoff)) {
			delete(m.sessions, id)
			n++
		}
	}
	m.feed = slices.DeleteFunc(m.feed, func(r store.Revocation) bool { return r.RevokedAt.Before(cutoff) })
	for k, t := range m.throttle {
		if t.end.Before(cutoff) {
			delete(m.throttle, k)
		}
	}
	return n, nil
}

// Footprint reports the entries of the store's maps and feed as Records, and
// the byte length of their strings and byte slices as Bytes.
func (m *Store) Footprint(ctx context.Context) (store.Footprint, error) {
	if err := m.lock(ctx); err != nil {
		return store.Footprint{}, err
	}
	defer m.mu.Unlock()
	var f store.Footprint
	add := func(records int, strs ...string) {
		f.Records += int64(records)
		for _, s := range strs {
			f.Bytes += int64(len(s))
		}
	}
	for _, rec := range m.sessions {
		s := &rec.s
		add(1, s.ID, s.Subject, s.DeviceName, s.IP, s.UserAgent, s.RevokeReason,
			string(s.TokenDigest), string(s.SecretDigest), string(s.Successor))
	}
	for _, r := range m.feed {
		add(1, r.SessionID)
	}
	for k := range m.throttle {
		add(1, k)
	}
	for _, u := range m.users {
		add(1, u.ID, u.Email, u.PasswordHash)
		add(0, u.Roles...)
	}
	for email := range m.byEmail {
		add(1, email)
	}
	return f, nil
}

// ---- Store ----

// Ping reports ErrClosed after Close (or the context's error), else nil.
func (m *Store) Ping(ctx context.Context) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	m.mu.Unlock()
	return nil
}

// Close discards all state. Every later call returns ErrClosed. Close is
// idempotent.
func (m *Store) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.sessions, m.feed = nil, nil
	m.throttle, m.users, m.byEmail = nil, nil, nil
	return nil
}
