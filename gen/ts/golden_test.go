package ts

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/karl-app/karl/gen/model"
	"github.com/karl-app/karl/schema"
)

// generate loads a schema and renders it, recording its path as the source.
func generate(t *testing.T, path string) []File {
	t.Helper()
	s, err := schema.Load(path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	m, err := model.Build(s, filepath.ToSlash(filepath.Join("gen/ts", path)))
	if err != nil {
		t.Fatalf("model %s: %v", path, err)
	}
	return Generate(m)
}

// TestGenerateIsDeterministic renders the same schema twice and expects the same bytes.
func TestGenerateIsDeterministic(t *testing.T) {
	a, b := generate(t, "../testdata/kitchen-sink/schema.yaml"), generate(t, "../testdata/kitchen-sink/schema.yaml")
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two runs differ (-first +second):\n%s", diff)
	}
}
