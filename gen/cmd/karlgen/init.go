package main

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"github.com/karl-app/karl/gen"
	"github.com/karl-app/karl/gen/golang"
	"github.com/karl-app/karl/gen/model"
	"github.com/karl-app/karl/gen/ts"
	"github.com/karl-app/karl/schema"
)

const initUsage = `usage: karlgen init [--dir DIR] [--module PATH] [--ts-out DIR]

Scaffolds a project that uses KARL in DIR, a Go module or one to be:
  schema.yaml          one event of each kind, to edit
  events/generate.go   the //go:generate line that runs karlgen
  events/*.go          the code it generates, written once now (and the
                       TypeScript with --ts-out), so that the module builds
                       after go mod tidy; go generate ./... rewrites them
  main.go              a Socket.IO server on :3000
  handler.go           the handler stub that implements events.Handler
  handler_test.go      its test, on the test client generated in events/
Refuses to overwrite any file: nothing is written when one exists.

flags:
`

//go:embed scaffold/*.tmpl
var scaffold embed.FS

// scaffoldFiles maps each template to the file it writes, in the order they are listed.
var scaffoldFiles = []struct{ template, file string }{
	{"schema.yaml.tmpl", "schema.yaml"},
	{"generate.go.tmpl", "events/generate.go"},
	{"main.go.tmpl", "main.go"},
	{"handler.go.tmpl", "handler.go"},
	{"handler_test.go.tmpl", "handler_test.go"},
}

// scaffoldData is what the templates read.
type scaffoldData struct {
	Module        string // e.g. "example.com/chat"
	Name          string // the schema's name, e.g. "chat"
	GenerateFlags string // karlgen generate's flags, from the events directory
	JSONSchemaURL string // schema.JSONSchemaID, for the yaml-language-server line
}

func initCommand(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("karlgen init", flag.ContinueOnError)
	dir := fset.String("dir", ".", "directory of the project")
	module := fset.String("module", "", "Go module path of the project (default: read from DIR/go.mod)")
	tsOut := fset.String("ts-out", "", "directory of the generated TypeScript client, relative to DIR (empty: none)")
	rest, code, ok := parseFlags(fset, initUsage, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "karlgen init: unexpected argument %q (give the directory with --dir)\n", rest[0])
		return 2
	}
	if *module == "" {
		m, err := modulePath(filepath.Join(*dir, "go.mod"))
		if err != nil {
			fmt.Fprintf(stderr, "karlgen init: %v\n", err)
			return 2
		}
		*module = m
	}
	files, err := renderScaffold(scaffoldData{Module: *module, Name: schemaName(*module), GenerateFlags: generateFlags(*tsOut), JSONSchemaURL: schema.JSONSchemaID})
	// go generate will record the schema relative to the module's root: a
	// module around DIR (a repository's own), else the one go mod init makes in DIR.
	source, inModule := gen.SourceName(filepath.Join(*dir, "schema.yaml"))
	if !inModule {
		source = "schema.yaml"
	}
	if err == nil {
		var generated []scaffoldFile
		generated, err = firstGeneration(files, source, *tsOut)
		files = append(files, generated...)
	}
	if err != nil {
		fmt.Fprintf(stderr, "karlgen init: %v\n", err)
		return 2
	}
	if existing := existingFiles(*dir, files); len(existing) > 0 {
		fmt.Fprintf(stderr, "karlgen init: refusing to overwrite existing files, nothing written:\n")
		for _, p := range existing {
			fmt.Fprintf(stderr, "  %s\n", p)
		}
		return 1
	}
	var written, made []string // files, and the directories made for them
	for _, f := range files {
		p := projectPath(*dir, f.name)
		dirs, err := writeNew(p, f.data)
		made = append(made, dirs...)
		if err != nil {
			for _, w := range slices.Backward(append(made, written...)) { // nothing half-written is kept
				_ = os.Remove(w) // files first, then the directories, deepest first
			}
			fmt.Fprintf(stderr, "karlgen init: %v (nothing kept)\n", err)
			return 1
		}
		written = append(written, p)
	}
	for _, p := range written {
		fmt.Fprintf(stdout, "wrote %s\n", p)
	}
	fmt.Fprint(stdout, nextSteps(*dir, *module, inModule))
	return 0
}

type scaffoldFile struct {
	name string // slash-separated, relative to the project directory
	data []byte
}

func renderScaffold(data scaffoldData) ([]scaffoldFile, error) {
	var out []scaffoldFile
	for _, f := range scaffoldFiles {
		t, err := template.ParseFS(scaffold, "scaffold/"+f.template)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", f.template, err)
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return nil, fmt.Errorf("template %s: %w", f.template, err)
		}
		out = append(out, scaffoldFile{name: f.file, data: b.Bytes()})
	}
	return out, nil
}

// firstGeneration generates, from the scaffold's schema, what go generate
// will write from events/generate.go: the Go package in events/ and, with
// tsOut, the TypeScript. Written with the scaffold, it lets the module build
// after go mod tidy alone (go generate ./... cannot load the packages of a
// module whose go.mod does not yet require what main.go imports).
func firstGeneration(scaffold []scaffoldFile, source, tsOut string) ([]scaffoldFile, error) {
	i := slices.IndexFunc(scaffold, func(f scaffoldFile) bool { return f.name == "schema.yaml" })
	s, err := schema.Parse("schema.yaml", scaffold[i].data)
	if err != nil {
		return nil, fmt.Errorf("the scaffold's schema: %w", err)
	}
	m, err := model.Build(s, source)
	if err != nil {
		return nil, fmt.Errorf("the scaffold's schema: %w", err)
	}
	emitters := []gen.Emitter{gen.Go("events", golang.Options{Package: "events"})}
	if tsOut != "" {
		emitters = append(emitters, gen.TS(filepath.ToSlash(tsOut), ts.Options{}))
	}
	files, err := gen.Generate(m, emitters...)
	if err != nil {
		return nil, err
	}
	out := make([]scaffoldFile, len(files))
	for i, f := range files {
		out[i] = scaffoldFile{name: filepath.ToSlash(f.Path), data: f.Data}
	}
	return out, nil
}

// generateFlags are karlgen generate's flags as written in events/generate.go,
// which go generate runs from the events directory.
func generateFlags(tsOut string) string {
	args := []string{"--schema", "../schema.yaml", "--go-out", ".", "--go-package", "events"}
	if tsOut != "" {
		if !filepath.IsAbs(tsOut) {
			tsOut = path.Join("..", filepath.ToSlash(tsOut))
		}
		args = append(args, "--ts-out", tsOut)
	}
	return shellJoin(args)
}

var (
	reNotSchemaName = regexp.MustCompile(`[^a-z0-9-]+`)
	reMajorSuffix   = regexp.MustCompile(`^v[0-9]+$`)
)

// schemaName derives the schema's name from the module path: "example.com/my_chat" -> "my-chat".
func schemaName(module string) string {
	name := strings.ToLower(path.Base(module))
	if reMajorSuffix.MatchString(name) && path.Dir(module) != "." {
		name = strings.ToLower(path.Base(path.Dir(module))) // example.com/chat/v2 -> chat
	}
	name = strings.Trim(reNotSchemaName.ReplaceAllString(name, "-"), "-")
	if name == "" || name[0] < 'a' || name[0] > 'z' {
		return "app"
	}
	return name
}

// modulePath reads the module path from a go.mod file.
func modulePath(goMod string) (string, error) {
	f, err := os.Open(goMod)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s not found: give the module path with --module, or run go mod init first", goMod)
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			m := strings.TrimSpace(strings.SplitN(rest, "//", 2)[0])
			if unquoted, err := strconv.Unquote(m); err == nil {
				m = unquoted
			}
			if m != "" {
				return m, nil
			}
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read %s: %w", goMod, err)
	}
	return "", fmt.Errorf("%s has no module line: give the module path with --module", goMod)
}

func existingFiles(dir string, files []scaffoldFile) []string {
	var existing []string
	for _, f := range files {
		if p := projectPath(dir, f.name); fileExists(p) {
			existing = append(existing, p)
		}
	}
	return existing
}

// projectPath is where the file named name (slash-separated, relative to the
// project directory dir unless absolute, as --ts-out may be) is written.
func projectPath(dir, name string) string {
	if p := filepath.FromSlash(name); filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, filepath.FromSlash(name))
}

func fileExists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// writeNew creates the file p, which must not exist (another process may have
// created it since existingFiles looked), and returns the directories it made
// for it, outermost first. A file it could not write whole is removed.
func writeNew(p string, data []byte) (made []string, err error) {
	for d := filepath.Dir(p); !fileExists(d); d = filepath.Dir(d) {
		made = append([]string{d}, made...)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return made, err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return made, err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(p)
		return made, fmt.Errorf("write %s: %w", p, err)
	}
	return made, nil
}

// initNextSteps are the commands that take an initialized module to a running
// server; the README's "Use KARL in your own project" lists the same.
var initNextSteps = []string{
	"go get -tool github.com/karl-app/karl/gen/cmd/karlgen",
	"go mod tidy",
	"go run .            # serves on http://localhost:3000",
}

func nextSteps(dir, module string, inModule bool) string {
	var b strings.Builder
	b.WriteString("\nnext:\n")
	if dir != "." {
		fmt.Fprintf(&b, "  cd %s\n", shellJoin([]string{dir}))
	}
	if !inModule {
		fmt.Fprintf(&b, "  go mod init %s\n", shellJoin([]string{module}))
	}
	for _, step := range initNextSteps {
		fmt.Fprintf(&b, "  %s\n", step)
	}
	b.WriteString("after editing schema.yaml:\n  go generate ./...   # rewrites events/ from it\n")
	return b.String()
}
