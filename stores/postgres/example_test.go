package pgstore_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"testing"
	"time"

	"github.com/authguard/authguard/core/store"
	pgstore "github.com/authguard/authguard/stores/postgres"
	"github.com/jackc/pgx/v5/pgxpool"
)

// New takes a pool the application owns; every instance of the application
// may call it at once on the same database.
func ExampleNew() {
	ctx := context.Background()
	url := os.Getenv("AUTHGUARD_POSTGRES_URL")
	if url == "" {
		url = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	// The pool is the application's: the store uses it and never closes it.
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	st, err := pgstore.New(ctx, pool, pgstore.WithSchema("authguard_example"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Exec(ctx, `DROP SCHEMA authguard_example CASCADE`) // the example cleans up after itself
	defer st.Close()
	// In a server: core.New(core.Config{Store: st, ...}).

	// The store keeps what the core hands it: digests, never tokens.
	digest := sha256.Sum256([]byte("an opaque refresh token"))
	now := time.Date(2031, 1, 1, 12, 0, 0, 0, time.UTC)
	s := store.Session{
		ID: "sess-1", Subject: "user-1", CreatedAt: now, LastUsedAt: now,
		IdleExpiresAt: now.Add(time.Hour), AbsoluteExpiresAt: now.Add(24 * time.Hour),
		TokenDigest: digest[:], Version: 1,
	}
	if err := st.CreateSession(ctx, s); err != nil {
		log.Fatal(err)
	}
	// A write applies only over the version that was read.
	next := s
	next.LastUsedAt, next.Version = now.Add(time.Minute), 2
	if err := st.UpdateSession(ctx, store.Update{Session: next, Version: 1}); err != nil {
		log.Fatal(err)
	}
	err = st.UpdateSession(ctx, store.Update{Session: next, Version: 1})
	fmt.Println(errors.Is(err, store.ErrStale))
	got, err := st.Session(ctx, "sess-1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.ID, got.Subject, got.Version, got.Active(now))
	fmt.Println("schema version", pgstore.SchemaVersion)
	// With a server, this prints:
	//  true
	//  sess-1 user-1 2 true
	//  schema version 3
	// (No Output comment, so that go test passes without a server;
	// TestExampleNew runs it against the test server and checks that output.)
}

// TestExampleNew runs ExampleNew against the test server (skipped like the
// other tests when there is none) and checks what it prints.
func TestExampleNew(t *testing.T) {
	pgstore.TestPool(t) // skips, or fails under AUTHGUARD_REQUIRE_SERVICES=1
	if os.Getenv("AUTHGUARD_POSTGRES_URL") == "" {
		t.Setenv("AUTHGUARD_POSTGRES_URL", pgstore.DefaultTestURL)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	func() {
		defer func() { os.Stdout = stdout }()
		ExampleNew()
	}()
	w.Close()
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := "true\nsess-1 user-1 2 true\nschema version 3\n"; string(out) != want {
		t.Errorf("ExampleNew printed %q, want %q", out, want)
	}
}
