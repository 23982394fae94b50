// Command karlgen generates typed Socket.IO code from a KARL schema and reviews
// schema changes.
//
//	karlgen generate --schema schema/karl.yaml --go-out app/events --go-package events [--ts-out DIR [--ts-import-suffix .js]]
//	karlgen check    (same flags)   exit 1 with a diff when a generated file is stale
//
// It holds no generation logic: flags, files and exit codes only.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aymanbagabas/go-udiff"

	"github.com/karl-app/karl/gen"
)

const usage = `usage: karlgen <command> [flags]

commands:
  generate   write the generated Go and TypeScript files (only those whose bytes changed)
  check      exit 1 and print a diff when a generated file is stale
  help       show this text

run "karlgen <command> -h" for the flags of a command
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command and returns the process exit code:
// 0 success, 1 findings (stale files, breaking changes, lint errors), 2 usage or input errors.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "generate":
		return generate(rest, stdout, stderr, false)
	case "check":
		return generate(rest, stdout, stderr, true)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	if extra, ok := commands[cmd]; ok {
		return extra(rest, stdout, stderr)
	}
	fmt.Fprintf(stderr, "karlgen: unknown command %q\n\n%s", cmd, usage)
	return 2
}

// commands holds the commands defined in other files of this package.
var commands = map[string]func(args []string, stdout, stderr io.Writer) int{}

func generate(args []string, stdout, stderr io.Writer, checkOnly bool) int {
	name := "generate"
	if checkOnly {
		name = "check"
	}
	fs := flag.NewFlagSet("karlgen "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg gen.Config
	fs.StringVar(&cfg.Schema, "schema", "schema/karl.yaml", "schema file")
	fs.StringVar(&cfg.GoOut, "go-out", "", "directory of the generated Go package (empty: no Go)")
	fs.StringVar(&cfg.GoPackage, "go-package", "events", "name of the generated Go package")
	fs.StringVar(&cfg.TSOut, "ts-out", "", "directory of the generated TypeScript (empty: no TypeScript)")
	fs.StringVar(&cfg.TSImportSuffix, "ts-import-suffix", "", `suffix of the imports between TypeScript files: "" (extensionless: Metro, bundlers) or ".js" (tsc nodenext)`)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if cfg.TSImportSuffix != "" && !strings.HasPrefix(cfg.TSImportSuffix, ".") {
		fmt.Fprintf(stderr, "karlgen: --ts-import-suffix %q: want \"\" or an extension such as \".js\"\n", cfg.TSImportSuffix)
		return 2
	}
	if cfg.GoOut == "" && cfg.TSOut == "" {
		fmt.Fprintln(stderr, "karlgen: nothing to do: give --go-out and/or --ts-out")
		return 2
	}
	files, err := gen.Run(cfg)
	if err != nil {
		printError(stderr, err)
		return 2
	}
	if checkOnly {
		return check(files, args, stdout, stderr)
	}
	written, err := gen.Write(files)
	for _, p := range written {
		fmt.Fprintf(stdout, "wrote %s\n", p)
	}
	if err != nil {
		fmt.Fprintf(stderr, "karlgen: %v\n", err)
		return 2
	}
	return 0
}

func check(files []gen.File, args []string, stdout, stderr io.Writer) int {
	return reportStale(files, "karlgen generate "+strings.Join(args, " "), stdout, stderr)
}

// reportStale prints a diff of each stale file and the command that fixes them;
// it returns the exit code: 0 when every file is up to date, 1 otherwise.
func reportStale(files []gen.File, fix string, stdout, stderr io.Writer) int {
	stale := gen.Stale(files)
	if len(stale) == 0 {
		fmt.Fprintf(stdout, "karlgen: %d generated files are up to date\n", len(files))
		return 0
	}
	for _, f := range stale {
		old, _ := os.ReadFile(f.Path)
		fmt.Fprint(stdout, udiff.Unified(f.Path+" (on disk)", f.Path+" (generated)", string(old), string(f.Data)))
	}
	fmt.Fprintf(stderr, "karlgen: %d generated files are stale; run: %s (or: make generate)\n", len(stale), fix)
	return 1
}

// printError prints schema errors one per line, compiler style.
func printError(w io.Writer, err error) {
	var list interface{ Unwrap() []error }
	if errors.As(err, &list) {
		for _, e := range list.Unwrap() {
			fmt.Fprintln(w, e)
		}
		return
	}
	fmt.Fprintln(w, err)
}
