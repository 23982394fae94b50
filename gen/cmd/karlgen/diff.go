package main

import (
	"bytes"
	"errors"
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

const diffUsage = `usage: karlgen diff [--format text|markdown|github] OLD NEW
       karlgen diff [--format text|markdown|github] --against GIT-REF NEW

Classifies every change from the schema OLD to the schema NEW by whom it breaks:
old clients talking to the new server, new clients talking to old servers, or
nobody. With --against, OLD is NEW as it is at GIT-REF (git show GIT-REF:NEW);
when NEW does not exist at GIT-REF, every event is reported as added.

Exit status: 0 when nothing breaks, or when NEW raises the major version;
1 when a change breaks someone without a major version bump; 2 on bad input.

flags:
`

func diffCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("karlgen diff", flag.ContinueOnError)
	format := fs.String("format", "text", "output: text, markdown (a pull-request comment) or github (workflow annotations)")
	against := fs.String("against", "", "compare NEW with its version at this git revision, e.g. origin/main")
	files, code, ok := parseFlags(fs, diffUsage, args, stdout, stderr)
	if !ok {
		return code
	}
	if !slices.Contains(review.Formats, *format) {
		fmt.Fprintf(stderr, "karlgen diff: unknown format %q (text, markdown or github)\n", *format)
		return 2
	}
	oldSchema, newSchema, err := loadDiffInputs(files, *against, stderr)
	if err != nil {
		if errors.Is(err, errDiffArgs) {
			fmt.Fprint(stderr, diffUsage)
			fs.SetOutput(stderr)
			fs.PrintDefaults()
		}
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

// errDiffArgs marks a wrong number of files: the usage is printed with it.
var errDiffArgs = errors.New("karlgen diff: wrong arguments")

// loadDiffInputs loads OLD and NEW, OLD from git when against names a revision.
func loadDiffInputs(files []string, against string, stderr io.Writer) (oldSchema, newSchema *schema.Schema, err error) {
	switch {
	case against == "" && len(files) != 2:
		return nil, nil, fmt.Errorf("%w: give OLD and NEW, or --against GIT-REF and NEW", errDiffArgs)
	case against != "" && len(files) != 1:
		return nil, nil, fmt.Errorf("%w: with --against, give NEW only", errDiffArgs)
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
	if errors.Is(err, errNotAtRevision) {
		fmt.Fprintf(stderr, "karlgen diff: %s does not exist at %s: every event is new\n", newFile, against)
		return withoutEvents(newSchema, against+":"+newFile), newSchema, nil
	}
	if err != nil {
		return nil, nil, err
	}
	oldSchema, err = schema.Parse(against+":"+newFile, data)
	return oldSchema, newSchema, err
}

// withoutEvents is the OLD side of a schema file that is new at this revision:
// NEW without its events. Nobody was built from it, so its header, auth, types
// and error codes are NEW's own (nothing to compare) and every event is added.
func withoutEvents(s *schema.Schema, file string) *schema.Schema {
	old := *s
	old.File = file
	old.Client, old.Server = nil, nil
	return &old
}

// errNotAtRevision reports that a file does not exist at a git revision that does.
var errNotAtRevision = errors.New("file not at revision")

// gitShow returns the content of path at revision ref. It runs git in the file's
// directory with a ./ path, which git resolves from there, so path may be relative
// to the working directory or absolute. When ref is a valid commit without that
// file, the error is errNotAtRevision.
func gitShow(ref, path string) ([]byte, error) {
	dir, rel := filepath.Dir(path), "./"+filepath.Base(path)
	out, err := git(dir, "show", ref+":"+rel)
	if err == nil {
		return out, nil
	}
	if _, revErr := git(dir, "rev-parse", "--verify", "--quiet", ref+"^{commit}"); revErr == nil {
		if _, existsErr := git(dir, "cat-file", "-e", ref+":"+rel); existsErr != nil {
			return nil, fmt.Errorf("karlgen diff: %s at %s: %w", path, ref, errNotAtRevision)
		}
	}
	return nil, fmt.Errorf("karlgen diff: git show %s:%s: %w", ref, path, err)
}

// git runs git in dir and returns its output; the error carries git's message.
func git(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
