package demo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/httpauth"
	"github.com/authguard/authguard/examples/internal/servicetest"
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
	testPolicyFlow(t, servicetest.RedisURL(t, RedisPrefixParam), PolicyEmbedded)
}

func TestPolicyFlowPostgres(t *testing.T) {
	t.Parallel()
	testPolicyFlow(t, servicetest.PostgresURL(t, PostgresSchemaParam), PolicyInStore)
}
