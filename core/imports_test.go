package core

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCoreKnowsNoTransport enforces the first rule of the house: no package
// of the core module imports net/http or a web framework, not even
// transitively, so HTTP semantics stay plain values and every adapter
// writes the same bytes. Only the net/http adapter (httpauth) and the test
// suites may.
func TestCoreKnowsNoTransport(t *testing.T) {
	const module = "github.com/authguard/authguard/core"
	allowed := map[string]bool{
		module + "/httpauth":    true,
		module + "/adaptertest": true,
		module + "/storetest":   true,
		module + "/authtest":    true,
	}
	banned := []string{"net/http", "github.com/gin-gonic/", "github.com/gofiber/", "github.com/valyala/fasthttp", "github.com/go-chi/"}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || allowed[fields[0]] {
			continue
		}
		checked++
		var bad []string
		for _, dep := range fields[1:] {
			for _, b := range banned {
				if dep == b || (strings.HasSuffix(b, "/") && strings.HasPrefix(dep, b)) {
					bad = append(bad, dep)
				}
			}
		}
		if len(bad) > 0 {
			t.Errorf("%s imports %s (directly or not); transport code belongs in an adapter", fields[0], strings.Join(bad, ", "))
		}
	}
	if checked < 3 {
		t.Fatalf("only %d packages checked: the check would pass vacuously", checked)
	}
}
