package examples

// One vocabulary in every adapter (design: rules of the house, 2): the
// router adapters chiauth, ginauth and fiberauth export the same names, of
// the same kinds, and their functions take and return as many values. The
// adapters are separate modules, so their sources are parsed from the
// directories the replace directives of this module point to.

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// adapterDirs are the adapter packages, relative to this module (as in the
// replace directives of go.mod).
var adapterDirs = map[string]string{
	"chiauth":   "../adapters/chi",
	"ginauth":   "../adapters/gin",
	"fiberauth": "../adapters/fiber",
}

// exported returns the exported top-level names of the package in dir
// (test files excluded), each with its kind and, for functions, the number
// of parameters and results ("func(2)1").
func exported(t *testing.T, dir, pkg string) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("%s: %v (this test reads the adapters' sources next to this module)", dir, err)
	}
	out := map[string]string{}
	files := 0
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name.Name != pkg {
			t.Fatalf("%s/%s: package %s, want %s", dir, name, f.Name.Name, pkg)
		}
		files++
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.IsExported() {
					out[d.Name.Name] = fmt.Sprintf("func(%d)%d", count(d.Type.Params), count(d.Type.Results))
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						if s.Name.IsExported() {
							out[s.Name.Name] = "type"
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() {
								out[n.Name] = d.Tok.String()
							}
						}
					}
				}
			}
		}
	}
	if files == 0 {
		t.Fatalf("%s: no Go files of package %s", dir, pkg)
	}
	return out
}

func count(fl *ast.FieldList) int {
	if fl == nil {
		return 0
	}
	n := 0
	for _, f := range fl.List {
		n += max(len(f.Names), 1)
	}
	return n
}

func TestAdapterVocabulary(t *testing.T) {
	names := map[string]map[string]string{}
	for pkg, dir := range adapterDirs {
		names[pkg] = exported(t, dir, pkg)
	}
	// The vocabulary of the design, present in every adapter.
	for _, name := range []string{
		"Mount", "Require", "Optional", "RequireRole", "RequirePermission", "AuthorizeRoute",
		"PrincipalFrom", "Login", "Refresh", "Logout", "Me", "Sessions",
		"RevokeSession", "RevokeOtherSessions", "JWKS",
	} {
		for pkg, got := range names {
			if _, ok := got[name]; !ok {
				t.Errorf("%s does not export %s", pkg, name)
			}
		}
	}
	ref := names["chiauth"]
	t.Logf("chiauth exports %s", strings.Join(slices.Sorted(maps.Keys(ref)), ", "))
	for _, pkg := range []string{"ginauth", "fiberauth"} {
		got := names[pkg]
		for _, n := range slices.Sorted(maps.Keys(ref)) {
			switch g, ok := got[n]; {
			case !ok:
				t.Errorf("%s lacks %s (%s in chiauth)", pkg, n, ref[n])
			case g != ref[n]:
				t.Errorf("%s.%s is %s, chiauth.%s is %s", pkg, n, g, n, ref[n])
			}
		}
		for _, n := range slices.Sorted(maps.Keys(got)) {
			if n == "Write" {
				// Each router's response writer; chi's is httpauth.Write.
				continue
			}
			if pkg == "fiberauth" && n == "ErrorHandler" {
				// fasthttp refuses oversized bodies before any handler runs;
				// net/http routers leave them to the handler.
				continue
			}
			if _, ok := ref[n]; !ok {
				t.Errorf("%s exports %s, which chiauth does not", pkg, n)
			}
		}
	}
}
