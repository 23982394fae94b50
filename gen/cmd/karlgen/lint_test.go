package main

import (
	"strings"
	"testing"
)

func TestLintExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		want   int
		output string
	}{
		{"karl.yaml is clean", []string{"lint", "--schema", "../../../schema/karl.yaml"}, 0, "is clean"},
		{"errors", []string{"lint", "--schema", "../../review/testdata/lint/event-name/schema.yaml"}, 1, `schema.yaml:4:3: event "setUsername": name is not kebab-case`},
		{"warnings only", []string{"lint", "--schema", "../../review/testdata/lint/to-all/schema.yaml"}, 0, "warning: "},
		{"missing schema", []string{"lint", "--schema", "nothing.yaml"}, 2, ""},
		{"stray argument", []string{"lint", "schema.yaml"}, 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runKarlgen(t, tc.args...)
			if code != tc.want || !strings.Contains(stdout, tc.output) {
				t.Errorf("exit %d, want %d, output with %q\nstdout:\n%s\nstderr:\n%s", code, tc.want, tc.output, stdout, stderr)
			}
		})
	}
}
