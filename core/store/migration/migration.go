// Package migration reads the embedded schema migrations of authguard's SQL
// stores (SQLite, PostgreSQL): files named NNNN_description.sql, applied in
// version order from 1 with no gap. Each store applies them its own way (its
// transaction, its lock, its schema_version table); this package only lists
// them, the same way for all.
package migration

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// File is one migration.
type File struct {
	// Version is the NNNN of the file name, from 1.
	Version int
	// Name is the file name, for error messages.
	Name string
	// SQL is the file's content.
	SQL string
}

// Load returns the migrations dir/*.sql of fsys in version order. It fails on
// a file name that does not start with a positive number and an underscore,
// and on a gap or a duplicate in the versions.
func Load(fsys fs.FS, dir string) ([]File, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	var files []File
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("migration: bad file name %q: want NNNN_description.sql", base)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Version: v, Name: base, SQL: string(body)})
	}
	slices.SortFunc(files, func(a, b File) int { return a.Version - b.Version })
	for i, f := range files {
		if f.Version != i+1 {
			return nil, fmt.Errorf("migration: %q: want version %d", f.Name, i+1)
		}
	}
	return files, nil
}
