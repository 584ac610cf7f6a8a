// Package migration reads the console stores' versioned schema migrations:
// embedded files named NNNN_name.sql whose versions run 1, 2, 3… without
// gaps. Each store applies them in its own dialect and transaction style.
package migration

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one schema step.
type Migration struct {
	Version int
	Name    string // the file name without version and extension
	SQL     string
}

// Load reads the migrations in dir of fsys, sorted by version.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migration: read %s: %w", dir, err)
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(name, "_")
		if e.IsDir() || !ok || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migration: %q is not NNNN_name.sql", name)
		}
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration: %q: bad version", name)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("migration: read %q: %w", name, err)
		}
		ms = append(ms, Migration{Version: v, Name: strings.TrimSuffix(rest, ".sql"), SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration: versions must be 1..%d without gaps, found %d", len(ms), m.Version)
		}
	}
	return ms, nil
}

// MustLoad is Load for embedded files, which are correct by construction or
// a build error.
func MustLoad(fsys fs.FS, dir string) []Migration {
	ms, err := Load(fsys, dir)
	if err != nil {
		panic(err)
	}
	return ms
}
