package ts

import (
	"regexp"
	"testing"

	"github.com/karl-app/karl/gen/model"
	"github.com/karl-app/karl/schema"
)

// relativeImport matches the specifier of an import or export between generated files.
var relativeImport = regexp.MustCompile(`from "(\./[^"]*)"`)

// TestImportSuffix renders the kitchen sink with each suffix and checks every relative
// specifier of every file: extensionless by default (Metro resolves only those), ".js"
// ended when asked (Node ESM).
func TestImportSuffix(t *testing.T) {
	for _, tc := range []struct {
		suffix string
		want   *regexp.Regexp
	}{
		{"", regexp.MustCompile(`^\./[a-z]+$`)},
		{".js", regexp.MustCompile(`^\./[a-z]+\.js$`)},
	} {
		count := 0
		for _, f := range Generate(kitchenSink(t), Options{ImportSuffix: tc.suffix}) {
			for _, m := range relativeImport.FindAllStringSubmatch(string(f.Data), -1) {
				count++
				if !tc.want.MatchString(m[1]) {
					t.Errorf("suffix %q: %s imports %q, want %v", tc.suffix, f.Name, m[1], tc.want)
				}
			}
		}
		if count < 20 {
			t.Errorf("suffix %q: %d relative imports found, expected every file's", tc.suffix, count)
		}
	}
}

func kitchenSink(t *testing.T) *model.Schema {
	t.Helper()
	s, err := schema.Load("../testdata/kitchen-sink/schema.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(s, "kitchen-sink.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return m
}
