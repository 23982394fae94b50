package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/karl-app/karl/gen/review"
	"github.com/karl-app/karl/schema"
)

const lintUsage = `usage: karlgen lint [--schema schema/karl.yaml]

Checks the conventions of a schema: kebab-case event names, camelCase fields,
every event documented, every declared error code and named type used,
consistent targets. Problems are printed file:line:col, like schema errors.

Exit status: 0 when clean or with warnings only; 1 on a lint error; 2 on bad input.

flags:
`

func lintCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("karlgen lint", flag.ContinueOnError)
	path := fs.String("schema", "schema/karl.yaml", "schema file")
	rest, code, ok := parseFlags(fs, lintUsage, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "karlgen lint: unexpected argument %q (give the schema with --schema)\n", rest[0])
		return 2
	}
	s, err := schema.Load(*path)
	if err != nil {
		printError(stderr, err)
		return 2
	}
	errs, warnings := 0, 0
	for _, p := range review.Lint(s) {
		fmt.Fprintln(stdout, p)
		if p.Severity == review.Error {
			errs++
		} else {
			warnings++
		}
	}
	if errs > 0 {
		fmt.Fprintf(stderr, "karlgen lint: %s: %d errors, %d warnings\n", *path, errs, warnings)
		return 1
	}
	if warnings == 0 {
		fmt.Fprintf(stdout, "karlgen lint: %s is clean\n", *path)
	}
	return 0
}
