package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

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

// TestAuthLongForm loads the long form of auth: doc, fields (one literally named
// "fields", which only the long form can declare) and the handshake's error codes.
func TestAuthLongForm(t *testing.T) {
	s, err := Parse("auth.yaml", []byte(`schema: t
version: 1.0.0
auth:
  doc: Send the token from welcome.
  fields:
    token: {type: string, optional: true}
    fields: string
  errors: [token-expired, banned]
errors:
  token-expired: Your session expired.
  banned: You are banned.
`))
	if err != nil {
		t.Fatal(err)
	}
	if s.AuthDoc != "Send the token from welcome." {
		t.Errorf("AuthDoc = %q", s.AuthDoc)
	}
	if len(s.Auth) != 2 || s.Auth[0].Name != "token" || !s.Auth[0].Optional || s.Auth[1].Name != "fields" {
		t.Errorf("Auth = %+v", s.Auth)
	}
	want := []ErrorRef{{Code: "token-expired", Pos: Pos{"auth.yaml", 8, 12}}, {Code: "banned", Pos: Pos{"auth.yaml", 8, 27}}}
	if diff := cmp.Diff(want, s.AuthErrors); diff != "" {
		t.Errorf("AuthErrors (-want +got):\n%s", diff)
	}
	if s.AuthKeyPos["errors"] != (Pos{"auth.yaml", 8, 3}) || s.AuthPos != (Pos{"auth.yaml", 4, 3}) {
		t.Errorf("AuthKeyPos = %v, AuthPos = %v", s.AuthKeyPos, s.AuthPos)
	}

	short, err := Parse("short.yaml", []byte("schema: t\nversion: 1.0.0\nauth:\n  token: string\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(short.Auth) != 1 || short.AuthDoc != "" || short.AuthErrors != nil {
		t.Errorf("short form: Auth = %+v, AuthDoc = %q, AuthErrors = %v", short.Auth, short.AuthDoc, short.AuthErrors)
	}
}
