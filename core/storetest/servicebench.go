package storetest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/core/token"
)

// BenchClients are the numbers of concurrent clients RunServiceBench
// measures; a raw operation must accept client indexes below the largest.
var BenchClients = []int{1, 16, 64}

// BenchRoundsEnv names the environment variable that sets how many rounds
// RunServiceBench runs (default 1). Every round measures each contender of
// a group once, alternating which goes first, so the load of a shared
// machine hits the contenders alike; the testing package names the repeats
// "refresh#01", "refresh#02" and so on.
const BenchRoundsEnv = "AUTHGUARD_BENCH_ROUNDS"

// RawOp is a store's raw operation, the yardstick of a refresh: one round
// trip of the store's cheapest write on the client or pool the store uses
// (for Redis an EVALSHA of a trivial script, for PostgreSQL a one-row
// UPDATE). client is the index of the calling client, below the largest of
// BenchClients; concurrent calls have different indexes.
type RawOp func(ctx context.Context, client int) error

// RunServiceBench measures a full refresh through core.Service over st,
// as the refresh endpoint calls it (password authenticator over st, EdDSA
// key, audit log encoded and discarded), next to raw, in the same run:
//
//   - Refresh/clients=N/refresh: N clients, each refreshing its own
//     session's current token in a loop (ns/op is wall time over all
//     clients, so 1e9/ns/op is refreshes per second);
//   - Refresh/clients=N/store: N clients making the store calls of a
//     refresh and nothing else: read the session, look its user up through
//     the password authenticator over st, and compare-and-set the rotated
//     state (a new token digest and sealed successor of a real token's
//     size, new times, the next generation and version), each client on its
//     own session;
//   - Refresh/clients=N/raw: N clients calling raw (skipped when raw is nil);
//   - FirstSight/seen: Service.Authenticate of a token whose session this
//     instance has seen live (no store read);
//   - FirstSight/first: the same for a session it has never seen (one
//     store read); first minus seen is what the first sight adds.
//
// st must be empty (the fixture creates its users in it).
func RunServiceBench(b *testing.B, st store.Store, raw RawOp) {
	f := authtest.New(b, authtest.Options{Store: st, Config: func(c *core.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
		c.LoginThrottle.DisabledUnsafe = true // the clients log in at once
	}})
	f.Clock.Set(time.Now())
	tokens := benchLogins(b, f.Service, slices.Max(BenchClients))
	refresh := func(ctx context.Context, c int) error {
		tr, err := f.Service.Refresh(ctx, tokens[c], core.ClientInfo{IP: "192.0.2.7", UserAgent: "storetest/1.0"})
		if err != nil {
			return err
		}
		tokens[c] = tr.RefreshToken
		return nil
	}
	part := storePartOp(b, f, len(tokens[0]))
	seen, fresh := firstSightOps(b, f)
	rounds := benchRounds(b)
	for r := range rounds {
		for _, n := range BenchClients {
			group := fmt.Sprintf("Refresh/clients=%d/", n)
			rows := []struct {
				name string
				op   RawOp
			}{{"refresh", refresh}, {"store", part}, {"raw", raw}}
			// Each contender goes first, second and last in turn.
			for range r % len(rows) {
				rows = append(rows[1:], rows[0])
			}
			for _, row := range rows {
				if row.op != nil {
					b.Run(group+row.name, func(b *testing.B) { runClients(b, n, row.op) })
				}
			}
		}
		b.Run("FirstSight/seen", seen)
		b.Run("FirstSight/first", fresh)
	}
}

// storePartOp returns the store's part of a refresh (the "store" row of
// RunServiceBench) over fresh sessions, one per client, whose sealed
// successors are as long as a sealed refresh token of tokenLen characters
// (AES-GCM: nonce and tag around it).
func storePartOp(b *testing.B, f *authtest.Fixture, tokenLen int) RawOp {
	n := slices.Max(BenchClients)
	sessions := f.Store.(store.Sessions)
	ids := make([]string, n)
	digests := make([][2][]byte, n)
	successor := make([]byte, 12+tokenLen+16)
	copy(successor, digest("successor"))
	for c := range ids {
		ids[c] = fmt.Sprint("store-part-", c)
		digests[c] = [2][]byte{digest(ids[c], "token", 0), digest(ids[c], "token", 1)}
		if err := sessions.CreateSession(context.Background(), newSession(ids[c], f.UserID, f.Clock.Now())); err != nil {
			b.Fatal(err)
		}
	}
	return func(ctx context.Context, c int) error {
		cur, err := sessions.Session(ctx, ids[c])
		if err != nil {
			return err
		}
		if _, err := f.Auth.Lookup(ctx, cur.Subject); err != nil {
			return err
		}
		now := time.Now()
		next := cur
		next.Generation++
		next.TokenDigest = digests[c][next.Generation%2]
		next.Successor = successor
		next.RotatedAt, next.LastUsedAt = now, now
		next.IdleExpiresAt = now.Add(time.Hour)
		next.GraceReplays, next.RetryOpen = 0, false
		next.Version++
		return sessions.UpdateSession(ctx, store.Update{Session: next, Version: cur.Version})
	}
}

// benchRounds reads BenchRoundsEnv.
func benchRounds(b *testing.B) int {
	v := os.Getenv(BenchRoundsEnv)
	if v == "" {
		return 1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		b.Fatalf("%s=%q: want a number of rounds from 1 to 1000", BenchRoundsEnv, v)
	}
	return n
}

// benchLogins logs the fixture's user in n times (two at a time: a login
// costs an Argon2id hash) and returns the refresh tokens.
func benchLogins(b *testing.B, svc *core.Service, n int) []string {
	tokens := make([]string, n)
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				tr, err := svc.Login(context.Background(), core.LoginInput{Email: authtest.UserEmail,
					Password: authtest.Password, DeviceName: fmt.Sprint("bench client ", i)})
				if err == nil {
					tokens[i] = tr.RefreshToken
				}
				errs[i] = err
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			b.Fatalf("login of bench client %d: %v", i, err)
		}
	}
	return tokens
}

// runClients runs b.N calls of op spread over n concurrent clients, each
// with its own index, and fails b on the first error.
func runClients(b *testing.B, n int, op RawOp) {
	ctx := context.Background()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		firstErr error
		errOnce  sync.Once
	)
	b.ReportAllocs()
	b.ResetTimer()
	for c := range n {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if err := op(ctx, c); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// firstSightOps returns the two FirstSight benchmarks. A first sight needs a
// session the service has never seen, so each run creates its b.N sessions
// in the store (untimed) and signs an access token for each with the
// service's key, as a login on another instance would have.
func firstSightOps(b *testing.B, f *authtest.Fixture) (seen, first func(*testing.B)) {
	var ids atomic.Int64
	cfg := f.Service.Config()
	mint := func(b *testing.B) string {
		now := f.Clock.Now()
		s := newSession(fmt.Sprint("first-sight-", ids.Add(1)), f.UserID, now)
		if err := f.Store.(store.Sessions).CreateSession(context.Background(), s); err != nil {
			b.Fatal(err)
		}
		tok, err := cfg.Keys.Sign(&token.AccessClaims{Issuer: cfg.Issuer, Subject: f.UserID, Audience: []string{cfg.Audience},
			IssuedAt: now.Unix(), ExpiresAt: now.Add(cfg.AccessTTL).Unix(), AuthTime: now.Unix(), SessionID: s.ID,
			Roles: []string{"user"}})
		if err != nil {
			b.Fatal(err)
		}
		return tok
	}
	auth := func(b *testing.B, tok string) {
		if _, err := f.Service.Authenticate(context.Background(), tok); err != nil {
			b.Fatal(err)
		}
	}
	seen = func(b *testing.B) {
		tok := mint(b)
		auth(b, tok)
		b.ReportAllocs()
		for b.Loop() {
			auth(b, tok)
		}
	}
	first = func(b *testing.B) {
		toks := make([]string, b.N)
		for i := range toks {
			toks[i] = mint(b)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			auth(b, toks[i])
		}
	}
	return seen, first
}
