package pgstore

import (
	"context"
	"testing"
	"time"

	"github.com/authguard/authguard/core/store"
)

// A revocation whose commit is slow (here: a trigger sleeps after its feed
// entry took its seq) must not be overtaken by a later one: a reader that
// follows the feed with a cursor would move past the slow entry's seq
// before the entry is visible, and never see it. The feed lock makes the
// later revocation wait for the earlier commit.
func TestFeedSlowCommitNotOvertaken(t *testing.T) {
	st, pool := newTestStore(t)
	ctx := context.Background()
	s := st.q.schema
	for _, q := range []string{
		`CREATE FUNCTION ` + s + `.slow_commit() RETURNS trigger LANGUAGE plpgsql AS
			$$ BEGIN PERFORM pg_sleep(0.5); RETURN NULL; END $$`,
		`CREATE TRIGGER slow_commit AFTER INSERT ON ` + s + `.revocations FOR EACH ROW
			WHEN (NEW.session_id = 'slow') EXECUTE FUNCTION ` + s + `.slow_commit()`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	sess := func(id string) store.Session {
		return store.Session{ID: id, Subject: "alice", CreatedAt: now, LastUsedAt: now,
			IdleExpiresAt: now.Add(time.Hour), AbsoluteExpiresAt: now.Add(24 * time.Hour), Version: 1}
	}
	revoke := func(id string) error {
		s := sess(id)
		s.RevokedAt, s.RevokeReason, s.Version = now, "logout", 2
		return st.UpdateSession(ctx, store.Update{Session: s, Version: 1, Revoked: true})
	}
	for _, id := range []string{"slow", "fast"} {
		if err := st.CreateSession(ctx, sess(id)); err != nil {
			t.Fatal(err)
		}
	}
	slowDone := make(chan error, 1)
	go func() { slowDone <- revoke("slow") }()
	// Wait until the slow entry has its seq (sequences are not transactional).
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		var called bool
		err := pool.QueryRow(ctx, `SELECT is_called FROM `+s+`.revocations_seq_seq`).Scan(&called)
		if err != nil {
			t.Fatal(err)
		}
		if called {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow revocation never took a seq")
		}
	}
	if err := revoke("fast"); err != nil {
		t.Fatal(err)
	}
	// An instance reads the feed now, as a wake for "fast" makes it do.
	seen := map[string]bool{}
	var cursor int64
	read := func() {
		revs, err := st.Revocations(ctx, cursor, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range revs {
			seen[r.SessionID], cursor = true, max(cursor, r.Seq)
		}
	}
	read()
	if err := <-slowDone; err != nil {
		t.Fatal(err)
	}
	read()
	if !seen["slow"] || !seen["fast"] {
		t.Fatalf("a reader following the feed saw %v: the slow revocation was overtaken and is lost to it", seen)
	}
}
