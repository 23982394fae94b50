package review

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/karl-app/karl/internal/golden"
	"github.com/karl-app/karl/schema"
)

// TestLintGolden runs every case of testdata/lint: <case>/schema.yaml, with the
// expected problems in want.txt. Each case is named after the rule it triggers.
func TestLintGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/lint/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases in testdata/lint: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			problems := Lint(parseFile(t, dir, "schema.yaml"))
			var b strings.Builder
			for _, p := range problems {
				b.WriteString(p.String() + "\n")
			}
			golden.Compare(t, filepath.Join(dir, "want.txt"), []byte(b.String()))
			rule := filepath.Base(dir)
			if !slices.ContainsFunc(problems, func(p *Problem) bool { return p.Rule == rule }) {
				t.Errorf("case %s does not report rule %q", dir, rule)
			}
		})
	}
}

func TestLintRuleCases(t *testing.T) {
	for _, r := range LintRules {
		if matches, _ := filepath.Glob(filepath.Join("testdata/lint", r.Name, "schema.yaml")); len(matches) == 0 {
			t.Errorf("lint rule %q has no case: add testdata/lint/%s/schema.yaml", r.Name, r.Name)
		}
	}
}

// TestLintKarl checks that the KARL schema follows its own conventions.
func TestLintKarl(t *testing.T) {
	s, err := schema.Load("../../schema/karl.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range Lint(s) {
		t.Errorf("%s", p)
	}
}

func TestKebab(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"setUsername", "set-username"},
		{"join_room", "join-room"},
		{"chat.message", "chat-message"},
		{"HTTPError", "http-error"},
		{"user2Name", "user2-name"},
		{"already-kebab", "already-kebab"},
		{"room:joined", "room-joined"},
	} {
		if got := kebab(tc.in); got != tc.want {
			t.Errorf("kebab(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
