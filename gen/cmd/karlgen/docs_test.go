package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDocsWriteAndCheck(t *testing.T) {
	out := t.TempDir()
	schemaArgs := []string{"--schema", "../../../schema/karl.yaml", "--out", out}

	code, stdout, stderr := runKarlgen(t, append([]string{"docs"}, schemaArgs...)...)
	if code != 0 || strings.Count(stdout, "wrote ") != 2 {
		t.Fatalf("first run: exit %d, want 0 and two files written\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	events := filepath.Join(out, "EVENTS.md")
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(events, old, old); err != nil {
		t.Fatal(err)
	}

	code, stdout, _ = runKarlgen(t, append([]string{"docs"}, schemaArgs...)...)
	if info, err := os.Stat(events); code != 0 || stdout != "" || err != nil || !info.ModTime().Equal(old) {
		t.Errorf("second run: exit %d, output %q: unchanged files must not be written", code, stdout)
	}

	code, stdout, _ = runKarlgen(t, append([]string{"docs", "--check"}, schemaArgs...)...)
	if code != 0 || !strings.Contains(stdout, "up to date") {
		t.Errorf("--check on fresh files: exit %d, want 0\n%s", code, stdout)
	}

	if err := os.WriteFile(events, []byte("# Events\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runKarlgen(t, append([]string{"docs", "--check"}, schemaArgs...)...)
	if code != 1 || !strings.Contains(stdout, "EVENTS.md (on disk)") || !strings.Contains(stderr, "1 generated files are stale") {
		t.Errorf("--check on a stale file: exit %d, want 1 with a diff\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if data, _ := os.ReadFile(events); string(data) != "# Events\n" {
		t.Errorf("--check wrote %s", events)
	}
}

func TestDocsBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"docs", "--schema", "nothing.yaml", "--out", t.TempDir()},
		{"docs", "stray"},
	} {
		if code, _, _ := runKarlgen(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
