package examples

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is the directory above the test's that holds go.work.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.work above the test's directory")
		}
		dir = parent
	}
}

// repoFiles returns the repository's files whose names end in one of exts,
// relative to root, skipping version-control and hidden directories and the
// installed packages and build output of the JavaScript example
// (node_modules, dist), which are not part of the repository.
func repoFiles(t *testing.T, root string, exts ...string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "dist") {
				return filepath.SkipDir
			}
			return nil
		}
		for _, ext := range exts {
			if strings.HasSuffix(path, ext) {
				rel, _ := filepath.Rel(root, path)
				files = append(files, rel)
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// Every relative link of every Markdown file names a file or directory of
// the repository: the documentation stands on its own.
func TestMarkdownLinksStayInTheRepository(t *testing.T) {
	root := repoRoot(t)
	files := repoFiles(t, root, ".md")
	if len(files) < 5 {
		t.Fatalf("found only %d Markdown files under %s", len(files), root)
	}
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllSubmatch(data, -1) {
			target := string(m[1])
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") || strings.HasPrefix(target, "#") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			abs := filepath.Clean(filepath.Join(root, filepath.Dir(rel), target))
			if inside, err := filepath.Rel(root, abs); err != nil || inside == ".." || strings.HasPrefix(inside, ".."+string(filepath.Separator)) {
				t.Errorf("%s links to %q, outside the repository", rel, m[1])
				continue
			}
			if _, err := os.Stat(abs); err != nil {
				t.Errorf("%s links to %q, which does not exist", rel, m[1])
			}
		}
	}
}

// No Markdown file or Go comment points at documents that live outside the
// repository.
func TestDocsNameNoOutsideDocuments(t *testing.T) {
	root := repoRoot(t)
	// Spelled in pieces so that this file does not match itself.
	banned := []string{".." + "/shared", "shared" + "/contract.md", "security" + "-requirements.md"}
	for _, rel := range repoFiles(t, root, ".md", ".go") {
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range banned {
			if bytes.Contains(data, []byte(b)) {
				t.Errorf("%s mentions %q, a document outside the repository", rel, b)
			}
		}
	}
}

// The README's quick start is examples/quickstart/main.go, less its
// package comment, so the code a reader copies compiles and is tested.
func TestReadmeQuickStartIsTheQuickstartProgram(t *testing.T) {
	root := repoRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Quick start")
	if !ok {
		t.Fatal("README.md has no \"## Quick start\" section")
	}
	_, block, ok := strings.Cut(section, "```go\n")
	if !ok {
		t.Fatal("the quick start has no Go code block")
	}
	block, _, _ = strings.Cut(block, "```\n")
	src, err := os.ReadFile(filepath.Join(root, "examples", "quickstart", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	_, program, ok := strings.Cut(string(src), "\npackage main\n")
	if !ok {
		t.Fatal("examples/quickstart/main.go: no package clause")
	}
	if want := "package main\n" + program; block != want {
		t.Errorf("README.md's quick start differs from examples/quickstart/main.go (less its package comment):\n--- README\n%s\n--- main.go\n%s", block, want)
	}
}

// SECURITY.md names, for every item of the checklist, the tests that prove
// it, as `package-dir: TestName/subtest`. Each named test function must
// exist in that directory, so the table cannot drift from the code.
func TestSecurityDocNamesExistingTests(t *testing.T) {
	root := repoRoot(t)
	doc, err := os.ReadFile(filepath.Join(root, "SECURITY.md"))
	if err != nil {
		t.Fatal(err)
	}
	ref := regexp.MustCompile("`([a-z][a-z0-9/_-]*): ((?:Test|Fuzz|Example|Benchmark)[A-Za-z0-9_]*)[^`]*`")
	refs := ref.FindAllStringSubmatch(string(doc), -1)
	if len(refs) < 50 {
		t.Fatalf("only %d test references found in SECURITY.md: the pattern no longer matches the table", len(refs))
	}
	funcs := map[string]string{} // dir -> concatenated test sources
	for _, m := range refs {
		dir, name := m[1], m[2]
		if dir == "directory" { // the legend of the table
			continue
		}
		src, ok := funcs[dir]
		if !ok {
			files, _ := filepath.Glob(filepath.Join(root, dir, "*_test.go"))
			var b strings.Builder
			for _, f := range files {
				data, _ := os.ReadFile(f)
				b.Write(data)
			}
			src, funcs[dir] = b.String(), b.String()
		}
		if !strings.Contains(src, "func "+name+"(") {
			t.Errorf("SECURITY.md names %s: %s, which does not exist", dir, name)
		}
	}
}
