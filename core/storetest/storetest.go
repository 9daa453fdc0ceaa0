// Package storetest is the conformance suite of the store contract (package
// store). Every store implementation runs it unchanged:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			st, err := mystore.Open(...) // fresh, isolated state
//			if err != nil {
//				t.Fatal(err)
//			}
//			return st
//		})
//	}
//
// Every subtest calls newStore once and must get an empty store that shares
// no state with any other (a fresh SQLite file in t.TempDir(), a fresh
// database or key prefix, ...). The suite closes the store when the subtest
// ends; a factory may register its own cleanup as well, so Close must tolerate
// being called twice (returning an error is fine, panicking is not).
//
// Times: stores may truncate times to the millisecond, and must return them in
// UTC. The suite compares times after Truncate(time.Millisecond) and uses
// millisecond-aligned instants wherever a truncation could change an outcome.
//
// Semantics the contract leaves open and the suite pins down (every store
// behaves the same way, so the core can rely on it):
//
//   - "active" in RevokeSession and RevokeSubject means [store.Session.Active]
//     at the given time: a session already past a deadline is not revoked
//     again and is not counted;
//   - Change.At is the time of every change kind: RotatedAt and LastUsedAt
//     for ChangeRotate, LastUsedAt for ChangeReplay, RevokedAt for
//     ChangeRevoke; a ChangeRevoke with a zero At still leaves RevokedAt
//     non-zero (the store's clock is used) so a revoked session can never look
//     active;
//   - ChangeRevoke on a session that is already revoked writes nothing,
//     appends nothing to the feed, and Rotate reports ChangeNone as the change
//     applied;
//   - ChangeRotate whose NewTokenHash already exists fails with ErrConflict
//     and writes nothing;
//   - a store may call decide more than once in one Rotate (a transaction
//     retried after a lock conflict, say), but the Change it applies must
//     come from a decide call that saw the state the Change is applied to;
//   - Prune compares strictly: a deadline or revocation equal to cutoff is
//     kept; sequence numbers are never reused after a Prune;
//   - a nil and an empty Successor are the same (a store may return either);
//   - User.Roles come back as a non-nil slice (empty when none), in order;
//     UpdateUser replaces Email, PasswordHash, Roles, Disabled and Locked
//     (ErrConflict when the new e-mail belongs to another user) and keeps
//     CreatedAt;
//   - a call with an already cancelled context returns an error, and Rotate
//     then does not call decide; calls after Close return errors.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/authguard/authguard/core/store"
)

// Run runs the whole conformance suite against the stores newStore returns:
// the store contract itself, then the core's refresh-token rules end to end
// over the store (RunService).
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	s := &suite{newStore: newStore}
	groups := []struct {
		name  string
		tests []subtest
	}{
		{"Sessions", sessionTests},
		{"Rotate", rotateTests},
		{"Revocation", revocationTests},
		{"Prune", pruneTests},
		{"Throttle", throttleTests},
		{"Users", userTests},
		{"Lifecycle", lifecycleTests},
		{"Concurrency", concurrencyTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) { tc.fn(t, s.open(t)) })
			}
		})
	}
	t.Run("Service", func(t *testing.T) { RunService(t, newStore) })
}

type subtest struct {
	name string
	fn   func(t *testing.T, st store.Store)
}

type suite struct {
	newStore func(t *testing.T) store.Store
}

func (s *suite) open(t *testing.T) store.Store {
	t.Helper()
	st := s.newStore(t)
	if st == nil {
		t.Fatal("storetest: newStore returned nil")
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// t0 is a millisecond-aligned base instant for the suite.
var t0 = time.Date(2031, time.March, 4, 5, 6, 7, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// digest returns a 32-byte digest standing for a refresh-token digest.
func digest(parts ...any) []byte {
	var b strings.Builder
	for _, p := range parts {
		fmt.Fprintf(&b, "%v\x00", p)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return sum[:]
}

// newSession returns an active session created at created, idle deadline one
// hour later, absolute deadline one day later.
func newSession(id, subject string, created time.Time) store.Session {
	return store.Session{
		ID:                id,
		Subject:           subject,
		DeviceName:        "device " + id,
		IP:                "192.0.2.7",
		UserAgent:         "storetest/1.0",
		AuthTime:          created.Add(-time.Second),
		CreatedAt:         created,
		LastUsedAt:        created,
		IdleExpiresAt:     created.Add(time.Hour),
		AbsoluteExpiresAt: created.Add(24 * time.Hour),
	}
}

func mustCreate(t *testing.T, st store.Store, s store.Session, hash []byte) {
	t.Helper()
	if err := st.CreateSession(t.Context(), s, hash); err != nil {
		t.Fatalf("CreateSession(%q): %v", s.ID, err)
	}
}

func mustSession(t *testing.T, st store.Store, id string) store.Session {
	t.Helper()
	s, err := st.Session(t.Context(), id)
	if err != nil {
		t.Fatalf("Session(%q): %v", id, err)
	}
	return s
}

func ms(t time.Time) time.Time { return t.Truncate(time.Millisecond) }

// sameTime reports whether a store-returned time got matches want at
// millisecond precision, is in UTC when non-zero, and is zero iff want is.
func sameTime(got, want time.Time) bool {
	if got.IsZero() != want.IsZero() {
		return false
	}
	if got.IsZero() {
		return true
	}
	return got.Location() == time.UTC && ms(got).Equal(ms(want))
}

// diffSession describes the differences between got and want ("" if none).
func diffSession(got, want store.Session) string {
	var d []string
	str := func(name, g, w string) {
		if g != w {
			d = append(d, fmt.Sprintf("%s = %q, want %q", name, g, w))
		}
	}
	tm := func(name string, g, w time.Time) {
		if !sameTime(g, w) {
			d = append(d, fmt.Sprintf("%s = %v (loc %v), want %v", name, g, g.Location(), w))
		}
	}
	str("ID", got.ID, want.ID)
	str("Subject", got.Subject, want.Subject)
	str("DeviceName", got.DeviceName, want.DeviceName)
	str("IP", got.IP, want.IP)
	str("UserAgent", got.UserAgent, want.UserAgent)
	str("RevokeReason", got.RevokeReason, want.RevokeReason)
	tm("AuthTime", got.AuthTime, want.AuthTime)
	tm("CreatedAt", got.CreatedAt, want.CreatedAt)
	tm("LastUsedAt", got.LastUsedAt, want.LastUsedAt)
	tm("IdleExpiresAt", got.IdleExpiresAt, want.IdleExpiresAt)
	tm("AbsoluteExpiresAt", got.AbsoluteExpiresAt, want.AbsoluteExpiresAt)
	tm("RevokedAt", got.RevokedAt, want.RevokedAt)
	tm("RotatedAt", got.RotatedAt, want.RotatedAt)
	if got.Generation != want.Generation {
		d = append(d, fmt.Sprintf("Generation = %d, want %d", got.Generation, want.Generation))
	}
	if got.GraceReplays != want.GraceReplays {
		d = append(d, fmt.Sprintf("GraceReplays = %d, want %d", got.GraceReplays, want.GraceReplays))
	}
	if !bytes.Equal(got.Successor, want.Successor) {
		d = append(d, fmt.Sprintf("Successor = %x, want %x", got.Successor, want.Successor))
	}
	return strings.Join(d, "; ")
}

func checkSession(t *testing.T, what string, got, want store.Session) {
	t.Helper()
	if d := diffSession(got, want); d != "" {
		t.Errorf("%s: %s", what, d)
	}
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
func isConflict(err error) bool { return errors.Is(err, store.ErrConflict) }

// rotateTo returns a decide that rotates to newHash at when, whatever it sees.
func rotateTo(newHash, successor []byte, when time.Time, idle time.Time) store.Decide {
	return func(store.Session, int64) store.Change {
		return store.Change{Kind: store.ChangeRotate, NewTokenHash: newHash, Successor: successor, At: when, IdleExpiresAt: idle}
	}
}

func fixed(c store.Change) store.Decide {
	return func(store.Session, int64) store.Change { return c }
}

// rotate applies a decide and fails the test on error.
func rotate(t *testing.T, st store.Store, hash []byte, decide store.Decide) (store.Session, store.Change) {
	t.Helper()
	s, ch, err := st.Rotate(t.Context(), hash, decide)
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	return s, ch
}

func feed(t *testing.T, st store.Store, after int64, limit int) []store.Revocation {
	t.Helper()
	r, err := st.Revocations(t.Context(), after, limit)
	if err != nil {
		t.Fatalf("Revocations(%d, %d): %v", after, limit, err)
	}
	return r
}

func lastSeq(t *testing.T, st store.Store) int64 {
	t.Helper()
	r := feed(t, st, 0, 0)
	if len(r) == 0 {
		return 0
	}
	return r[len(r)-1].Seq
}

func cancelledCtx() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
