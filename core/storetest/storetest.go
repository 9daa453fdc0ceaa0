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
//   - a store persists a session exactly as it is given, every field, and
//     fills in nothing: no clock of its own, no field kept from the stored
//     state by UpdateSession, no branch on what kind of change a write is;
//   - a nil and an empty byte slice (TokenDigest, SecretDigest, Successor)
//     are the same (a store may return either);
//   - a refused write (ErrConflict, ErrStale, ErrNotFound, an error from a
//     cancelled context or a closed store) writes nothing, feed included;
//   - Prune compares strictly: a deadline or revocation equal to cutoff is
//     kept; sequence numbers are never reused after a Prune;
//   - User.Roles come back as a non-nil slice (empty when none), in order;
//     UpdateUser replaces Email, PasswordHash, Roles, Disabled and Locked
//     (ErrConflict when the new e-mail belongs to another user) and keeps
//     CreatedAt; UpdatePasswordHash compares the stored hash byte for byte,
//     tells ErrStale (the user exists, its hash changed) from ErrNotFound,
//     and writes the hash alone;
//   - the optional interfaces (store.UserCounter, store.Pinger,
//     store.Footprinter) are tested when a store implements them; a
//     Footprinter's footprint does not grow with the writes of a session.
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
		{"Update", updateTests},
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

// digest returns a 32-byte digest standing for a token or secret digest.
func digest(parts ...any) []byte {
	var b strings.Builder
	for _, p := range parts {
		fmt.Fprintf(&b, "%v\x00", p)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return sum[:]
}

// newSession returns an active session at version 1 with every field that a
// login sets: created at created, idle deadline one hour later, absolute
// deadline one day later, generation 0 with its token and secret digests.
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
		TokenDigest:       digest(id, "token", 0),
		SecretDigest:      digest(id, "secret"),
		Version:           1,
	}
}

// rotated returns the state the core would write for a rotation of s at
// when: the next generation, its digest and sealed successor, the previous
// token's retry window open, and the next version.
func rotated(s store.Session, when time.Time) store.Session {
	n := s
	n.Generation++
	n.TokenDigest = digest(s.ID, "token", n.Generation)
	n.Successor = digest(s.ID, "successor", n.Generation)
	n.RotatedAt = when
	n.LastUsedAt = when
	n.IdleExpiresAt = when.Add(time.Hour)
	n.GraceReplays = 0
	n.RetryOpen = true
	n.Version++
	return n
}

// revoked returns the state the core would write to revoke s at when.
func revoked(s store.Session, when time.Time, reason string) store.Session {
	n := s
	n.RevokedAt = when
	n.RevokeReason = reason
	n.Version++
	return n
}

// update writes next over the version before it (next.Version-1).
func update(ctx context.Context, st store.Store, next store.Session, revoke bool) error {
	return st.UpdateSession(ctx, store.Update{Session: next, Version: next.Version - 1, Revoked: revoke})
}

func mustUpdate(t testing.TB, st store.Store, next store.Session, revoke bool) {
	t.Helper()
	if err := update(context.Background(), st, next, revoke); err != nil {
		t.Fatalf("UpdateSession(%q, version %d -> %d, revoked %v): %v", next.ID, next.Version-1, next.Version, revoke, err)
	}
}

func mustCreate(t testing.TB, st store.Store, s store.Session) {
	t.Helper()
	if err := st.CreateSession(context.Background(), s); err != nil {
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
	num := func(name string, g, w int64) {
		if g != w {
			d = append(d, fmt.Sprintf("%s = %d, want %d", name, g, w))
		}
	}
	byt := func(name string, g, w []byte) {
		if !bytes.Equal(g, w) {
			d = append(d, fmt.Sprintf("%s = %x, want %x", name, g, w))
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
	num("Generation", got.Generation, want.Generation)
	num("GraceReplays", int64(got.GraceReplays), int64(want.GraceReplays))
	num("Version", got.Version, want.Version)
	byt("TokenDigest", got.TokenDigest, want.TokenDigest)
	byt("SecretDigest", got.SecretDigest, want.SecretDigest)
	byt("Successor", got.Successor, want.Successor)
	if got.RetryOpen != want.RetryOpen {
		d = append(d, fmt.Sprintf("RetryOpen = %v, want %v", got.RetryOpen, want.RetryOpen))
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
func isStale(err error) bool    { return errors.Is(err, store.ErrStale) }

func feed(t *testing.T, st store.Store, after int64, limit int) []store.Revocation {
	t.Helper()
	r, err := st.Revocations(t.Context(), after, limit)
	if err != nil {
		t.Fatalf("Revocations(%d, %d): %v", after, limit, err)
	}
	return r
}

func cancelledCtx() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
