package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/httpauth"
	"github.com/authguard/authguard/core/token"
	"github.com/authguard/authguard/examples/internal/servicetest"
)

// demoHandler mounts the contract and the admin-only stats route of the
// demo API on a net/http mux.
func demoHandler(app *App) http.Handler {
	mux := http.NewServeMux()
	httpauth.Mount(mux, app.Service)
	stats := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { httpauth.Write(w, app.AdminStats(r.Context())) })
	mux.Handle("GET "+PathAdminStats, httpauth.RequireRole(app.Service, RoleAdmin)(stats))
	return mux
}

// call sends a JSON request and decodes the JSON answer into out.
func call(t *testing.T, srv *httptest.Server, method, path, bearer string, body any, want int, out any) {
	t.Helper()
	var rd bytes.Buffer
	if body != nil {
		_ = json.NewEncoder(&rd).Encode(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, &rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d", method, path, resp.StatusCode, want)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

type tokens struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
}

// serveFlow logs in as the demo admin over HTTP, refreshes, and calls the
// admin-only route with the new access token; it returns that token.
func serveFlow(t *testing.T, app *App, kind string) string {
	t.Helper()
	srv := httptest.NewServer(demoHandler(app))
	defer srv.Close()
	var login, refreshed tokens
	call(t, srv, http.MethodPost, "/auth/login", "",
		map[string]string{"email": "admin@example.com", "password": DefaultDemoPassword}, http.StatusOK, &login)
	call(t, srv, http.MethodPost, "/auth/refresh", "", map[string]string{"refreshToken": login.RefreshToken}, http.StatusOK, &refreshed)
	if refreshed.AccessToken == "" || refreshed.RefreshToken == login.RefreshToken {
		t.Fatal("refresh did not rotate the tokens")
	}
	var stats AdminStats
	call(t, srv, http.MethodGet, PathAdminStats, refreshed.AccessToken, nil, http.StatusOK, &stats)
	if stats.Users != len(DemoUsers) || stats.Store != kind {
		t.Fatalf("admin stats %+v", stats)
	}
	call(t, srv, http.MethodGet, PathAdminStats, "", nil, http.StatusUnauthorized, nil)
	return refreshed.AccessToken
}

// testSharedStore opens the App twice on the store of storeURL: without
// AUTHGUARD_SIGNING_KEY each instance has its own key (with the warning)
// and refuses the other's tokens; with it they accept each other's.
func testSharedStore(t *testing.T, kind, storeURL string) {
	ctx := context.Background()
	var log authtest.LogBuffer
	first := openApp(t, testConfig(t, map[string]string{EnvStore: storeURL}), &log)
	if !first.DemoUsersCreated || first.KeySource != KeyEphemeral || first.KeyFile != "" {
		t.Fatalf("first start: demo users created %v, key %s %q", first.DemoUsersCreated, first.KeySource, first.KeyFile)
	}
	if out := log.String(); !strings.Contains(out, `"level":"WARN"`) || !strings.Contains(out, "EPHEMERAL SIGNING KEY") ||
		!strings.Contains(out, "must set "+EnvSigningKey) {
		t.Fatalf("no loud key warning: %s", out)
	}
	access := serveFlow(t, first, kind)
	second := openApp(t, testConfig(t, map[string]string{EnvStore: storeURL}), &authtest.LogBuffer{})
	if second.DemoUsersCreated {
		t.Fatal("demo users created twice")
	}
	if _, err := second.Service.Authenticate(ctx, access); err == nil {
		t.Fatal("an instance with another ephemeral key accepted the token")
	}

	keyFile := filepath.Join(t.TempDir(), "key.pem")
	k, err := token.GenerateKey(token.AlgEdDSA)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := k.MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	shared := map[string]string{EnvStore: storeURL, EnvSigningKey: keyFile}
	var keyLog authtest.LogBuffer
	a := openApp(t, testConfig(t, shared), &keyLog)
	b := openApp(t, testConfig(t, shared), &authtest.LogBuffer{})
	if strings.Contains(keyLog.String(), "EPHEMERAL") {
		t.Fatalf("warned although %s is set: %s", EnvSigningKey, keyLog.String())
	}
	if _, err := b.Service.Authenticate(ctx, serveFlow(t, a, kind)); err != nil {
		t.Fatalf("instances sharing %s refuse each other's tokens: %v", EnvSigningKey, err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

func TestRedisStore(t *testing.T) {
	t.Parallel()
	testSharedStore(t, StoreRedis, servicetest.RedisURL(t, RedisPrefixParam))
}

func TestPostgresStore(t *testing.T) {
	t.Parallel()
	testSharedStore(t, StorePostgres, servicetest.PostgresURL(t, PostgresSchemaParam))
}

// A store that cannot be opened is an error naming the variable, without
// the URL's password, and nothing falls back to another store.
func TestUnopenableStoresAreErrors(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"redis://:pw-redis@127.0.0.1:1/0",
		"redis://:pw-redis@127.0.0.1:6379/0?prefix=%7Bbad%7D",
		"redis://:pw-redis@127.0.0.1:6379/0?bogus=1",
		"postgres://u:pw-pg@127.0.0.1:1/test?sslmode=disable&connect_timeout=2",
		"postgres://u:pw-pg@127.0.0.1:5432/test?sslmode=disable&schema=Bad-Name",
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		app, err := Open(ctx, testConfig(t, map[string]string{EnvStore: s}), nil)
		cancel()
		if err == nil {
			app.Close()
			t.Fatalf("%s: opened", s)
		}
		if !strings.Contains(err.Error(), EnvStore) {
			t.Errorf("%s: error names no variable: %q", s, err)
		}
		if strings.Contains(err.Error(), "pw-") {
			t.Errorf("error shows the password: %q", err)
		}
	}
}
