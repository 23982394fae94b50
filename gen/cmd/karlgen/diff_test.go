package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const diffCases = "../../review/testdata/diff"

func runKarlgen(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestDiffExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"breaking", []string{"diff", diffCases + "/event-removed/old.yaml", diffCases + "/event-removed/new.yaml"}, 1},
		{"breaking with a major bump", []string{"diff", diffCases + "/major-bump/old.yaml", diffCases + "/major-bump/new.yaml"}, 0},
		{"safe only", []string{"diff", diffCases + "/event-added/old.yaml", diffCases + "/event-added/new.yaml"}, 0},
		{"no change", []string{"diff", "../../../schema/karl.yaml", "../../../schema/karl.yaml"}, 0},
		{"flags after the files", []string{"diff", diffCases + "/event-removed/old.yaml", diffCases + "/event-removed/new.yaml", "--format", "markdown"}, 1},
		{"one file", []string{"diff", diffCases + "/event-removed/old.yaml"}, 2},
		{"unknown format", []string{"diff", "--format", "json", diffCases + "/event-removed/old.yaml", diffCases + "/event-removed/new.yaml"}, 2},
		{"missing file", []string{"diff", "nothing.yaml", diffCases + "/event-removed/new.yaml"}, 2},
		{"invalid schema", []string{"diff", diffCases + "/event-removed/old.yaml", "../../review/testdata/diff"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runKarlgen(t, tc.args...)
			if code != tc.want {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.want, stdout, stderr)
			}
		})
	}
}

func TestDiffFormats(t *testing.T) {
	files := []string{diffCases + "/event-removed/old.yaml", diffCases + "/event-removed/new.yaml"}
	for format, want := range map[string]string{
		"text":     "../../review/testdata/diff/event-removed/new.yaml:10:3: breaks old clients: client event \"logout\": removed",
		"markdown": "| :x: | client event \"logout\": removed | breaks old clients |",
		"github":   "::error file=../../review/testdata/diff/event-removed/new.yaml,line=10,col=3,title=Breaking schema change%3A breaks old clients::client event \"logout\": removed",
	} {
		_, stdout, _ := runKarlgen(t, append([]string{"diff", "--format", format}, files...)...)
		if !strings.Contains(stdout, want) {
			t.Errorf("--format %s: output lacks %q:\n%s", format, want, stdout)
		}
	}
}

// TestDiffAgainst compares a schema with its committed version in a temporary repository.
func TestDiffAgainst(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	repo := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	copyFile(t, diffCases+"/event-removed/old.yaml", filepath.Join(repo, "schema", "app.yaml"))
	git("init", "-q", "-b", "main")
	git("add", ".")
	git("commit", "-q", "-m", "v1")
	copyFile(t, diffCases+"/event-removed/new.yaml", filepath.Join(repo, "schema", "app.yaml"))
	copyFile(t, diffCases+"/event-removed/new.yaml", filepath.Join(repo, "schema", "added.yaml"))

	code, stdout, stderr := runKarlgen(t, "diff", "--against", "main", filepath.Join(repo, "schema", "app.yaml"))
	if code != 1 || !strings.Contains(stdout, `client event "logout": removed (was main:`) {
		t.Errorf("absolute path: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	t.Chdir(repo)
	code, stdout, stderr = runKarlgen(t, "diff", "--against", "HEAD", "schema/app.yaml")
	if code != 1 || !strings.Contains(stdout, "(was HEAD:schema/app.yaml:14:3)") {
		t.Errorf("relative path: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	code, _, stderr = runKarlgen(t, "diff", "--against", "no-such-ref", "schema/app.yaml")
	if code != 2 || !strings.Contains(stderr, "git show no-such-ref:schema/app.yaml") {
		t.Errorf("unknown revision: exit %d, want 2\nstderr:\n%s", code, stderr)
	}

	// A schema added since the revision: nobody was built from it, every event is new.
	code, stdout, stderr = runKarlgen(t, "diff", "--against", "HEAD", "schema/added.yaml")
	if code != 0 || strings.Contains(stderr, "usage:") || !strings.Contains(stderr, "schema/added.yaml does not exist at HEAD") ||
		strings.Count(stdout, "[event-added]") != 2 || strings.Count(stdout, "\nschema/added.yaml:") != 2 {
		t.Errorf("file not at the revision: exit %d, want 0 and every event added\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
