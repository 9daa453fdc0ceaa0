package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/httpauth"
	"github.com/authguard/authguard/core/token"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// serviceURL returns the URL of a test server: the variable env when set,
// else def when something answers at addr. Without a server the test is
// skipped, or fails when AUTHGUARD_REQUIRE_SERVICES=1.
func serviceURL(t *testing.T, env, def, addr string) string {
	t.Helper()
	if u := os.Getenv(env); u != "" {
		return u
	}
	c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err == nil {
		_ = c.Close()
		return def
	}
	msg := env + " is unset and nothing answers at " + addr + ": " + err.Error()
	if os.Getenv("AUTHGUARD_REQUIRE_SERVICES") == "1" {
		t.Fatal(msg + " (AUTHGUARD_REQUIRE_SERVICES=1)")
	}
	t.Skip(msg)
	return ""
}

// withParam returns raw with the query parameter name set to value.
func withParam(t *testing.T, raw, name, value string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("%s: not a URL", name)
	}
	q := u.Query()
	q.Set(name, value)
	u.RawQuery = q.Encode()
	return u.String()
}

func randomName(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// redisURL is a redis:// URL with a fresh key prefix whose keys are
// deleted when the test ends.
func redisURL(t *testing.T) string {
	base := serviceURL(t, "AUTHGUARD_REDIS_URL", "redis://127.0.0.1:6379/0", "127.0.0.1:6379")
	prefix := "agdemo-" + randomName(t) + ":"
	opts, err := redis.ParseURL(base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		client := redis.NewClient(opts)
		defer client.Close()
		ctx := context.Background()
		iter := client.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("deleting the test keys: %v", err)
		}
	})
	return withParam(t, base, RedisPrefixParam, prefix)
}

// postgresURL is a postgres:// URL with a fresh schema dropped when the
// test ends.
func postgresURL(t *testing.T) string {
	base := serviceURL(t, "AUTHGUARD_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "127.0.0.1:5432")
	schema := "agdemo_" + randomName(t)
	t.Cleanup(func() {
		ctx := context.Background()
		pool, err := pgxpool.New(ctx, base)
		if err != nil {
			t.Errorf("dropping the test schema: %v", err)
			return
		}
		defer pool.Close()
		if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping the test schema: %v", err)
		}
	})
	return withParam(t, base, PostgresSchemaParam, schema)
}

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
	testSharedStore(t, StoreRedis, redisURL(t))
}

func TestPostgresStore(t *testing.T) {
	t.Parallel()
	testSharedStore(t, StorePostgres, postgresURL(t))
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
