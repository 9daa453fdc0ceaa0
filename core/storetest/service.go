package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/store"
)

// RunService runs the refresh-token rules of the core end to end over stores
// built by newStore: rotation, grace replays, reuse detection, idle and
// absolute expiry, revocation and its propagation, bounded storage, and what
// a failing store or user lookup does to a client that only retries. Run calls
// it; it is exported for stores that want to run it alone. Every case gets a
// fresh store and a fresh fixture, and says why it exists.
func RunService(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	for _, tc := range serviceCases {
		t.Run("service/"+tc.name, func(t *testing.T) { tc.fn(t, newStore) })
	}
	for _, tc := range attackCases {
		t.Run("attack/"+tc.name, func(t *testing.T) { tc.fn(t, newStore) })
	}
}

type serviceCase struct {
	name string
	fn   func(t *testing.T, newStore func(t *testing.T) store.Store)
}

var serviceCases = []serviceCase{
	// The rules of the state machine, one by one.
	{"rotation_issues_new_token", testRotation},
	{"grace_replay_returns_same_successor", testGraceReplay},
	{"grace_replays_are_bounded_and_revoke_nothing", testGraceBounded},
	{"reuse_after_window_revokes_session", testReuseAfterWindow},
	{"reuse_of_older_generation_revokes_session", testReuseOlder},
	{"idle_expiry", testIdleExpiry},
	{"absolute_expiry_not_extended_by_rotation", testAbsoluteExpiry},
	{"access_token_never_outlives_session", testAccessWithinSession},
	// Tokens that are not genuine reach no session.
	{"forged_tokens_revoke_nothing", testForgedTokens},
	{"storage_bounded_and_old_generations_still_reuse", testBoundedStorage},
	// Revocation.
	{"logout_revokes_at_once_and_is_idempotent", testLogout},
	{"revoke_subject_ends_every_session", testRevokeSubject},
	{"revocation_reaches_other_instance_through_feed", testFeedPropagation},
	{"disabled_user_refresh_revokes_session", testDisabledUser},
	// Concurrency.
	{"concurrent_refresh_one_lineage", testConcurrentRefresh},
	// Faults: a 503 never logs out a client that only retries.
	{"fault_user_lookup_fails", testFaultLookup},
	{"fault_store_fails_on_write", testFaultBeforeWrite},
	{"fault_store_fails_after_write", testFaultAfterWrite},
	{"fault_store_down_is_unavailable_not_logout", testStoreDown},
}

// fixture is a service over a fresh store with the demo users.
type fixture struct {
	*authtest.Fixture
	t *testing.T
}

func newFixture(t *testing.T, newStore func(t *testing.T) store.Store, edit func(*core.Config)) *fixture {
	t.Helper()
	return &fixture{Fixture: authtest.New(t, authtest.Options{Store: newStore(t), Config: edit}), t: t}
}

func (f *fixture) login() *core.TokenResponse {
	f.t.Helper()
	tr, err := f.Service.Login(context.Background(), core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password,
		DeviceName: "phone", Client: core.ClientInfo{IP: "192.0.2.7", UserAgent: "storetest"}})
	if err != nil {
		f.t.Fatalf("login: %v", err)
	}
	return tr
}

func (f *fixture) refresh(rt string) (*core.TokenResponse, error) {
	return f.Service.Refresh(context.Background(), rt, core.ClientInfo{IP: "192.0.2.7"})
}

func (f *fixture) mustRefresh(rt string) *core.TokenResponse {
	f.t.Helper()
	tr, err := f.refresh(rt)
	if err != nil {
		f.t.Fatalf("refresh: %v", err)
	}
	return tr
}

// wantGrant fails unless err is invalid_grant with the given log reason ("" = any).
func (f *fixture) wantGrant(err error, reason string) {
	f.t.Helper()
	if !errors.Is(err, core.ErrInvalidGrant) {
		f.t.Fatalf("got %v, want invalid_grant", err)
	}
	if reason != "" && core.ReasonOf(err) != reason {
		f.t.Fatalf("reason %q, want %q", core.ReasonOf(err), reason)
	}
}

// wantUnavailable fails unless err is a 503.
func (f *fixture) wantUnavailable(err error) {
	f.t.Helper()
	if !errors.Is(err, core.ErrUnavailable) {
		f.t.Fatalf("got %v, want temporarily_unavailable", err)
	}
}

// alive reports whether the guard accepts the access token.
func (f *fixture) alive(at string) bool {
	f.t.Helper()
	_, err := f.Service.Authenticate(context.Background(), at)
	if err != nil && !errors.Is(err, core.ErrInvalidToken) {
		f.t.Fatalf("authenticate: unexpected %v", err)
	}
	return err == nil
}

// session returns the stored session behind a token response.
func (f *fixture) session(tr *core.TokenResponse) store.Session {
	f.t.Helper()
	s, err := f.Store.Session(context.Background(), tr.SessionID)
	if err != nil {
		f.t.Fatalf("Session(%q): %v", tr.SessionID, err)
	}
	return s
}

func withSharedKeys(f *authtest.Fixture, st store.Store) core.Config {
	cfg := f.Service.Config()
	cfg.Store = st
	cfg.Throttle = nil
	return cfg
}

func containsEvent(log, event string) bool {
	return strings.Contains(log, `"event":"`+event+`"`)
}
