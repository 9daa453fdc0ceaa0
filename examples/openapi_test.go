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
	"github.com/authguard/authguard/core/wire"
	"github.com/authguard/authguard/examples/internal/openapitest"
	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	"github.com/gofiber/fiber/v2"
)

// httpFactory is the net/http server of the suite (core/httpauth on a
// ServeMux, adaptertest.NetHTTPServer), served over a real connection.
func httpFactory(t *testing.T, svc *core.Service) adaptertest.Do {
	return serveHTTP(t, adaptertest.NetHTTPServer(svc))
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
// adapters mount (wire.Server.Routes, and the role administration where
// MountRoleAdmin mounts it, as chi, gin and fiber register them) is
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
	contract = append(contract, roleAdminRoutes(fx.Service)...)
	sort.Strings(contract)
	if got := slices.Sorted(maps.Keys(described)); !slices.Equal(got, contract) {
		t.Errorf("docs/openapi.yaml describes\n  %s\nbut the contract's routes (wire.Server.Routes) are\n  %s",
			strings.Join(got, "\n  "), strings.Join(contract, "\n  "))
	}
	tokens := slices.DeleteFunc(slices.Clone(contract), func(r string) bool { return slices.Contains(roleAdminRoutes(fx.Service), r) })
	for name, mounted := range mountedRoutes(t, fx.Service, false) {
		if !slices.Equal(mounted, tokens) {
			t.Errorf("%s mounts without MountRoleAdmin\n  %s\nwant the token endpoints\n  %s", name, strings.Join(mounted, "\n  "), strings.Join(tokens, "\n  "))
		}
	}
	for name, mounted := range mountedRoutes(t, fx.Service, true) {
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

// roleAdminRoutes are the role administration's operations
// (wire.Server.RoleAdminPath) in the description's form.
func roleAdminRoutes(svc *core.Service) []string {
	base := wire.New(svc).RoleAdminPath()
	return []string{"GET " + base + "{subject}", "PUT " + base + "{subject}/{role}", "DELETE " + base + "{subject}/{role}"}
}

// mountedRoutes lists, per router, the routes its adapter's Mount (and
// MountRoleAdmin when roles) registers ("METHOD /path/{param}", sorted), as
// the router itself reports them. The role administration is registered
// as a catch-all under wire.Server.RoleAdminPath per method, which
// ServeRoleAdmin splits itself: GET into {subject}, PUT and DELETE into
// {subject}/{role}.
func mountedRoutes(t *testing.T, svc *core.Service, roles bool) map[string][]string {
	t.Helper()
	base := wire.New(svc).RoleAdminPath()
	norm := func(method, path string) string {
		if rest, ok := strings.CutPrefix(path, base); ok && strings.HasPrefix(rest, "*") && !strings.Contains(rest, "/") {
			if method == http.MethodGet {
				return method + " " + base + "{subject}"
			}
			return method + " " + base + "{subject}/{role}"
		}
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
	if roles {
		chiauth.MountRoleAdmin(cr, svc, nil)
	}
	if err := chi.Walk(cr, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		// chiauth.MountRoleAdmin routes the other methods too, only to answer
		// them with the contract's JSON 404 instead of chi's bare 405.
		if strings.Contains(route, "/admin/roles/") && method != "GET" && method != "PUT" && method != "DELETE" {
			return nil
		}
		out["chi"] = append(out["chi"], norm(method, route))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.TestMode)
	gr := gin.New()
	ginauth.Mount(gr, svc)
	if roles {
		ginauth.MountRoleAdmin(gr, svc, nil)
	}
	for _, r := range gr.Routes() {
		out["gin"] = append(out["gin"], norm(r.Method, r.Path))
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	fiberauth.Mount(app, svc)
	if roles {
		fiberauth.MountRoleAdmin(app, svc, nil)
	}
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
