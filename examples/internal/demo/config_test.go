package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

// env is a getenv over a map.
func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := LoadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Addr:               "127.0.0.1:8080",
		Store:              StoreSpec{Kind: StoreSQLite, Location: "authguard-demo.db"},
		AccessTTL:          10 * time.Minute,
		RefreshIdleTTL:     336 * time.Hour,
		RefreshAbsoluteTTL: 720 * time.Hour,
		RefreshGrace:       10 * time.Second,
		Leeway:             5 * time.Second,
		AllowedOrigins:     []string{"http://127.0.0.1:8080"},
		Issuer:             "http://127.0.0.1:8080",
		Audience:           "authguard-demo",
		DemoPassword:       "demo-password",
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("defaults:\n got %#v\nwant %#v", cfg, want)
	}
	if cfg.DemoPassword != want.DemoPassword || cfg.DemoPasswordFromEnv {
		t.Fatal("demo password default wrong")
	}
}

func TestLoadConfigEveryVariable(t *testing.T) {
	cfg, err := LoadConfig(env(map[string]string{
		EnvAddr:               "127.0.0.1:9999",
		EnvStore:              "sqlite:/tmp/x/auth.db",
		EnvAccessTTL:          "5m",
		EnvRefreshIdleTTL:     "1h",
		EnvRefreshAbsoluteTTL: "24h",
		EnvRefreshGrace:       "3s",
		EnvLeeway:             "60s",
		EnvAllowedOrigins:     " http://localhost:8081 , https://App.Example.com/ ,",
		EnvIssuer:             "https://auth.example.com",
		EnvAudience:           "my-api",
		EnvSigningKey:         "/etc/authguard/key.pem",
		EnvDemoPassword:       " s3cret pass ",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Addr:                "127.0.0.1:9999",
		Store:               StoreSpec{Kind: StoreSQLite, Location: "/tmp/x/auth.db"},
		AccessTTL:           5 * time.Minute,
		RefreshIdleTTL:      time.Hour,
		RefreshAbsoluteTTL:  24 * time.Hour,
		RefreshGrace:        3 * time.Second,
		Leeway:              60 * time.Second,
		AllowedOrigins:      []string{"http://localhost:8081", "https://app.example.com"},
		Issuer:              "https://auth.example.com",
		Audience:            "my-api",
		SigningKeyFile:      "/etc/authguard/key.pem",
		DemoPassword:        " s3cret pass ",
		DemoPasswordFromEnv: true,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got  %#v\nwant %#v", cfg, want)
	}
	if cfg.DemoPassword != want.DemoPassword {
		t.Fatalf("password changed: %q", cfg.DemoPassword)
	}
}

func TestLoadConfigDerivedDefaults(t *testing.T) {
	for _, tc := range []struct {
		env            map[string]string
		issuer, origin string
	}{
		{map[string]string{EnvAddr: "127.0.0.1:18080"}, "http://127.0.0.1:18080", "http://127.0.0.1:18080"},
		{map[string]string{EnvAddr: ":8080"}, "http://localhost:8080", "http://localhost:8080"},
		{map[string]string{EnvAddr: "0.0.0.0:8080"}, "http://localhost:8080", "http://localhost:8080"},
		{map[string]string{EnvAddr: "[::1]:8080"}, "http://[::1]:8080", "http://[::1]:8080"},
		// The allowed origin follows the issuer, not the listen address.
		{map[string]string{EnvIssuer: "https://Auth.Example.com/base"}, "https://Auth.Example.com/base", "https://auth.example.com"},
	} {
		cfg, err := LoadConfig(env(tc.env))
		if err != nil {
			t.Fatalf("%v: %v", tc.env, err)
		}
		if cfg.Issuer != tc.issuer || !reflect.DeepEqual(cfg.AllowedOrigins, []string{tc.origin}) {
			t.Errorf("%v: issuer %q origins %v, want %q [%s]", tc.env, cfg.Issuer, cfg.AllowedOrigins, tc.issuer, tc.origin)
		}
	}
}

func TestLoadConfigStores(t *testing.T) {
	for _, tc := range []struct {
		in, kind, loc, shown string
	}{
		{"sqlite:authguard-demo.db", StoreSQLite, "authguard-demo.db", "sqlite:authguard-demo.db"},
		{"sqlite:/var/lib/ag/a.db", StoreSQLite, "/var/lib/ag/a.db", "sqlite:/var/lib/ag/a.db"},
		{"memory:", StoreMemory, "", "memory:"},
		{"redis://127.0.0.1:6379/0", StoreRedis, "redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"},
		{"redis://:hunter2@127.0.0.1:6379/0", StoreRedis, "redis://:hunter2@127.0.0.1:6379/0", "redis://:xxxxx@127.0.0.1:6379/0"},
		{"postgres://app:hunter2@db:5432/auth?sslmode=disable", StorePostgres, "postgres://app:hunter2@db:5432/auth?sslmode=disable",
			"postgres://app:xxxxx@db:5432/auth?sslmode=disable"},
		{"postgresql://db/auth?password=hunter2", StorePostgres, "postgresql://db/auth?password=hunter2", "postgresql://db/auth?password=xxxxx"},
	} {
		cfg, err := LoadConfig(env(map[string]string{EnvStore: tc.in}))
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if cfg.Store.Kind != tc.kind || cfg.Store.Location != tc.loc || cfg.Store.String() != tc.shown {
			t.Errorf("%s: got %q %q shown %q", tc.in, cfg.Store.Kind, cfg.Store.Location, cfg.Store.String())
		}
	}
}

func TestLoadConfigRefusesBadValues(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        []string // every fragment must appear in the error
	}{
		{EnvAccessTTL, "ten minutes", []string{"AUTHGUARD_ACCESS_TTL", `"ten minutes" is not a Go duration`}},
		{EnvRefreshIdleTTL, "14d", []string{"AUTHGUARD_REFRESH_IDLE_TTL", "not a Go duration"}},
		{EnvRefreshAbsoluteTTL, "-1h", []string{"AUTHGUARD_REFRESH_ABSOLUTE_TTL", "greater than zero"}},
		{EnvRefreshGrace, "-1s", []string{"AUTHGUARD_REFRESH_GRACE", "greater than zero"}},
		{EnvRefreshGrace, "61s", []string{"AUTHGUARD_REFRESH_GRACE", "1m1s is more than the 1m0s maximum"}},
		{EnvLeeway, "61s", []string{"AUTHGUARD_LEEWAY", "1m1s is more than the 1m0s maximum", "clock leeway"}},
		{EnvLeeway, "5", []string{"AUTHGUARD_LEEWAY", `"5" is not a Go duration`}},
		{EnvAccessTTL, "25h", []string{"AUTHGUARD_ACCESS_TTL", "outside the allowed range"}},
		{EnvAccessTTL, "500ms", []string{"AUTHGUARD_ACCESS_TTL", "outside the allowed range"}},
		{EnvAccessTTL, "90.5s", []string{"AUTHGUARD_ACCESS_TTL", "1m30.5s is not a whole number of seconds"}},
		{EnvRefreshIdleTTL, "721h", []string{"AUTHGUARD_REFRESH_IDLE_TTL", "must not exceed the absolute session lifetime"}},
		{EnvStore, "mysql://db/auth", []string{"AUTHGUARD_STORE", `unknown store scheme "mysql"`, "sqlite:<path>, memory:"}},
		{EnvStore, "mongodb://u:topsecret@db/auth", []string{"AUTHGUARD_STORE", `unknown store scheme "mongodb"`}},
		{EnvStore, "authguard.db", []string{"AUTHGUARD_STORE", "has no scheme"}},
		{EnvStore, "sqlite:", []string{"AUTHGUARD_STORE", "names no database file"}},
		{EnvStore, "sqlite::memory:", []string{"AUTHGUARD_STORE", "plain file path", "memory:"}},
		{EnvStore, "sqlite:file:x.db?mode=ro", []string{"AUTHGUARD_STORE", "plain file path"}},
		{EnvStore, "memory:foo", []string{"AUTHGUARD_STORE", "takes no location"}},
		{EnvStore, "redis://", []string{"AUTHGUARD_STORE", "not a valid redis URL"}},
		{EnvAddr, "8080", []string{"AUTHGUARD_ADDR", "not a host:port"}},
		{EnvAllowedOrigins, "*", []string{"AUTHGUARD_ALLOWED_ORIGINS", "list each origin"}},
		{EnvAllowedOrigins, "localhost:8081", []string{"AUTHGUARD_ALLOWED_ORIGINS", "not an origin"}},
		{EnvAllowedOrigins, "http://localhost:8081/app", []string{"AUTHGUARD_ALLOWED_ORIGINS", "not an origin"}},
		{EnvAllowedOrigins, " , ", []string{"AUTHGUARD_ALLOWED_ORIGINS", "names no origin"}},
		{EnvIssuer, "authguard-demo", []string{"AUTHGUARD_ISSUER", "no http(s) origin", "AUTHGUARD_ALLOWED_ORIGINS"}},
		{EnvDemoPassword, strings.Repeat("x", 1025), []string{"AUTHGUARD_DEMO_PASSWORD", "longer than 1024 bytes"}},
	} {
		t.Run(tc.name+"="+truncate(tc.value), func(t *testing.T) {
			_, err := LoadConfig(env(map[string]string{tc.name: tc.value}))
			if err == nil {
				t.Fatalf("%s=%q accepted", tc.name, tc.value)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "topsecret") {
				t.Errorf("error shows a password: %q", err)
			}
		})
	}
}

func truncate(s string) string {
	if len(s) > 20 {
		return s[:20]
	}
	return s
}

func TestLoadConfigReportsEveryError(t *testing.T) {
	_, err := LoadConfig(env(map[string]string{EnvAccessTTL: "x", EnvLeeway: "2m", EnvStore: "ftp://x"}))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, w := range []string{EnvAccessTTL, EnvLeeway, EnvStore} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not name %s", err, w)
		}
	}
}

func TestConfigNeverPrintsThePassword(t *testing.T) {
	cfg, err := LoadConfig(env(map[string]string{
		EnvDemoPassword: "correct-horse-battery",
		EnvStore:        "postgres://app:pgsecret@db/auth",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("cfg", "config", cfg, "store", cfg.Store)
	for _, s := range []string{
		fmt.Sprint(cfg), fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg),
		fmt.Sprint(cfg.Store), fmt.Sprintf("%+v", cfg.Store), logged.String(),
	} {
		if strings.Contains(s, "correct-horse-battery") || strings.Contains(s, "pgsecret") {
			t.Errorf("secret printed: %s", s)
		}
	}
}

func TestUsageNamesEveryVariable(t *testing.T) {
	for _, v := range []string{EnvAddr, EnvStore, EnvAccessTTL, EnvRefreshIdleTTL, EnvRefreshAbsoluteTTL, EnvRefreshGrace,
		EnvLeeway, EnvAllowedOrigins, EnvIssuer, EnvAudience, EnvSigningKey, EnvDemoPassword, EnvMetrics} {
		if !strings.Contains(Usage, v+" ") {
			t.Errorf("Usage does not name %s", v)
		}
	}
}

func TestZeroLeewayAndGraceMeanNone(t *testing.T) {
	cfg, err := LoadConfig(env(map[string]string{EnvLeeway: "0s", EnvRefreshGrace: "0s", EnvStore: "memory:"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Leeway != 0 || cfg.RefreshGrace != 0 {
		t.Fatalf("leeway %s, grace %s; want 0 and 0", cfg.Leeway, cfg.RefreshGrace)
	}
	app, err := Open(context.Background(), cfg, NewLogger(io.Discard, true))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if got := app.Service.Config(); got.Leeway != 0 || got.RefreshGrace != 0 {
		t.Fatalf("core got leeway %s, grace %s; want none", got.Leeway, got.RefreshGrace)
	}
}

func TestMetricsVariable(t *testing.T) {
	for v, want := range map[string]bool{"": false, "0": false, "1": true, " 1 ": true} {
		cfg, err := LoadConfig(env(map[string]string{EnvMetrics: v, EnvStore: "memory:"}))
		if err != nil || cfg.Metrics != want {
			t.Errorf("%s=%q: Metrics %v, %v; want %v", EnvMetrics, v, cfg.Metrics, err, want)
		}
	}
	for _, v := range []string{"yes", "true", "2"} {
		_, err := LoadConfig(env(map[string]string{EnvMetrics: v, EnvStore: "memory:"}))
		if err == nil || !strings.Contains(err.Error(), EnvMetrics) {
			t.Errorf("%s=%q: error %v, want one naming the variable", EnvMetrics, v, err)
		}
	}
}
