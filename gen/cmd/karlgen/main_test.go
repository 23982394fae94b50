package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHelpListsEveryCommand(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"help", []string{"help"}, 0},
		{"--help", []string{"--help"}, 0},
		{"no arguments", nil, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runKarlgen(t, tc.args...)
			if code != tc.want {
				t.Errorf("exit %d, want %d", code, tc.want)
			}
			out := stdout + stderr
			for _, c := range commands {
				if !strings.Contains(out, "\n  "+c.name+" ") {
					t.Errorf("the command list lacks %q:\n%s", c.name, out)
				}
			}
			for _, c := range []string{"generate", "check", "diff", "lint", "docs", "init"} {
				if !strings.Contains(out, "\n  "+c+" ") {
					t.Errorf("the command list lacks %q:\n%s", c, out)
				}
			}
		})
	}
}

func TestCommandHelp(t *testing.T) {
	for _, args := range [][]string{{"help", "-h"}, {"help", "--help"}, {"help", "help"}} {
		if code, stdout, _ := runKarlgen(t, args...); code != 0 || !strings.Contains(stdout, "commands:") {
			t.Errorf("karlgen %s: exit %d, want 0 and the command list\n%s", strings.Join(args, " "), code, stdout)
		}
	}
	for _, c := range commands {
		if c.name == "help" {
			continue
		}
		for _, flag := range []string{"-h", "--help"} {
			code, stdout, stderr := runKarlgen(t, c.name, flag)
			if code != 0 || !strings.HasPrefix(stdout, "usage: karlgen "+c.name) || stderr != "" {
				t.Errorf("karlgen %s %s: exit %d, want 0 and its usage on stdout\nstdout:\n%s\nstderr:\n%s", c.name, flag, code, stdout, stderr)
			}
		}
		code, stdout, _ := runKarlgen(t, "help", c.name)
		if code != 0 || !strings.HasPrefix(stdout, "usage: karlgen "+c.name) {
			t.Errorf("karlgen help %s: exit %d, want 0 and its usage\n%s", c.name, code, stdout)
		}
	}
}

func TestBadFlagExits2(t *testing.T) {
	for _, c := range commands {
		if c.name == "help" {
			continue
		}
		code, stdout, stderr := runKarlgen(t, c.name, "--no-such-flag")
		if code != 2 || stdout != "" || !strings.Contains(stderr, "usage: karlgen "+c.name) {
			t.Errorf("karlgen %s --no-such-flag: exit %d, want 2 with the usage on stderr\nstdout:\n%s\nstderr:\n%s", c.name, code, stdout, stderr)
		}
	}
	if code, _, _ := runKarlgen(t, "frobnicate"); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
}

// TestCheckNamesTheCommand checks that a stale file is reported with the karlgen
// command that regenerates it, built from the flags given, never a make target
// (karlgen runs in projects that have no Makefile of ours).
func TestCheckNamesTheCommand(t *testing.T) {
	dir := t.TempDir()
	schemaPath := filepath.Join(dir, "my schema.yaml")
	copyFile(t, "../../testdata/minimal/schema.yaml", schemaPath)
	out := filepath.Join(dir, "events")
	code, stdout, stderr := runKarlgen(t, "check", "--go-package", "events", "--schema", schemaPath, "--go-out", out)
	want := "run: karlgen generate --schema '" + schemaPath + "' --go-out " + out + " --go-package events\n"
	if code != 1 || !strings.HasSuffix(stderr, want) || strings.Contains(stderr, "make ") {
		t.Errorf("stale: exit %d, want 1 and stderr ending with %q\nstdout:\n%s\nstderr:\n%s", code, want, stdout, stderr)
	}
	if code, _, stderr := runKarlgen(t, "generate", "--schema", schemaPath, "--go-out", out); code != 0 {
		t.Fatalf("generate: exit %d\n%s", code, stderr)
	}
	if code, stdout, _ := runKarlgen(t, "check", "--schema", schemaPath, "--go-out", out); code != 0 || !strings.Contains(stdout, "up to date") {
		t.Errorf("fresh: exit %d, want 0\n%s", code, stdout)
	}
	if err := os.WriteFile(filepath.Join(out, "server.go"), []byte("package events\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runKarlgen(t, "docs", "--check", "--schema", schemaPath, "--out", dir)
	if want := "run: karlgen docs --schema '" + schemaPath + "' --out " + dir + "\n"; code != 1 || !strings.HasSuffix(stderr, want) {
		t.Errorf("docs --check: exit %d, want 1 and stderr ending with %q\n%s", code, want, stderr)
	}
}

func TestShellJoin(t *testing.T) {
	got := shellJoin([]string{"karlgen", "generate", "--schema", "../schema.yaml", "a b", "it's", ""})
	want := `karlgen generate --schema ../schema.yaml 'a b' 'it'\''s' ''`
	if got != want {
		t.Errorf("shellJoin = %s, want %s", got, want)
	}
}
