package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/karl-app/karl/internal/golden"
)

// TestLoadErrors loads every testdata/errors/*.yaml and compares the errors with
// the .err golden next to it: positioned, sorted, with hints.
func TestLoadErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/errors/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			_, err := Load(f)
			if err == nil {
				t.Fatal("loaded without error")
			}
			if _, ok := err.(ErrorList); !ok {
				t.Fatalf("error is %T, want ErrorList", err)
			}
			golden.Compare(t, strings.TrimSuffix(f, ".yaml")+".err", []byte(err.Error()+"\n"))
		})
	}
}

func TestKarlSchemaLoads(t *testing.T) {
	s, err := Load("karl.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "karl" || len(s.Client) == 0 || len(s.Server) == 0 {
		t.Errorf("loaded %q with %d client and %d server events", s.Name, len(s.Client), len(s.Server))
	}
	if !strings.HasPrefix(s.Hash, "sha256:") || len(s.Hash) != len("sha256:")+64 {
		t.Errorf("hash %q", s.Hash)
	}
}

func TestCheckPattern(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		ok      bool
	}{
		{`^[\p{L}\p{N} _.\-]+$`, true},
		{`^(?:ab|cd){2,3}$`, true},
		{`^\d+\.\d+$`, true},
		{`^[a-z]\x41\/$`, true},
		{`(?i)abc`, false},     // inline flags: not in JavaScript
		{`(?P<n>a)`, false},    // named group syntax differs
		{`\s`, false},          // Unicode in JavaScript, ASCII in Go
		{`\pL`, false},         // JavaScript needs braces
		{`\p{Greek}`, false},   // scripts need Script= in JavaScript
		{`[[:alpha:]]`, false}, // POSIX class
		{`\A`, false},          // not in JavaScript
		{`a\-b`, false},        // unicode-mode JavaScript refuses needless escapes outside a class
		{`[\b]`, false},        // backspace in JavaScript, refused by Go
		{`(`, false},           // does not compile
		{`\Qa.b\E`, false},     // quoting is Go-only
	} {
		err := CheckPattern(tc.pattern)
		if (err == nil) != tc.ok {
			t.Errorf("CheckPattern(%q) = %v, want ok=%v", tc.pattern, err, tc.ok)
		}
	}
}

// FuzzParse checks that no input makes the loader panic, and that an accepted
// schema is consistent enough for the generator (every event has a payload).
func FuzzParse(f *testing.F) {
	for _, p := range append(mustGlob(f, "testdata/errors/*.yaml"), "karl.yaml") {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			if _, ok := err.(ErrorList); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		for _, ev := range append(s.Client, s.Server...) {
			if ev.Payload == nil {
				t.Fatalf("event %q without payload spec", ev.Name)
			}
		}
	})
}

func mustGlob(f *testing.F, pattern string) []string {
	m, err := filepath.Glob(pattern)
	if err != nil {
		f.Fatal(err)
	}
	return m
}
