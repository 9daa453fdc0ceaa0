package migration

import (
	"strings"
	"testing"
	"testing/fstest"
)

// Load orders the files by version and refuses names and sequences a store
// could apply wrongly.
func TestLoad(t *testing.T) {
	good := fstest.MapFS{
		"m/0002_more.sql": {Data: []byte("B")},
		"m/0001_init.sql": {Data: []byte("A")},
		"m/README.md":     {Data: []byte("not a migration")},
	}
	files, err := Load(good, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Version != 1 || files[0].SQL != "A" || files[1].Name != "0002_more.sql" {
		t.Fatalf("Load = %+v", files)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"bad name":  {"m/init.sql": {}},
		"zero":      {"m/0000_x.sql": {}},
		"gap":       {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"duplicate": {"m/0001_a.sql": {}, "m/0001_b.sql": {}},
	} {
		if _, err := Load(fsys, "m"); err == nil || !strings.Contains(err.Error(), "migration:") {
			t.Errorf("%s: Load = %v, want an error", name, err)
		}
	}
}
