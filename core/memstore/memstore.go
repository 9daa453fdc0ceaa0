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
// One mutex guards all state, so [Store.Rotate] is atomic: the decide
// callback runs under the lock and no other write can interleave. Slices
// (digests, Successor, Roles) are copied on the way in and on the way out, so
// callers can never alias the store's state. Times are kept in UTC at full
// precision (the monotonic clock reading is stripped).
package memstore

import (
	"bytes"
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

type tokenRef struct {
	sessionID  string
	generation int64
}

type sessionRec struct {
	s       store.Session
	seq     uint64   // insertion order, tie-breaker for "oldest first"
	digests []string // every digest of the session, for Prune
}

type throttleRec struct {
	count int
	start time.Time
	end   time.Time // start + window at the last hit, for Prune
}

// Store is an in-memory store.Store. The zero value is not usable; call New.
// It is safe for concurrent use by multiple goroutines of ONE process.
type Store struct {
	mu        sync.Mutex
	closed    bool
	sessions  map[string]*sessionRec
	bySubject map[string]map[string]struct{}
	tokens    map[string]tokenRef // string(digest) -> session, generation
	feed      []store.Revocation  // in Seq order
	lastSeq   int64
	nextIns   uint64
	throttle  map[string]throttleRec
	users     map[string]store.User // by id
	byEmail   map[string]string     // email -> id
	nowFunc   func() time.Time
}

var _ store.Store = (*Store)(nil)

// New returns an empty in-memory store. See the package documentation: it is
// for a single process only, and all state is lost on restart.
func New() *Store {
	return &Store{
		sessions:  make(map[string]*sessionRec),
		bySubject: make(map[string]map[string]struct{}),
		tokens:    make(map[string]tokenRef),
		throttle:  make(map[string]throttleRec),
		users:     make(map[string]store.User),
		byEmail:   make(map[string]string),
		nowFunc:   time.Now,
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

// stamp is utc(t), or the store's clock when t is zero. It is used where a
// zero time would silently mean "not set" (RevokedAt, RotatedAt, LastUsedAt).
func (m *Store) stamp(t time.Time) time.Time {
	if t.IsZero() {
		return m.nowFunc().UTC()
	}
	return t.UTC()
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return bytes.Clone(b)
}

func cloneSession(s store.Session) store.Session {
	s.Successor = cloneBytes(s.Successor)
	return s
}

func normSession(s store.Session) store.Session {
	s.AuthTime = utc(s.AuthTime)
	s.CreatedAt = utc(s.CreatedAt)
	s.LastUsedAt = utc(s.LastUsedAt)
	s.IdleExpiresAt = utc(s.IdleExpiresAt)
	s.AbsoluteExpiresAt = utc(s.AbsoluteExpiresAt)
	s.RevokedAt = utc(s.RevokedAt)
	s.RotatedAt = utc(s.RotatedAt)
	s.Successor = cloneBytes(s.Successor)
	return s
}

func cloneUser(u store.User) store.User {
	if u.Roles == nil {
		u.Roles = []string{}
	} else {
		u.Roles = slices.Clone(u.Roles)
	}
	return u
}

// ---- Sessions ----

// CreateSession stores a new session whose current token has the digest
// tokenHash (mapped to s.Generation, which the core sets to 0). It returns
// store.ErrConflict if the id or the digest already exists.
func (m *Store) CreateSession(ctx context.Context, s store.Session, tokenHash []byte) error {
	if len(tokenHash) == 0 {
		return errors.New("memstore: empty token digest")
	}
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if _, ok := m.sessions[s.ID]; ok {
		return fmt.Errorf("memstore: session %q: %w", s.ID, store.ErrConflict)
	}
	key := string(tokenHash)
	if _, ok := m.tokens[key]; ok {
		return fmt.Errorf("memstore: token digest: %w", store.ErrConflict)
	}
	m.nextIns++
	m.sessions[s.ID] = &sessionRec{s: normSession(s), seq: m.nextIns, digests: []string{key}}
	subs := m.bySubject[s.Subject]
	if subs == nil {
		subs = make(map[string]struct{})
		m.bySubject[s.Subject] = subs
	}
	subs[s.ID] = struct{}{}
	m.tokens[key] = tokenRef{sessionID: s.ID, generation: s.Generation}
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

// SessionByToken resolves a digest of any generation to its session and the
// generation of that token, or store.ErrNotFound.
func (m *Store) SessionByToken(ctx context.Context, tokenHash []byte) (store.Session, int64, error) {
	if err := m.lock(ctx); err != nil {
		return store.Session{}, 0, err
	}
	defer m.mu.Unlock()
	rec, gen, ok := m.resolve(tokenHash)
	if !ok {
		return store.Session{}, 0, store.ErrNotFound
	}
	return cloneSession(rec.s), gen, nil
}

func (m *Store) resolve(tokenHash []byte) (*sessionRec, int64, bool) {
	ref, ok := m.tokens[string(tokenHash)]
	if !ok {
		return nil, 0, false
	}
	rec, ok := m.sessions[ref.sessionID]
	if !ok {
		return nil, 0, false
	}
	return rec, ref.generation, true
}

// Rotate resolves tokenHash and, under the store's mutex, calls decide and
// applies the Change it returns (see store.Sessions.Rotate and
// store.ChangeKind). Change.At is the time of the change: RotatedAt and
// LastUsedAt for ChangeRotate, LastUsedAt for ChangeReplay, RevokedAt for
// ChangeRevoke; when it is zero the store's clock is used, so a revocation can
// never leave RevokedAt zero. ChangeRevoke on an already revoked session
// writes nothing and reports ChangeNone as the change applied. ChangeRotate
// with a digest that already exists returns store.ErrConflict and writes
// nothing.
func (m *Store) Rotate(ctx context.Context, tokenHash []byte, decide store.Decide) (store.Session, store.Change, error) {
	if err := m.lock(ctx); err != nil {
		return store.Session{}, store.Change{}, err
	}
	defer m.mu.Unlock()
	rec, gen, ok := m.resolve(tokenHash)
	if !ok {
		return store.Session{}, store.Change{}, store.ErrNotFound
	}
	ch := decide(cloneSession(rec.s), gen)
	ch.NewTokenHash = cloneBytes(ch.NewTokenHash)
	ch.Successor = cloneBytes(ch.Successor)
	switch ch.Kind {
	case store.ChangeNone:
	case store.ChangeRotate:
		if len(ch.NewTokenHash) == 0 {
			return store.Session{}, store.Change{}, errors.New("memstore: rotate: empty new token digest")
		}
		key := string(ch.NewTokenHash)
		if _, dup := m.tokens[key]; dup {
			return store.Session{}, store.Change{}, fmt.Errorf("memstore: rotate: new token digest: %w", store.ErrConflict)
		}
		at := m.stamp(ch.At)
		s := &rec.s
		s.Generation++
		s.Successor = cloneBytes(ch.Successor)
		s.RotatedAt = at
		s.LastUsedAt = at
		s.IdleExpiresAt = utc(ch.IdleExpiresAt)
		s.GraceReplays = 0
		m.tokens[key] = tokenRef{sessionID: s.ID, generation: s.Generation}
		rec.digests = append(rec.digests, key)
	case store.ChangeReplay:
		rec.s.GraceReplays++
		rec.s.LastUsedAt = m.stamp(ch.At)
	case store.ChangeRevoke:
		if !rec.s.RevokedAt.IsZero() {
			ch = store.Change{Kind: store.ChangeNone}
			break
		}
		m.revokeLocked(rec, m.stamp(ch.At), ch.Reason)
	default:
		return store.Session{}, store.Change{}, fmt.Errorf("memstore: rotate: unknown change kind %d", ch.Kind)
	}
	out := ch
	out.NewTokenHash = cloneBytes(ch.NewTokenHash)
	out.Successor = cloneBytes(ch.Successor)
	return cloneSession(rec.s), out, nil
}

func (m *Store) revokeLocked(rec *sessionRec, at time.Time, reason string) {
	rec.s.RevokedAt = at
	rec.s.RevokeReason = reason
	m.lastSeq++
	m.feed = append(m.feed, store.Revocation{Seq: m.lastSeq, SessionID: rec.s.ID, RevokedAt: at})
}

// ListSessions returns the subject's sessions that are active at now (not
// revoked, both deadlines after now), oldest first (by CreatedAt, then by
// insertion order).
func (m *Store) ListSessions(ctx context.Context, subject string, now time.Time) ([]store.Session, error) {
	if err := m.lock(ctx); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	recs := make([]*sessionRec, 0, len(m.bySubject[subject]))
	for id := range m.bySubject[subject] {
		rec := m.sessions[id]
		if rec != nil && rec.s.Active(now) {
			recs = append(recs, rec)
		}
	}
	slices.SortFunc(recs, func(a, b *sessionRec) int {
		if c := a.s.CreatedAt.Compare(b.s.CreatedAt); c != 0 {
			return c
		}
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	out := make([]store.Session, len(recs))
	for i, rec := range recs {
		out[i] = cloneSession(rec.s)
	}
	return out, nil
}

// RevokeSession revokes the session if it is active at at (see
// store.Session.Active) and appends it to the revocation feed. It reports
// whether it changed anything; an unknown, revoked or expired session is not
// an error. A zero at means the store's clock.
func (m *Store) RevokeSession(ctx context.Context, id string, at time.Time, reason string) (bool, error) {
	if err := m.lock(ctx); err != nil {
		return false, err
	}
	defer m.mu.Unlock()
	at = m.stamp(at)
	rec, ok := m.sessions[id]
	if !ok || !rec.s.Active(at) {
		return false, nil
	}
	m.revokeLocked(rec, at, reason)
	return true, nil
}

// RevokeSubject revokes every session of subject that is active at at,
// except the one whose id is except (empty: none), and returns how many it
// revoked. A zero at means the store's clock.
func (m *Store) RevokeSubject(ctx context.Context, subject, except string, at time.Time, reason string) (int, error) {
	if err := m.lock(ctx); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	at = m.stamp(at)
	recs := make([]*sessionRec, 0, len(m.bySubject[subject]))
	for id := range m.bySubject[subject] {
		if id == except {
			continue
		}
		if rec := m.sessions[id]; rec != nil && rec.s.Active(at) {
			recs = append(recs, rec)
		}
	}
	// Deterministic feed order: insertion order.
	slices.SortFunc(recs, func(a, b *sessionRec) int {
		if a.seq < b.seq {
			return -1
		}
		return 1
	})
	for _, rec := range recs {
		m.revokeLocked(rec, at, reason)
	}
	return len(recs), nil
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

// Prune deletes sessions (and all their digests) whose idle or absolute
// deadline or revocation time is before cutoff, feed entries revoked before
// cutoff, and throttle counters whose window ended before cutoff. It returns
// how many sessions it deleted. Sequence numbers are never reused.
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
			for _, d := range rec.digests {
				delete(m.tokens, d)
			}
			if subs := m.bySubject[s.Subject]; subs != nil {
				delete(subs, id)
				if len(subs) == 0 {
					delete(m.bySubject, s.Subject)
				}
			}
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

// ---- Throttle ----

// Hit adds one failure to key (see store.Throttle.Hit).
func (m *Store) Hit(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	if err := m.lock(ctx); err != nil {
		return 0, time.Time{}, err
	}
	defer m.mu.Unlock()
	now = utc(now)
	t, ok := m.throttle[key]
	if !ok || !t.start.After(now.Add(-window)) {
		t = throttleRec{count: 1, start: now}
	} else {
		t.count++
	}
	t.end = t.start.Add(window)
	m.throttle[key] = t
	return t.count, t.start, nil
}

// Peek returns the key's count and window start, or 0 and the zero time if the
// key is unknown or its window ended at or before now.
func (m *Store) Peek(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	if err := m.lock(ctx); err != nil {
		return 0, time.Time{}, err
	}
	defer m.mu.Unlock()
	t, ok := m.throttle[key]
	if !ok || !t.start.Add(window).After(now) {
		return 0, time.Time{}, nil
	}
	return t.count, t.start, nil
}

// Forgive takes back one hit of the window that started at windowStart.
func (m *Store) Forgive(ctx context.Context, key string, windowStart time.Time) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if t, ok := m.throttle[key]; ok && t.start.Equal(windowStart) && t.count > 0 {
		t.count--
		m.throttle[key] = t
	}
	return nil
}

// Reset deletes the key's counter.
func (m *Store) Reset(ctx context.Context, key string) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	delete(m.throttle, key)
	return nil
}

// ---- Users ----

// CreateUser stores a new user; store.ErrConflict if the id or e-mail exists.
// Nil Roles are stored (and returned) as an empty, non-nil slice.
func (m *Store) CreateUser(ctx context.Context, u store.User) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if _, ok := m.users[u.ID]; ok {
		return fmt.Errorf("memstore: user id: %w", store.ErrConflict)
	}
	if _, ok := m.byEmail[u.Email]; ok {
		return fmt.Errorf("memstore: user email: %w", store.ErrConflict)
	}
	u = cloneUser(u)
	u.CreatedAt = utc(u.CreatedAt)
	m.users[u.ID] = u
	m.byEmail[u.Email] = u.ID
	return nil
}

// UserByEmail finds a user by e-mail (exact match; the core normalises), or
// store.ErrNotFound.
func (m *Store) UserByEmail(ctx context.Context, email string) (store.User, error) {
	if err := m.lock(ctx); err != nil {
		return store.User{}, err
	}
	defer m.mu.Unlock()
	id, ok := m.byEmail[email]
	if !ok {
		return store.User{}, store.ErrNotFound
	}
	return cloneUser(m.users[id]), nil
}

// UserByID finds a user by id, or store.ErrNotFound.
func (m *Store) UserByID(ctx context.Context, id string) (store.User, error) {
	if err := m.lock(ctx); err != nil {
		return store.User{}, err
	}
	defer m.mu.Unlock()
	u, ok := m.users[id]
	if !ok {
		return store.User{}, store.ErrNotFound
	}
	return cloneUser(u), nil
}

// UpdateUser replaces the stored user with the same id: Email, PasswordHash,
// Roles, Disabled and Locked. CreatedAt is kept as stored. It returns
// store.ErrNotFound if the id is absent and store.ErrConflict if the new
// e-mail belongs to another user.
func (m *Store) UpdateUser(ctx context.Context, u store.User) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	old, ok := m.users[u.ID]
	if !ok {
		return store.ErrNotFound
	}
	if u.Email != old.Email {
		if _, taken := m.byEmail[u.Email]; taken {
			return fmt.Errorf("memstore: user email: %w", store.ErrConflict)
		}
		delete(m.byEmail, old.Email)
		m.byEmail[u.Email] = u.ID
	}
	u = cloneUser(u)
	u.CreatedAt = old.CreatedAt
	m.users[u.ID] = u
	return nil
}

// CountUsers returns how many users exist.
func (m *Store) CountUsers(ctx context.Context) (int, error) {
	if err := m.lock(ctx); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	return len(m.users), nil
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
	m.sessions, m.bySubject, m.tokens, m.feed = nil, nil, nil, nil
	m.throttle, m.users, m.byEmail = nil, nil, nil
	return nil
}
