// Package gen runs the generator: load the schema, build the model, run one
// emitter per target, and return the files to write. The CLI (gen/cmd/karlgen)
// writes or compares them; nothing here touches the disk but reading the schema.
package gen

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/karl-app/karl/gen/docs"
	"github.com/karl-app/karl/gen/golang"
	"github.com/karl-app/karl/gen/model"
	"github.com/karl-app/karl/gen/ts"
	"github.com/karl-app/karl/schema"
)

// Config says what to generate and where, as the CLI's generate command takes it.
type Config struct {
	Schema    string // path of the schema file
	GoOut     string // directory of the Go package; empty: no Go output
	GoPackage string // Go package name
	TSOut     string // directory of the TypeScript files; empty: no TypeScript output
	// TSImportSuffix ends the imports between the TypeScript files: "" (extensionless,
	// for Metro and bundlers) or ".js" (for tsc with nodenext resolution).
	TSImportSuffix string
}

// Emitters returns the emitters the configuration asks for.
func (c Config) Emitters() []Emitter {
	var out []Emitter
	if c.GoOut != "" {
		out = append(out, Go(c.GoOut, golang.Options{Package: c.GoPackage}))
	}
	if c.TSOut != "" {
		out = append(out, TS(c.TSOut, ts.Options{ImportSuffix: c.TSImportSuffix}))
	}
	return out
}

// File is one generated file.
type File struct {
	Path string
	Data []byte
}

// An Emitter renders the files of one target from the model, under its directory.
type Emitter struct {
	Name string // "go", "ts", "docs"
	Dir  string
	emit func(m *model.Schema) ([]namedFile, error)
}

type namedFile struct {
	Name string
	Data []byte
}

// named converts the files of an emitter package, which all have this shape.
func named[F ~struct {
	Name string
	Data []byte
}](files []F, err error) ([]namedFile, error) {
	out := make([]namedFile, len(files))
	for i, f := range files {
		out[i] = namedFile(f)
	}
	return out, err
}

// Go emits the typed Go server API into dir.
func Go(dir string, opts golang.Options) Emitter {
	return Emitter{Name: "go", Dir: dir, emit: func(m *model.Schema) ([]namedFile, error) {
		return named(golang.Generate(m, opts))
	}}
}

// TS emits the TypeScript client into dir.
func TS(dir string, opts ts.Options) Emitter {
	return Emitter{Name: "ts", Dir: dir, emit: func(m *model.Schema) ([]namedFile, error) {
		return named(ts.Generate(m, opts), nil)
	}}
}

// Docs emits EVENTS.md and asyncapi.yaml into dir.
func Docs(dir string) Emitter {
	return Emitter{Name: "docs", Dir: dir, emit: func(m *model.Schema) ([]namedFile, error) {
		return named(docs.Generate(m))
	}}
}

// Load loads and checks the schema at path and builds its model.
func Load(path string) (*model.Schema, error) {
	s, err := schema.Load(path)
	if err != nil {
		return nil, err
	}
	name, _ := SourceName(path)
	return model.Build(s, name)
}

// Run loads the schema at path once and runs every emitter on its model.
func Run(path string, emitters ...Emitter) ([]File, error) {
	m, err := Load(path)
	if err != nil {
		return nil, err
	}
	return Generate(m, emitters...)
}

// Generate runs every emitter on the model m (Load or model.Build makes one).
func Generate(m *model.Schema, emitters ...Emitter) ([]File, error) {
	var files []File
	for _, e := range emitters {
		out, err := e.emit(m)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name, err)
		}
		for _, f := range out {
			files = append(files, File{Path: filepath.Join(e.Dir, f.Name), Data: f.Data})
		}
	}
	return files, nil
}

// SourceName is the schema path recorded in generated headers: relative to
// the root of the module that holds path when there is one (inModule), so the
// headers do not depend on where karlgen ran (go generate runs it from the
// package directory); path itself otherwise. path need not exist yet.
func SourceName(path string) (name string, inModule bool) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.ToSlash(path), false
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if rel, err := filepath.Rel(dir, abs); err == nil {
				return filepath.ToSlash(rel), true
			}
		}
		if dir == filepath.Dir(dir) {
			return filepath.ToSlash(path), false
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
