package sqlitestore_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/authguard/authguard/core/store"
	sqlitestore "github.com/authguard/authguard/stores/sqlite"
)

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "sqlitestore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(dir, "authguard.db"),
		sqlitestore.WithBusyTimeout(2*time.Second))
	if err != nil {
		log.Fatal(err)
	}
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
	fmt.Println("schema version", sqlitestore.SchemaVersion)
	// Output:
	// true
	// sess-1 user-1 2 true
	// schema version 4
}
