package rbacquickstart

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/password"
	"github.com/authguard/authguard/core/token"
	"github.com/authguard/authguard/rbac"
	sqlitestore "github.com/authguard/authguard/stores/sqlite"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// The route guards' policy lines of each router: the matched pattern and
// the method.
var routeRules = map[string]string{
	"chi":   "p, admin, /api/reports/{id}, DELETE\n",
	"gin":   "p, admin, /api/reports/:id, DELETE\n",
	"fiber": "p, admin, /api/reports/:id, DELETE\n",
}

// serveFunc sends one request through a router and returns the status.
type serveFunc func(t *testing.T, req *http.Request) int

func serveHandler(h http.Handler) serveFunc {
	return func(_ *testing.T, req *http.Request) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
}

// Every router's quick start enforces the policy stored in the SQLite
// database: the user reads reports but may not delete them, the admin may
// (through the route guard), and a role the admin takes away through the
// administration endpoint denies the user's next request although the
// user's access token still lists it.
func TestQuickStarts(t *testing.T) {
	routers := map[string]func(*core.Service, *rbac.RoleAdmin) serveFunc{
		"chi": func(s *core.Service, r *rbac.RoleAdmin) serveFunc { return serveHandler(Chi(s, r)) },
		"gin": func(s *core.Service, r *rbac.RoleAdmin) serveFunc { return serveHandler(Gin(s, r)) },
		"fiber": func(s *core.Service, r *rbac.RoleAdmin) serveFunc {
			app := Fiber(s, r)
			return func(t *testing.T, req *http.Request) int {
				resp, err := app.Test(req, -1)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
		},
	}
	for name, router := range routers {
		t.Run(name, func(t *testing.T) {
			svc, roles, userID, userTok, adminTok := setup(t, routeRules[name])
			serve := router(svc, roles)
			steps := []struct {
				method, path, tok string
				want              int
			}{
				{http.MethodGet, "/api/reports", userTok, http.StatusOK},
				{http.MethodDelete, "/api/reports/7", userTok, http.StatusForbidden},
				{http.MethodDelete, "/api/reports/7", adminTok, http.StatusNoContent},
				{http.MethodGet, "/auth/admin/roles/" + userID, userTok, http.StatusForbidden},
				{http.MethodDelete, "/auth/admin/roles/" + userID + "/user", adminTok, http.StatusNoContent},
				{http.MethodGet, "/api/reports", userTok, http.StatusForbidden}, // the token still says "user"
			}
			for _, s := range steps {
				req := httptest.NewRequest(s.method, s.path, nil)
				req.Header.Set("Authorization", "Bearer "+s.tok)
				if got := serve(t, req); got != s.want {
					t.Fatalf("%s %s: %d, want %d", s.method, s.path, got, s.want)
				}
			}
		})
	}
}

// setup opens a SQLite store in a temporary directory, stores the policy
// (rbac.DefaultPolicy, the route rule, the two users' roles) in its
// casbin_rule table, builds the service with NewService and logs both users
// in.
func setup(t *testing.T, routeRule string) (svc *core.Service, roles *rbac.RoleAdmin, userID, userTok, adminTok string) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "auth.db")
	st, err := sqlitestore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	db, err := sql.Open("sqlite", path+"?_txlock=immediate&_busy_timeout=5000&_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	users, err := password.NewAuthenticator(st, password.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const pw = "correct horse battery staple"
	u, err := users.CreateUser(ctx, "user@example.com", pw, []string{"user"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := users.CreateUser(ctx, "admin@example.com", pw, []string{"admin"})
	if err != nil {
		t.Fatal(err)
	}
	seed(t, db, rbac.DefaultPolicy+routeRule+"g, "+u.ID+", user\ng, "+a.ID+", admin\n")
	key, err := token.GenerateKey(token.AlgEdDSA)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := token.NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	svc, roles, err = NewService(ctx, st, db, core.Config{
		Issuer: "https://api.example.com", Audience: "my-app",
		Keys: keys, Store: st, Authenticator: users,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	login := func(email string) string {
		tr, err := svc.Login(ctx, core.LoginInput{Email: email, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		return tr.AccessToken
	}
	return svc, roles, u.ID, login("user@example.com"), login("admin@example.com")
}

// seed stores policy in the database's policy table.
func seed(t *testing.T, db *sql.DB, policy string) {
	t.Helper()
	ad, err := rbac.NewSQLAdapter(db, rbac.SQLite, "")
	if err != nil {
		t.Fatal(err)
	}
	e, err := rbac.NewEnforcer(rbac.ModelRBAC, rbac.PolicyFromString(policy))
	if err != nil {
		t.Fatal(err)
	}
	if err := ad.SavePolicy(e.GetModel()); err != nil {
		t.Fatal(err)
	}
}

// The rbac README's "Quick start" section shows the bodies of NewService,
// Chi, Gin and Fiber, in that order, as they are in this package: the code
// a reader copies compiles and is tested.
func TestReadmeQuickStartsAreThisPackage(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "rbac", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Quick start\n")
	if !ok {
		t.Fatal("rbac/README.md has no \"## Quick start\" section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var blocks []string
	for rest := section; ; {
		var block string
		if _, rest, ok = strings.Cut(rest, "```go\n"); !ok {
			break
		}
		block, rest, _ = strings.Cut(rest, "```\n")
		blocks = append(blocks, block)
	}
	for i, f := range []struct{ file, fn string }{
		{"service.go", "NewService"}, {"chi.go", "Chi"}, {"gin.go", "Gin"}, {"fiber.go", "Fiber"},
	} {
		src, err := os.ReadFile(f.file)
		if err != nil {
			t.Fatal(err)
		}
		want := body(t, string(src), f.fn)
		if i >= len(blocks) {
			t.Fatalf("rbac/README.md's quick start has %d Go blocks, want one for %s", len(blocks), f.fn)
		}
		if blocks[i] != want {
			t.Errorf("rbac/README.md's quick start block %d differs from the body of %s in %s:\n--- README\n%s\n--- %s\n%s", i+1, f.fn, f.file, blocks[i], f.file, want)
		}
	}
}

// body returns the body of the function fn in src, one tab of indentation
// less, without its braces.
func body(t *testing.T, src, fn string) string {
	t.Helper()
	_, rest, ok := strings.Cut(src, "\nfunc "+fn+"(")
	if !ok {
		t.Fatalf("no func %s", fn)
	}
	_, rest, _ = strings.Cut(rest, "{\n")
	rest, _, _ = strings.Cut(rest, "\n}\n")
	var b strings.Builder
	for _, l := range strings.Split(rest, "\n") {
		b.WriteString(strings.TrimPrefix(l, "\t") + "\n")
	}
	return b.String()
}
