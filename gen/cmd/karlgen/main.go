// Command karlgen generates typed Socket.IO code from a KARL schema and reviews
// schema changes.
//
//	karlgen generate --schema schema/karl.yaml --go-out app/events --go-package events [--ts-out DIR [--ts-import-suffix .js]]
//	karlgen check    (same flags)   exit 1 with a diff when a generated file is stale
//	karlgen diff | lint | docs | init   see "karlgen help"
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

// command is one karlgen subcommand.
type command struct {
	name    string
	summary string // one line for "karlgen help"
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands lists every command in the order "karlgen help" shows them.
// It is filled in init so that the help command can read it.
var commands []command

func init() {
	commands = []command{
		{"generate", "write the generated Go and TypeScript files (only those whose bytes changed)", generateCommand},
		{"check", "exit 1 and print a diff when a generated file is stale (same flags as generate)", checkCommand},
		{"diff", "classify the changes between two schemas by whom they break (old clients, old servers)", diffCommand},
		{"lint", "check a schema's conventions: names, docs, unused codes and types", lintCommand},
		{"docs", "write EVENTS.md and asyncapi.yaml from a schema, or check they are fresh", docsCommand},
		{"init", "scaffold a project that uses KARL: schema, go:generate line, main.go, handler", initCommand},
		{"help", "show this text", helpCommand},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command and returns the process exit code:
// 0 success, 1 findings (stale files, breaking changes, lint errors), 2 usage or input errors.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return 2
	}
	name, rest := args[0], args[1:]
	if name == "-h" || name == "--help" || name == "-help" {
		name = "help"
	}
	for _, c := range commands {
		if c.name == name {
			return c.run(rest, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "karlgen: unknown command %q\n\n", name)
	printUsage(stderr)
	return 2
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, "usage: karlgen <command> [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s  %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nrun \"karlgen <command> -h\" for the flags of a command\n")
}

// helpCommand prints the command list, or with a command name that command's usage.
func helpCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help" {
		printUsage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] && c.name != "help" {
			return c.run([]string{"-h"}, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "karlgen help: unknown command %q\n\n", args[0])
	printUsage(stderr)
	return 2
}

// parseFlags parses flags written before, between or after the positional
// arguments and returns those. -h and --help print usage and the flags to stdout
// and return exit code 0; a bad flag prints them to stderr and returns 2.
// ok is false when the command must stop and return code.
func parseFlags(fs *flag.FlagSet, usage string, args []string, stdout, stderr io.Writer) (positional []string, code int, ok bool) {
	fs.SetOutput(stderr) // where the flag package reports a bad flag
	fs.Usage = func() {} // printed below, to the right stream
	printHelp := func(w io.Writer) {
		fmt.Fprint(w, usage)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(stderr)
	}
	positional, err := parseInterspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printHelp(stdout)
		return nil, 0, false
	case err != nil:
		printHelp(stderr)
		return nil, 2, false
	}
	return positional, 0, true
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

const generateUsage = `usage: karlgen generate --schema FILE [--go-out DIR --go-package NAME] [--ts-out DIR]

Writes the Go server code (handler interface, payload structs, emitters) and the
TypeScript client of the schema FILE. Only files whose bytes changed are written.

flags:
`

const checkUsage = `usage: karlgen check --schema FILE [--go-out DIR --go-package NAME] [--ts-out DIR]

Generates like "karlgen generate" with the same flags, writes nothing, and exits 1
with a diff and the command to run when a generated file is stale.

flags:
`

func generateCommand(args []string, stdout, stderr io.Writer) int {
	return generate(args, stdout, stderr, false)
}

func checkCommand(args []string, stdout, stderr io.Writer) int {
	return generate(args, stdout, stderr, true)
}

func generate(args []string, stdout, stderr io.Writer, checkOnly bool) int {
	name, usage := "generate", generateUsage
	if checkOnly {
		name, usage = "check", checkUsage
	}
	fs := flag.NewFlagSet("karlgen "+name, flag.ContinueOnError)
	var cfg gen.Config
	fs.StringVar(&cfg.Schema, "schema", "schema/karl.yaml", "schema file")
	fs.StringVar(&cfg.GoOut, "go-out", "", "directory of the generated Go package (empty: no Go)")
	fs.StringVar(&cfg.GoPackage, "go-package", "events", "name of the generated Go package")
	fs.StringVar(&cfg.TSOut, "ts-out", "", "directory of the generated TypeScript (empty: no TypeScript)")
	fs.StringVar(&cfg.TSImportSuffix, "ts-import-suffix", "", `suffix of the imports between TypeScript files: "" (extensionless: Metro, bundlers) or ".js" (tsc nodenext)`)
	rest, code, ok := parseFlags(fs, usage, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "karlgen %s: unexpected argument %q (give the schema with --schema)\n", name, rest[0])
		return 2
	}
	if cfg.TSImportSuffix != "" && !strings.HasPrefix(cfg.TSImportSuffix, ".") {
		fmt.Fprintf(stderr, "karlgen: --ts-import-suffix %q: want \"\" or an extension such as \".js\"\n", cfg.TSImportSuffix)
		return 2
	}
	if cfg.GoOut == "" && cfg.TSOut == "" {
		fmt.Fprintf(stderr, "karlgen %s: nothing to do: give --go-out and/or --ts-out\n", name)
		return 2
	}
	files, err := gen.Run(cfg.Schema, cfg.Emitters()...)
	if err != nil {
		printError(stderr, err)
		return 2
	}
	if checkOnly {
		return reportStale(files, generateCommandLine(cfg), stdout, stderr)
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

// generateCommandLine is the karlgen command that regenerates what cfg describes,
// written so that it can be pasted into a shell.
func generateCommandLine(cfg gen.Config) string {
	args := []string{"karlgen", "generate", "--schema", cfg.Schema}
	if cfg.GoOut != "" {
		args = append(args, "--go-out", cfg.GoOut, "--go-package", cfg.GoPackage)
	}
	if cfg.TSOut != "" {
		args = append(args, "--ts-out", cfg.TSOut)
	}
	return shellJoin(args)
}

// shellJoin joins args into a command line, quoting those a POSIX shell would split or expand.
func shellJoin(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@+,") == "" {
			quoted[i] = a
			continue
		}
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
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
	fmt.Fprintf(stderr, "karlgen: %d generated files are stale; run: %s\n", len(stale), fix)
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
