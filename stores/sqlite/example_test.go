package sqlitestore_test

import (
	"context"
	"crypto/sha256"
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

	// The store only ever sees digests of refresh tokens.
	digest := sha256.Sum256([]byte("an opaque refresh token"))
	now := time.Date(2031, 1, 1, 12, 0, 0, 0, time.UTC)
	err = st.CreateSession(ctx, store.Session{
		ID: "sess-1", Subject: "user-1", CreatedAt: now, LastUsedAt: now,
		IdleExpiresAt: now.Add(time.Hour), AbsoluteExpiresAt: now.Add(24 * time.Hour),
	}, digest[:])
	if err != nil {
		log.Fatal(err)
	}
	s, gen, err := st.SessionByToken(ctx, digest[:])
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.ID, s.Subject, gen, s.Active(now))
	fmt.Println("schema version", sqlitestore.SchemaVersion)
	// Output:
	// sess-1 user-1 0 true
	// schema version 1
}
