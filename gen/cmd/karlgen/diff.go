package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/karl-app/karl/gen/review"
	"github.com/karl-app/karl/schema"
)

func init() { commands["diff"] = diffCommand }

const diffUsage = `usage: karlgen diff [--format text|markdown|github] OLD NEW
       karlgen diff [--format text|markdown|github] --against GIT-REF NEW

Classifies every change from the schema OLD to the schema NEW by whom it breaks:
old clients talking to the new server, new clients talking to old servers, or
nobody. With --against, OLD is NEW as it is at GIT-REF (git show GIT-REF:NEW).

Exit status: 0 when nothing breaks, or when NEW raises the major version;
1 when a change breaks someone without a major version bump; 2 on bad input.

flags:
`

func diffCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("karlgen diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, diffUsage); fs.PrintDefaults() }
	format := fs.String("format", "text", "output: text, markdown (a pull-request comment) or github (workflow annotations)")
	against := fs.String("against", "", "compare NEW with its version at this git revision, e.g. origin/main")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if !slices.Contains(review.Formats, *format) {
		fmt.Fprintf(stderr, "karlgen diff: unknown format %q (text, markdown or github)\n", *format)
		return 2
	}
	oldSchema, newSchema, err := loadDiffInputs(files, *against)
	if err != nil {
		fs.Usage()
		printError(stderr, err)
		return 2
	}
	r := review.Diff(oldSchema, newSchema)
	if err := r.Write(stdout, *format); err != nil {
		fmt.Fprintf(stderr, "karlgen diff: %v\n", err)
		return 2
	}
	if r.Failed() {
		return 1
	}
	return 0
}

// loadDiffInputs loads OLD and NEW, OLD from git when against names a revision.
func loadDiffInputs(files []string, against string) (oldSchema, newSchema *schema.Schema, err error) {
	switch {
	case against == "" && len(files) != 2:
		return nil, nil, fmt.Errorf("karlgen diff: give OLD and NEW, or --against GIT-REF and NEW")
	case against != "" && len(files) != 1:
		return nil, nil, fmt.Errorf("karlgen diff: with --against, give NEW only")
	}
	newFile := files[len(files)-1]
	if newSchema, err = schema.Load(newFile); err != nil {
		return nil, nil, err
	}
	if against == "" {
		oldSchema, err = schema.Load(files[0])
		return oldSchema, newSchema, err
	}
	data, err := gitShow(against, newFile)
	if err != nil {
		return nil, nil, err
	}
	oldSchema, err = schema.Parse(against+":"+newFile, data)
	return oldSchema, newSchema, err
}

// gitShow returns the content of path at revision ref. It runs git in the file's
// directory with a ./ path, which git resolves from there, so path may be relative
// to the working directory or absolute.
func gitShow(ref, path string) ([]byte, error) {
	cmd := exec.Command("git", "-C", filepath.Dir(path), "show", ref+":./"+filepath.Base(path))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("karlgen diff: git show %s:%s: %v: %s", ref, path, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// parseInterspersed parses flags written before, between or after the positional
// arguments (flag.Parse stops at the first positional one) and returns those.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}
