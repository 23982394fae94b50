package ts

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/karl-app/karl/gen/model"
	"github.com/karl-app/karl/internal/golden"
	"github.com/karl-app/karl/schema"
)

// TestGolden renders every testdata/<case>/schema.yaml and compares each file with
// testdata/<case>/<file>. The goldens are type-checked with tsc by the tsclient test
// suite (npm run typecheck, tsconfig.goldens.json).
func TestGolden(t *testing.T) {
	cases, err := filepath.Glob("testdata/*/schema.yaml")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, path := range cases {
		dir := filepath.Dir(path)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			files := generate(t, path)
			var names []string
			for _, f := range files {
				names = append(names, f.Name)
				golden.Compare(t, filepath.Join(dir, f.Name), f.Data)
			}
			stale, _ := filepath.Glob(filepath.Join(dir, "*.ts"))
			for _, p := range stale {
				if !slices.Contains(names, filepath.Base(p)) {
					t.Errorf("%s is not generated any more; delete it", p)
				}
			}
		})
	}
}

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
	a, b := generate(t, "testdata/kitchen-sink/schema.yaml"), generate(t, "testdata/kitchen-sink/schema.yaml")
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two runs differ (-first +second):\n%s", diff)
	}
}
