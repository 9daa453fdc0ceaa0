package core_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Size is a smell, not a law, but the core keeps to a budget so a newcomer
// finds any rule in one guess: the root package holds the engine only (at
// most 2,000 code lines and 90 exported identifiers); no file of the module
// is over 500 code lines and no function over 80 (code lines: not blank,
// not comments; tests and the conformance suites' case tables aside).
func TestLayoutBudget(t *testing.T) {
	const (
		maxRootLines   = 2000
		maxRootExports = 90
		maxFileLines   = 500
		maxFuncLines   = 80
	)
	rootLines, rootExports := 0, 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
		if err != nil {
			return err
		}
		lines := codeLines(fset, f, src, f.Pos(), f.End())
		if lines > maxFileLines && !isCaseTable(path) {
			t.Errorf("%s: %d code lines, budget %d", path, lines, maxFileLines)
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil && !isCaseTable(path) {
				if n := codeLines(fset, f, src, fd.Pos(), fd.End()); n > maxFuncLines {
					t.Errorf("%s: func %s has %d code lines, budget %d", path, fd.Name.Name, n, maxFuncLines)
				}
			}
		}
		if filepath.Dir(path) == "." {
			rootLines += lines
			rootExports += exported(f)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rootLines > maxRootLines {
		t.Errorf("root package: %d code lines, budget %d", rootLines, maxRootLines)
	}
	if rootExports > maxRootExports {
		t.Errorf("root package: %d exported identifiers, budget %d", rootExports, maxRootExports)
	}
	t.Logf("root package: %d code lines, %d exported identifiers", rootLines, rootExports)
}

// isCaseTable reports whether path holds a conformance suite's table of
// cases, which is long by nature (one closure per row of the contract).
func isCaseTable(path string) bool {
	return filepath.Base(path) == "cases.go" && strings.Contains(path, "adaptertest")
}

// codeLines counts the lines between from and to that hold code: not blank
// and not only comment.
func codeLines(fset *token.FileSet, f *ast.File, src []byte, from, to token.Pos) int {
	comment := map[int]bool{}
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			for l := fset.Position(c.Pos()).Line; l <= fset.Position(c.End()).Line; l++ {
				comment[l] = true
			}
		}
	}
	lines := strings.Split(string(src), "\n")
	n := 0
	for l := fset.Position(from).Line; l <= fset.Position(to).Line && l <= len(lines); l++ {
		s := strings.TrimSpace(lines[l-1])
		if s == "" || (comment[l] && (strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/*") || strings.HasPrefix(s, "*"))) {
			continue
		}
		n++
	}
	return n
}

// exported counts a file's exported top-level names and methods.
func exported(f *ast.File) int {
	n := 0
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Name.IsExported() {
				n++
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() {
						n++
					}
				case *ast.ValueSpec:
					for _, id := range s.Names {
						if id.IsExported() {
							n++
						}
					}
				}
			}
		}
	}
	return n
}
