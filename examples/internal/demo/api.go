package demo

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/wire"
)

// Routes of the demo API (the same in every example). The reports route
// takes one path parameter, the report id, written in each router's syntax.
const (
	PathHealth     = "/healthz"
	PathProfile    = "/api/profile"
	PathAdminStats = "/api/admin/stats"
	PathReports    = "/api/reports"
)

// Permissions the demo API checks through the casbin policy (rbac.DefaultPolicy).
const (
	ObjectReports = "reports"
	ActionRead    = "read"
	ActionDelete  = "delete"
	RoleAdmin     = "admin"
	RoleUser      = "user"
)

// CORS settings of the examples, applied with each router's own CORS
// middleware to the origins of Config.AllowedOrigins.
var (
	// CORSAllowedMethods are the methods a cross-origin page may use.
	CORSAllowedMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions}
	// CORSAllowedHeaders are the request headers a cross-origin page may send.
	CORSAllowedHeaders = []string{"Authorization", "Content-Type", "X-Auth-Transport"}
	// CORSExposedHeaders are the response headers a cross-origin page may read.
	CORSExposedHeaders = []string{"WWW-Authenticate", "Retry-After"}
)

// CORSMaxAge is how long a browser may cache a preflight answer.
const CORSMaxAge = 10 * time.Minute

// Report is one entry of the demo reports list.
type Report struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// reports is the fixed demo data.
var reports = []Report{
	{ID: "1", Title: "Quarterly revenue"},
	{ID: "2", Title: "Active users by week"},
	{ID: "3", Title: "Login failures by country"},
}

// health is the answer of GET /healthz, built once. Its body's capacity is
// its length, so that an append anywhere copies it instead of writing into
// the bytes every answer shares.
var health = func() *wire.Response {
	r := reply(http.StatusOK, map[string]string{"status": "ok"})
	r.Body = r.Body[:len(r.Body):len(r.Body)]
	return r
}()

// Health answers GET /healthz: 200 {"status":"ok"}. It is the same
// response on every call, so callers only write it, never change it.
func Health() *wire.Response { return health }

type profileJSON struct {
	Sub   string   `json:"sub"`
	Roles []string `json:"roles"`
}

// Profile answers GET /api/profile for an authenticated caller: 200
// {"sub","roles"}.
func Profile(p *core.Principal) *wire.Response {
	roles := p.Roles
	if roles == nil {
		roles = []string{}
	}
	return reply(http.StatusOK, profileJSON{Sub: p.Subject, Roles: roles})
}

// AdminStats is the body of GET /api/admin/stats.
type AdminStats struct {
	Users         int    `json:"users"`
	Store         string `json:"store"`
	StartedAt     string `json:"startedAt"`
	UptimeSeconds int64  `json:"uptimeSeconds"`
}

// AdminStats answers GET /api/admin/stats (role admin): the number of user
// accounts, the store kind and the server's uptime. A store that cannot be
// reached gives the contract's 503.
func (a *App) AdminStats(ctx context.Context) *wire.Response {
	n, err := countUsers(ctx, a.store)
	if err != nil {
		a.Logger.ErrorContext(ctx, "admin stats: counting users failed", "error", err.Error())
		return wire.New(a.Service).ErrorResponse(&core.Error{Kind: core.ErrUnavailable, Reason: "user_store", Err: err})
	}
	return reply(http.StatusOK, AdminStats{
		Users:         n,
		Store:         a.Config.Store.Kind,
		StartedAt:     a.started.UTC().Format(time.RFC3339),
		UptimeSeconds: int64(a.Uptime() / time.Second),
	})
}

type reportsJSON struct {
	Reports []Report `json:"reports"`
}

// Reports answers GET /api/reports (permission reports/read).
func Reports() *wire.Response {
	return reply(http.StatusOK, reportsJSON{Reports: reports})
}

// DeleteReport answers DELETE /api/reports/{id} (permission reports/delete):
// 204 for a listed report, 404 not_found otherwise. The demo data is fixed,
// so the delete is only acknowledged (and so idempotent).
func DeleteReport(id string) *wire.Response {
	for _, r := range reports {
		if r.ID == id {
			return &wire.Response{Status: http.StatusNoContent, Header: [][2]string{{"Cache-Control", "no-store"}}}
		}
	}
	p := wire.ProblemFor(core.ErrNotFound)
	return reply(p.Status, map[string]string{"error": p.Code, "error_description": p.Description})
}

// reply renders v as a JSON response that no cache keeps.
func reply(status int, v any) *wire.Response {
	body, err := json.Marshal(v)
	if err != nil {
		// Only fixed, marshalable types reach here.
		panic("demo: marshal response: " + err.Error())
	}
	return &wire.Response{
		Status: status,
		Header: [][2]string{{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}},
		Body:   body,
	}
}
