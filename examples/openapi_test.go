package examples

// The OpenAPI description (docs/openapi.yaml) against the servers: every
// request and response of the conformance suite (adaptertest.Run, every
// case, the real-time one included) is validated on every router, and the
// operations of the description are exactly the routes the adapters mount
// plus the demo API. What is validated, and what is not, is in the doc of
// package openapitest; the example servers' own demo API is validated by
// demotest.EndToEnd.

import (
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	chiauth "github.com/authguard/authguard/adapters/chi"
	fiberauth "github.com/authguard/authguard/adapters/fiber"
	ginauth "github.com/authguard/authguard/adapters/gin"
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/adaptertest"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/httpauth"
	"github.com/authguard/authguard/core/wire"
	"github.com/authguard/authguard/examples/internal/openapitest"
	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	"github.com/gofiber/fiber/v2"
)

// httpFactory is the net/http server of the suite (core/httpauth on a
// ServeMux), served over a real connection.
func httpFactory(t *testing.T, svc *core.Service) adaptertest.Do {
	write := func(w http.ResponseWriter, body []byte) {
		w.Header().Set("Content-Type", adaptertest.DemoContentType)
		_, _ = w.Write(body)
	}
	mux := http.NewServeMux()
	httpauth.Mount(mux, svc)
	mux.Handle("/", httpauth.NotFound(svc))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { write(w, []byte(adaptertest.HealthJSON)) })
	mux.Handle("GET /api/profile", httpauth.Require(svc)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := httpauth.PrincipalFrom(r.Context())
		write(w, adaptertest.ProfileBody(p))
	})))
	mux.Handle("GET /api/optional", httpauth.Optional(svc)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := httpauth.PrincipalFrom(r.Context())
		write(w, adaptertest.OptionalBody(p))
	})))
	mux.Handle("GET /api/admin/stats", httpauth.RequireRole(svc, "admin")(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		write(w, []byte(adaptertest.AdminStatsJSON))
	})))
	mux.Handle("GET /api/reports", httpauth.RequirePermission(svc, "reports", "read")(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		write(w, []byte(adaptertest.ReportsJSON))
	})))
	mux.Handle("DELETE /api/reports/{id}", httpauth.RequirePermission(svc, "reports", "delete")(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	return serveHTTP(t, httpauth.ExactPaths(svc, mux))
}

// TestOpenAPIConformance validates every exchange of adaptertest.Run on
// every router against docs/openapi.yaml.
func TestOpenAPIConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the conformance suite four times")
	}
	s := openapitest.Load(t)
	routers := []struct {
		name    string
		factory adaptertest.Factory
	}{
		{"net/http", httpFactory},
		{"chi", chiFactory},
		{"gin", ginFactory},
		{"fiber", fiberFactory},
	}
	for _, rt := range routers {
		t.Run(rt.name, func(t *testing.T) {
			n := &openapitest.Tally{}
			adaptertest.Run(t, s.Factory(rt.factory, n))
			t.Logf("%s: %s", rt.name, n)
			if !n.Consistent(true) {
				t.Errorf("the counts do not add up: %s", n)
			}
		})
	}
}

// TestOpenAPIOperationsAreTheMountedRoutes fails when an endpoint the
// adapters mount (wire.Server.Routes, as chi, gin and fiber register it) is
// missing from the description, or the description has an operation that
// no adapter mounts and that is not the demo API.
func TestOpenAPIOperationsAreTheMountedRoutes(t *testing.T) {
	s := openapitest.Load(t)
	described := map[string]bool{}
	for path, item := range s.Doc.Paths.Map() {
		for method := range item.Operations() {
			if !slices.Contains(openapitest.DemoPaths, path) {
				described[method+" "+path] = true
			}
		}
	}
	fx := authtest.New(t, authtest.Options{})
	var contract []string
	for _, rt := range wire.New(fx.Service).Routes() {
		p := rt.Path
		if rt.Param != "" {
			p += "{" + rt.Param + "}"
		}
		contract = append(contract, rt.Method+" "+p)
	}
	sort.Strings(contract)
	if got := slices.Sorted(maps.Keys(described)); !slices.Equal(got, contract) {
		t.Errorf("docs/openapi.yaml describes\n  %s\nbut the contract's routes (wire.Server.Routes) are\n  %s",
			strings.Join(got, "\n  "), strings.Join(contract, "\n  "))
	}
	for name, mounted := range mountedRoutes(t, fx.Service) {
		if !slices.Equal(mounted, contract) {
			t.Errorf("%s mounts\n  %s\nwant the contract's routes\n  %s", name, strings.Join(mounted, "\n  "), strings.Join(contract, "\n  "))
		}
	}
}

// TestOpenAPIRequestDescriptions: the description's invalid_request texts
// are exactly the contract's table (wire.RequestDescriptions) plus the
// generic text.
func TestOpenAPIRequestDescriptions(t *testing.T) {
	s := openapitest.Load(t)
	var got []string
	for _, v := range s.Doc.Components.Schemas["InvalidRequestError"].Value.Properties["error_description"].Value.Enum {
		got = append(got, v.(string))
	}
	want := []string{wire.GenericRequestDescription}
	for reason, d := range wire.RequestDescriptions() {
		if reason != "body_too_large" && !slices.Contains(want, d) {
			want = append(want, d)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("InvalidRequestError.error_description enum\n  %q\nwant\n  %q", got, want)
	}
}

// mountedRoutes lists, per router, the routes its adapter's Mount registers
// ("METHOD /path/{param}", sorted), as the router itself reports them.
func mountedRoutes(t *testing.T, svc *core.Service) map[string][]string {
	t.Helper()
	norm := func(method, path string) string {
		parts := strings.Split(path, "/")
		for i, p := range parts {
			// :name is a parameter, *name a catch-all (gin serves the
			// session id through one to answer ids with a slash itself).
			if p != "" && (p[0] == ':' || p[0] == '*') {
				parts[i] = "{" + p[1:] + "}"
			}
		}
		return method + " " + strings.Join(parts, "/")
	}
	out := map[string][]string{}
	cr := chi.NewRouter()
	chiauth.Mount(cr, svc)
	if err := chi.Walk(cr, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		out["chi"] = append(out["chi"], norm(method, route))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.TestMode)
	gr := gin.New()
	ginauth.Mount(gr, svc)
	for _, r := range gr.Routes() {
		out["gin"] = append(out["gin"], norm(r.Method, r.Path))
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	fiberauth.Mount(app, svc)
	for _, r := range app.GetRoutes(true) {
		if r.Method != http.MethodHead {
			out["fiber"] = append(out["fiber"], norm(r.Method, r.Path))
		}
	}
	for k := range out {
		slices.Sort(out[k])
		out[k] = slices.Compact(out[k])
	}
	return out
}
