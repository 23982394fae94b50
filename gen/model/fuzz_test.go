package model

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/karl-app/karl/schema"
)

// FuzzBuild feeds any input to the loader and, when it loads, to the model: neither
// may panic, and the model either builds or reports errors positioned in the file.
// Seeds: every golden schema. Run longer with go test ./gen/model -fuzz FuzzBuild.
func FuzzBuild(f *testing.F) {
	seeds, _ := filepath.Glob("../testdata/*/schema.yaml")
	for _, p := range seeds {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := schema.Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		m, err := Build(s, "fuzz.yaml")
		if err != nil {
			list, ok := err.(schema.ErrorList)
			if !ok || len(list) == 0 {
				t.Fatalf("Build failed without positioned errors: %v", err)
			}
			for _, e := range list {
				if e.Pos.File != "fuzz.yaml" || e.Pos.Line < 1 {
					t.Fatalf("error without a position: %v", e)
				}
			}
			return
		}
		if m.Auth == nil {
			t.Fatal("model without auth struct")
		}
	})
}
