package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/karl-app/karl/gen"
	"github.com/karl-app/karl/gen/docs"
)

const docsUsage = `usage: karlgen docs [--schema schema/karl.yaml] [--out docs] [--check]

Writes OUT/EVENTS.md (the reference of every event, for people) and
OUT/asyncapi.yaml (AsyncAPI 3.0, for tools), each only when its bytes change.
With --check, writes nothing and exits 1 with a diff when a file is stale.

flags:
`

func docsCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("karlgen docs", flag.ContinueOnError)
	path := fs.String("schema", "schema/karl.yaml", "schema file")
	out := fs.String("out", "docs", "directory of EVENTS.md and asyncapi.yaml")
	checkOnly := fs.Bool("check", false, "exit 1 with a diff when a file is stale, write nothing")
	rest, code, ok := parseFlags(fs, docsUsage, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "karlgen docs: unexpected argument %q\n", rest[0])
		return 2
	}
	files, err := docsFiles(*path, *out)
	if err != nil {
		printError(stderr, err)
		return 2
	}
	if *checkOnly {
		return checkDocs(files, *path, *out, stdout, stderr)
	}
	written, err := gen.Write(files)
	for _, p := range written {
		fmt.Fprintf(stdout, "wrote %s\n", p)
	}
	if err != nil {
		fmt.Fprintf(stderr, "karlgen docs: %v\n", err)
		return 2
	}
	return 0
}

func docsFiles(path, out string) ([]gen.File, error) {
	m, err := gen.Load(path)
	if err != nil {
		return nil, err
	}
	generated, err := docs.Generate(m)
	if err != nil {
		return nil, err
	}
	files := make([]gen.File, len(generated))
	for i, f := range generated {
		files[i] = gen.File{Path: filepath.Join(out, f.Name), Data: f.Data}
	}
	return files, nil
}

func checkDocs(files []gen.File, path, out string, stdout, stderr io.Writer) int {
	return reportStale(files, shellJoin([]string{"karlgen", "docs", "--schema", path, "--out", out}), stdout, stderr)
}
