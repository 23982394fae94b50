// Package gen runs the generator: load the schema, build the model, run one
// emitter per target, and return the files to write. The CLI (gen/cmd/karlgen)
// writes or compares them; nothing here touches the disk but reading the schema.
package gen

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/karl-app/karl/gen/golang"
	"github.com/karl-app/karl/gen/model"
	"github.com/karl-app/karl/gen/ts"
	"github.com/karl-app/karl/schema"
)

// Config says what to generate and where.
type Config struct {
	Schema    string // path of the schema file
	GoOut     string // directory of the Go package; empty: no Go output
	GoPackage string // Go package name
	TSOut     string // directory of the TypeScript files; empty: no TypeScript output
	// TSImportSuffix ends the imports between the TypeScript files: "" (extensionless,
	// for Metro and bundlers) or ".js" (for tsc with nodenext resolution).
	TSImportSuffix string
}

// File is one generated file.
type File struct {
	Path string
	Data []byte
}

// Load loads and checks the schema at path and builds its model.
func Load(path string) (*model.Schema, error) {
	s, err := schema.Load(path)
	if err != nil {
		return nil, err
	}
	return model.Build(s, sourceName(path))
}

// Run generates every file Config asks for.
func Run(cfg Config) ([]File, error) {
	m, err := Load(cfg.Schema)
	if err != nil {
		return nil, err
	}
	var files []File
	if cfg.GoOut != "" {
		goFiles, err := golang.Generate(m, golang.Options{Package: cfg.GoPackage})
		if err != nil {
			return nil, err
		}
		for _, f := range goFiles {
			files = append(files, File{Path: filepath.Join(cfg.GoOut, f.Name), Data: f.Data})
		}
	}
	if cfg.TSOut != "" {
		for _, f := range ts.Generate(m, ts.Options{ImportSuffix: cfg.TSImportSuffix}) {
			files = append(files, File{Path: filepath.Join(cfg.TSOut, f.Name), Data: f.Data})
		}
	}
	return files, nil
}

// sourceName is the schema path recorded in generated headers: relative to the
// module root when there is one, so the headers do not depend on where
// karlgen ran (go generate runs it from the package directory).
func sourceName(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.ToSlash(path)
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if rel, err := filepath.Rel(dir, abs); err == nil {
				return filepath.ToSlash(rel)
			}
		}
		if dir == filepath.Dir(dir) {
			return filepath.ToSlash(path)
		}
	}
}

// Stale returns the files whose content on disk differs from the generated one.
func Stale(files []File) []File {
	var stale []File
	for _, f := range files {
		old, err := os.ReadFile(f.Path)
		if err != nil || !bytes.Equal(old, f.Data) {
			stale = append(stale, f)
		}
	}
	return stale
}

// Write writes the files whose bytes changed and returns the paths written.
// Unchanged files keep their modification time, so build caches stay warm.
func Write(files []File) ([]string, error) {
	var written []string
	for _, f := range Stale(files) {
		if err := os.MkdirAll(filepath.Dir(f.Path), 0o755); err != nil {
			return written, fmt.Errorf("write %s: %w", f.Path, err)
		}
		tmp := f.Path + ".tmp"
		if err := os.WriteFile(tmp, f.Data, 0o644); err != nil {
			return written, fmt.Errorf("write %s: %w", f.Path, err)
		}
		if err := os.Rename(tmp, f.Path); err != nil {
			return written, fmt.Errorf("write %s: %w", f.Path, err)
		}
		written = append(written, f.Path)
	}
	return written, nil
}
