// Package migrations reads the numbered SQL files of a store's schema history.
// Each store (SQLite, PostgreSQL) embeds its own files and applies them in its
// own dialect; the naming rules and their checks live here, once.
package migrations

import (
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// Migration is one numbered SQL file.
type Migration struct {
	Version int64  // e.g. 1 for 0001_init.sql
	Name    string // file name, e.g. "0001_init.sql", for logs and errors
	SQL     string
}

// Load reads the *.sql files at the root of fsys, sorted by version.
// Versions must run 1, 2, 3... without gaps or duplicates, so a misnamed or
// missing file fails every Open (and the tests) rather than a production upgrade.
func Load(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "*.sql") // sorted, so zero-padded names come in version order
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	ms := make([]Migration, 0, len(names))
	for i, name := range names {
		m, err := read(fsys, name)
		if err != nil {
			return nil, err
		}
		if want := int64(i + 1); m.Version != want {
			return nil, fmt.Errorf("migration %q: version %d, want %d (versions must run 1, 2, 3... without gaps or duplicates)", name, m.Version, want)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// read reads one file named NNNN_description.sql.
func read(fsys fs.FS, name string) (Migration, error) {
	digits, _, ok := strings.Cut(strings.TrimSuffix(path.Base(name), ".sql"), "_")
	version, err := strconv.ParseInt(digits, 10, 64)
	if !ok || err != nil || version < 1 {
		return Migration{}, fmt.Errorf("migration %q: name must look like 0001_description.sql", name)
	}
	body, err := fs.ReadFile(fsys, name)
	if err != nil {
		return Migration{}, fmt.Errorf("read migration %q: %w", name, err)
	}
	return Migration{Version: version, Name: name, SQL: string(body)}, nil
}
