package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTSImportSuffix checks --ts-import-suffix: extensionless imports by default, ".js"
// when asked, and a suffix that is not an extension refused as a usage error.
func TestTSImportSuffix(t *testing.T) {
	for _, tc := range []struct {
		name    string
		suffix  []string
		want    int
		imports string
	}{
		{"default", nil, 0, `from "./types";`},
		{".js", []string{"--ts-import-suffix", ".js"}, 0, `from "./types.js";`},
		{"not an extension", []string{"--ts-import-suffix", "js"}, 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			args := append([]string{"generate", "--schema", "../../../schema/karl.yaml", "--ts-out", out}, tc.suffix...)
			code, _, stderr := runKarlgen(t, args...)
			if code != tc.want {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.want, stderr)
			}
			if tc.imports == "" {
				return
			}
			index, err := os.ReadFile(filepath.Join(out, "index.ts"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(index), tc.imports) {
				t.Errorf("index.ts lacks %q:\n%s", tc.imports, index)
			}
		})
	}
}
