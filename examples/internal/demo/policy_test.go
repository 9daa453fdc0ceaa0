package demo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/httpauth"
	"github.com/authguard/authguard/examples/internal/servicetest"
	"github.com/authguard/authguard/rbac"
)

// policyHandler mounts the contract, the role administration and the
// guarded demo routes on a net/http mux.
func policyHandler(app *App) http.Handler {
	mux := http.NewServeMux()
	httpauth.Mount(mux, app.Service)
	httpauth.MountRoleAdmin(mux, app.Service, app.Roles)
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.Handle("GET "+PathAdminStats, httpauth.RequireRole(app.Service, RoleAdmin)(ok))
	mux.Handle("GET "+PathReports, httpauth.RequirePermission(app.Service, ObjectReports, ActionRead)(ok))
	mux.Handle("DELETE "+PathReports+"/{id}", httpauth.RequirePermission(app.Service, ObjectReports, ActionDelete)(ok))
	return httpauth.ExactPaths(app.Service, mux)
}

// The demo policy: user may read reports, admin inherits user and may also
// delete them and read and write roles; nobody else may do anything.
func TestPolicy(t *testing.T) {
	t.Parallel()
	app := openApp(t, testConfig(t, nil), &authtest.LogBuffer{})
	ctx := context.Background()
	ids := map[string]string{}
	for _, email := range []string{"admin@example.com", "user@example.com"} {
		u, err := app.store.UserByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		ids[email] = u.ID
	}
	for _, tc := range []struct {
		sub, object, action string
		ok                  bool
	}{
		{ids["user@example.com"], ObjectReports, ActionRead, true},
		{ids["user@example.com"], ObjectReports, ActionDelete, false},
		{ids["user@example.com"], "roles", "read", false},
		{ids["admin@example.com"], ObjectReports, ActionRead, true},
		{ids["admin@example.com"], ObjectReports, ActionDelete, true},
		{ids["admin@example.com"], "roles", "write", true},
		{"someone-else", ObjectReports, ActionRead, false},
	} {
		// The token's roles claim does not count: only the policy does.
		ok, err := app.Authorizer.Authorize(ctx, &core.Principal{Subject: tc.sub, Roles: []string{"admin"}}, tc.object, tc.action)
		if err != nil || ok != tc.ok {
			t.Errorf("%s %s %s: %v %v, want %v", tc.sub, tc.object, tc.action, ok, err, tc.ok)
		}
	}
}

// testPolicyFlow: a role given and taken through the administration
// endpoints decides the very next request of the same instance; on the
// stores that keep the policy (SQLite, PostgreSQL) an instance opened later
// reads the change from the store.
func testPolicyFlow(t *testing.T, storeURL, wantSource string) {
	cfg := testConfig(t, map[string]string{})
	if storeURL != "" {
		cfg = testConfig(t, map[string]string{EnvStore: storeURL})
	}
	app := openApp(t, cfg, &authtest.LogBuffer{})
	if app.PolicySource != wantSource {
		t.Fatalf("policy source %q, want %q", app.PolicySource, wantSource)
	}
	srv := httptest.NewServer(policyHandler(app))
	defer srv.Close()
	adm := login(t, app, "admin@example.com", DefaultDemoPassword).AccessToken
	usr := login(t, app, "user@example.com", DefaultDemoPassword).AccessToken
	u, err := app.store.UserByEmail(context.Background(), "user@example.com")
	if err != nil {
		t.Fatal(err)
	}
	roles := "/auth/admin/roles/" + u.ID
	var got struct {
		Subject string   `json:"subject"`
		Roles   []string `json:"roles"`
	}
	call(t, srv, http.MethodGet, roles, adm, nil, http.StatusOK, &got)
	if got.Subject != u.ID || len(got.Roles) != 1 || got.Roles[0] != "user" {
		t.Fatalf("roles of the demo user: %+v", got)
	}
	call(t, srv, http.MethodGet, roles, usr, nil, http.StatusForbidden, nil)
	call(t, srv, http.MethodGet, PathAdminStats, usr, nil, http.StatusForbidden, nil)
	call(t, srv, http.MethodPut, roles+"/admin", adm, nil, http.StatusNoContent, nil)
	call(t, srv, http.MethodGet, PathAdminStats, usr, nil, http.StatusOK, nil)
	call(t, srv, http.MethodDelete, PathReports+"/1", usr, nil, http.StatusOK, nil)
	call(t, srv, http.MethodPut, roles+"/superuser", adm, nil, http.StatusBadRequest, nil)
	call(t, srv, http.MethodGet, "/auth/admin/roles/no-such-user", adm, nil, http.StatusNotFound, nil)

	later := openApp(t, cfg, &authtest.LogBuffer{})
	has, err := later.Authorizer.HasAnyRole(context.Background(), &core.Principal{Subject: u.ID}, RoleAdmin)
	if err != nil || has != (wantSource == PolicyInStore) {
		t.Fatalf("a later instance: user holds admin = %v (%v), policy %s", has, err, wantSource)
	}

	call(t, srv, http.MethodDelete, roles+"/admin", adm, nil, http.StatusNoContent, nil)
	call(t, srv, http.MethodDelete, roles+"/user", adm, nil, http.StatusNoContent, nil)
	// the token still lists "user": the policy no longer does
	call(t, srv, http.MethodGet, PathAdminStats, usr, nil, http.StatusForbidden, nil)
	call(t, srv, http.MethodGet, PathReports, usr, nil, http.StatusForbidden, nil)
	call(t, srv, http.MethodGet, PathReports, adm, nil, http.StatusOK, nil)
}

func TestPolicyFlowSQLite(t *testing.T) { t.Parallel(); testPolicyFlow(t, "", PolicyInStore) }

func TestPolicyFlowMemory(t *testing.T) { t.Parallel(); testPolicyFlow(t, "memory:", PolicyEmbedded) }

func TestPolicyFlowRedis(t *testing.T) {
	t.Parallel()
	testPolicyFlow(t, servicetest.RedisURL(t, RedisPrefixParam), PolicyInStore)
}

func TestPolicyFlowPostgres(t *testing.T) {
	t.Parallel()
	testPolicyFlow(t, servicetest.PostgresURL(t, PostgresSchemaParam), PolicyInStore)
}

func TestPolicySeedConcurrentSQLite(t *testing.T) { t.Parallel(); testPolicySeedConcurrent(t, "") }

func TestPolicySeedConcurrentRedis(t *testing.T) {
	t.Parallel()
	testPolicySeedConcurrent(t, servicetest.RedisURL(t, RedisPrefixParam))
}

func TestPolicySeedConcurrentPostgres(t *testing.T) {
	t.Parallel()
	testPolicySeedConcurrent(t, servicetest.PostgresURL(t, PostgresSchemaParam))
}

// testPolicySeedConcurrent: four instances start at once on a fresh store:
// all start, the store holds the default policy and the demo users' roles
// once, and every instance enforces it. A role taken away afterwards stays
// taken away when an instance starts again (the seed never writes over a
// stored policy).
func testPolicySeedConcurrent(t *testing.T, storeURL string) {
	cfg := testConfig(t, nil)
	if storeURL != "" {
		cfg = testConfig(t, map[string]string{EnvStore: storeURL})
	}
	apps := make([]*App, 4)
	errs := make([]error, len(apps))
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range apps {
		wg.Go(func() {
			start.Wait()
			apps[i], errs[i] = Open(context.Background(), cfg, nil)
		})
	}
	start.Done()
	wg.Wait()
	for i, app := range apps {
		if app != nil {
			t.Cleanup(func() { _ = app.Close() })
		}
		if errs[i] != nil {
			t.Fatalf("instance %d: %v", i, errs[i])
		}
	}
	ctx := context.Background()
	ids := map[string]string{}
	for _, du := range DemoUsers {
		u, err := apps[0].store.UserByEmail(ctx, du.Email)
		if err != nil {
			t.Fatal(err)
		}
		ids[du.Email] = u.ID
	}
	sp, _, err := apps[0].policy.adapter()
	if err != nil {
		t.Fatal(err)
	}
	stored, err := rbac.NewEnforcer(rbac.ModelRBAC, sp)
	if err != nil {
		t.Fatal(err)
	}
	def, err := seedModel(rbac.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := stored.GetPolicy()
	g, _ := stored.GetGroupingPolicy()
	if want := len(def["p"]["p"].Policy); len(p) != want {
		t.Fatalf("%d permission rules stored, want %d: %v", len(p), want, p)
	}
	if want := len(def["g"]["g"].Policy) + len(DemoUsers); len(g) != want {
		t.Fatalf("%d role rules stored, want %d (each once): %v", len(g), want, g)
	}
	for i, app := range apps {
		if app.PolicySource != PolicyInStore {
			t.Fatalf("instance %d: policy %q", i, app.PolicySource)
		}
		// The instance that created the demo users stores their roles after
		// another one's seed, which the others' watchers load within a
		// second, as any change.
		for _, du := range DemoUsers {
			for deadline := time.Now().Add(time.Second); ; time.Sleep(10 * time.Millisecond) {
				has, err := app.Authorizer.HasAnyRole(ctx, &core.Principal{Subject: ids[du.Email]}, du.Roles...)
				if err == nil && has {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("instance %d: %s holds %v = %v (%v) a second after the start", i, du.Email, du.Roles, has, err)
				}
			}
		}
	}

	// A live change survives a restart.
	user := ids["user@example.com"]
	if err := sp.RemovePolicyCtx(ctx, "g", "g", []string{user, RoleUser}); err != nil {
		t.Fatal(err)
	}
	later := openApp(t, cfg, &authtest.LogBuffer{})
	if has, err := later.Authorizer.HasAnyRole(ctx, &core.Principal{Subject: user}, RoleUser); err != nil || has {
		t.Fatalf("after a restart the user holds %s again: %v %v", RoleUser, has, err)
	}
}
