package core

import (
	"go/build"
	"strings"
	"testing"
)

// TestCoreKnowsNoTransport enforces the first rule of the house: the root
// package of core imports no net/http and no web framework, so HTTP
// semantics stay plain values and every adapter writes the same bytes.
func TestCoreKnowsNoTransport(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	banned := []string{"net/http", "github.com/gin-gonic/", "github.com/gofiber/", "github.com/valyala/fasthttp", "github.com/go-chi/"}
	for _, imp := range pkg.Imports {
		for _, b := range banned {
			if imp == b || strings.HasPrefix(imp, b+"/") || (strings.HasSuffix(b, "/") && strings.HasPrefix(imp, b)) {
				t.Errorf("core imports %s; transport code belongs in an adapter", imp)
			}
		}
	}
	if len(pkg.Imports) == 0 {
		t.Fatal("no imports read: the check would pass vacuously")
	}
}
