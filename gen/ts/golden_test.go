package ts

import (
	"path/filepath"
	"regexp"
	"slices"
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
	return Generate(m, Options{})
}

// TestGenerateIsDeterministic renders the same schema twice and expects the same bytes.
func TestGenerateIsDeterministic(t *testing.T) {
	a, b := generate(t, "../testdata/kitchen-sink/schema.yaml"), generate(t, "../testdata/kitchen-sink/schema.yaml")
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two runs differ (-first +second):\n%s", diff)
	}
}

// TestStaticNamesReserved checks that every top-level name the static files declare
// is in model.TSModuleNames, so that no schema type or helper can take it.
func TestStaticNamesReserved(t *testing.T) {
	decl := regexp.MustCompile(`(?m)^(?:export )?(?:declare )?(?:async )?(?:function|const|let|class|interface|type|enum) ([A-Za-z_$][A-Za-z0-9_$]*)`)
	entries, err := static.ReadDir("static")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, _ := static.ReadFile("static/" + e.Name())
		for _, m := range decl.FindAllStringSubmatch(string(data), -1) {
			if !slices.Contains(model.TSModuleNames, m[1]) {
				t.Errorf("static/%s declares %s, which model.TSModuleNames does not list", e.Name(), m[1])
			}
		}
	}
}
