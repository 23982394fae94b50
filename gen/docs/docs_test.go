package docs

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/karl-app/karl/gen/model"
	"github.com/karl-app/karl/internal/golden"
	"github.com/karl-app/karl/schema"
)

// TestCommittedDocs checks that docs/EVENTS.md and docs/asyncapi.yaml are what
// karlgen docs produces for schema/karl.yaml.
func TestCommittedDocs(t *testing.T) {
	checkFiles(t, "../../schema/karl.yaml", "schema/karl.yaml", "../../docs")
}

// TestGoldenDocs renders the docs of each testdata/<case>/schema.yaml and
// compares them with the files beside it (make test-docs validates their AsyncAPI).
func TestGoldenDocs(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/*")
	if len(dirs) == 0 {
		t.Fatal("no cases in testdata")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			checkFiles(t, filepath.Join(dir, "schema.yaml"), "schema.yaml", dir)
		})
	}
}

func TestDeterministic(t *testing.T) {
	m := build(t, "../../schema/karl.yaml", "schema/karl.yaml")
	first, err := Generate(m)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		again, err := Generate(build(t, "../../schema/karl.yaml", "schema/karl.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, again); diff != "" {
			t.Fatalf("two runs differ (-first +again):\n%s", diff)
		}
	}
}

func TestAnchor(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"set-username", "set-username"},
		{"Username", "username"},
		{"Wire contract", "wire-contract"},
		{"chat.message", "chatmessage"},
		{"room:joined", "roomjoined"},
	} {
		if got := anchor(tc.in); got != tc.want {
			t.Errorf("anchor(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestChannelID(t *testing.T) {
	for in, want := range map[string]string{"/": "root", "/chat": "chat", "/admin/v2": "admin-v2"} {
		if got := channelID(in); got != want {
			t.Errorf("channelID(%q) = %q, want %q", in, got, want)
		}
	}
}

// checkFiles renders the docs of the schema at path (recording source) and
// compares each file with the one in dir, or rewrites it with -update.
func checkFiles(t *testing.T, path, source, dir string) {
	t.Helper()
	files, err := Generate(build(t, path, source))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		golden.Compare(t, filepath.Join(dir, f.Name), f.Data) // stale: run karlgen docs, or go test ./gen/docs -update
	}
}

func build(t *testing.T, path, source string) *model.Schema {
	t.Helper()
	s, err := schema.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(s, source)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
