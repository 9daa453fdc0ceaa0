package token

import (
	"go/build"
	"strings"
	"testing"
)

// The token package depends on neither the root core package (which
// imports it) nor any transport.
func TestTokenImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkg.Imports) == 0 {
		t.Fatal("no imports read: the check would pass vacuously")
	}
	for _, imp := range pkg.Imports {
		switch {
		case imp == "github.com/authguard/authguard/core",
			imp == "net/http", strings.HasPrefix(imp, "net/http/"),
			strings.HasPrefix(imp, "github.com/gin-gonic/"), strings.HasPrefix(imp, "github.com/gofiber/"),
			strings.HasPrefix(imp, "github.com/valyala/fasthttp"), strings.HasPrefix(imp, "github.com/go-chi/"):
			t.Errorf("core/token imports %s", imp)
		}
	}
}
