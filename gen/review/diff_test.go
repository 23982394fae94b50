package review

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/karl-app/karl/internal/golden"
	"github.com/karl-app/karl/schema"
)

// TestDiffGolden runs every case of testdata/diff: <case>/old.yaml and new.yaml,
// with the expected text report in want.txt and the markdown one in want.md.
func TestDiffGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/diff/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases in testdata/diff: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			r := Diff(parseFile(t, dir, "old.yaml"), parseFile(t, dir, "new.yaml"))
			var text, md bytes.Buffer
			if err := r.Text(&text); err != nil {
				t.Fatal(err)
			}
			if err := r.Markdown(&md); err != nil {
				t.Fatal(err)
			}
			golden.Compare(t, filepath.Join(dir, "want.txt"), text.Bytes())
			golden.Compare(t, filepath.Join(dir, "want.md"), md.Bytes())
		})
	}
}

// TestDiffRuleCases checks that the corpus has a case named after each rule, and
// that the case reports it.
func TestDiffRuleCases(t *testing.T) {
	for _, rule := range Rules {
		dir := filepath.Join("testdata/diff", rule.Name)
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("rule %q has no case: add %s/{old,new}.yaml", rule.Name, dir)
			continue
		}
		r := Diff(parseFile(t, dir, "old.yaml"), parseFile(t, dir, "new.yaml"))
		if !slices.ContainsFunc(r.Findings, func(f *Finding) bool { return f.Rule == rule.Name }) {
			t.Errorf("case %s does not report rule %q", dir, rule.Name)
		}
	}
}

// TestDiffRulesListed checks that every rule a case reports is documented in Rules.
func TestDiffRulesListed(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/diff/*")
	for _, dir := range dirs {
		r := Diff(parseFile(t, dir, "old.yaml"), parseFile(t, dir, "new.yaml"))
		for _, f := range r.Findings {
			if !slices.ContainsFunc(Rules, func(r Rule) bool { return r.Name == f.Rule }) {
				t.Errorf("%s: rule %q is not listed in Rules", dir, f.Rule)
			}
		}
	}
}

func TestDiffVerdict(t *testing.T) {
	for _, tc := range []struct {
		dir        string
		breaking   bool
		majorBump  bool
		wantFailed bool
	}{
		{"event-removed", true, false, true},
		{"major-bump", true, true, false},
		{"event-added", false, false, false},
		{"doc-changed", false, false, false},
		{"to-room-kind", false, false, false},
		{"room-renamed", false, false, false},
		{"room-event-removed", true, false, true},
		{"presence-removed", true, false, true},
		{"room-param-removed", true, false, true},
	} {
		dir := filepath.Join("testdata/diff", tc.dir)
		r := Diff(parseFile(t, dir, "old.yaml"), parseFile(t, dir, "new.yaml"))
		if got := r.Breaking() > 0; got != tc.breaking {
			t.Errorf("%s: breaking = %v, want %v", tc.dir, got, tc.breaking)
		}
		if got := r.MajorBump(); got != tc.majorBump {
			t.Errorf("%s: major bump = %v, want %v", tc.dir, got, tc.majorBump)
		}
		if got := r.Failed(); got != tc.wantFailed {
			t.Errorf("%s: failed = %v, want %v", tc.dir, got, tc.wantFailed)
		}
	}
}

// TestDiffSame checks that a schema compared with itself reports nothing.
func TestDiffSame(t *testing.T) {
	s, err := schema.Load("../../schema/karl.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if r := Diff(s, s); len(r.Findings) != 0 {
		var b bytes.Buffer
		_ = r.Text(&b)
		t.Errorf("karl.yaml against itself:\n%s", b.String())
	}
}

func TestGitHubEscaping(t *testing.T) {
	r := &Report{OldFile: "old.yaml", NewFile: "new.yaml", OldVersion: "1.0.0", NewVersion: "1.0.1", Findings: []*Finding{{
		Rule: "pattern", Subject: `type "Rate"`, Change: `pattern "^100%$" added`,
		Effects: []Effect{{Use: "a payload.b", Flow: Input, Breaks: OldClients, Why: "line one\nline two"}},
		Pos:     schema.Pos{File: "schema/a,b.yaml", Line: 3, Col: 5},
	}}}
	var b bytes.Buffer
	if err := r.GitHub(&b); err != nil {
		t.Fatal(err)
	}
	want := `::error file=schema/a%2Cb.yaml,line=3,col=5,title=Breaking schema change%3A breaks old clients::type "Rate": pattern "^100%25$" added%0Aclient -> server, a payload.b: line one%0Aline two
::error title=karlgen diff::1 breaking change without a major version bump (1.0.0 -> 1.0.1): make them compatible, or raise version to 2.0.0
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("GitHub (-want +got):\n%s", diff)
	}
}

// parseFile parses dir/name, naming it name in positions so goldens stay short.
func parseFile(t *testing.T, dir, name string) *schema.Schema {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.Parse(name, data)
	if err != nil {
		t.Fatalf("%s:\n%v", dir, err)
	}
	return s
}

// TestDiffKarlRooms checks the move of karl.yaml to typed rooms (2.0.0 -> 2.1.0,
// commit 64b15fd): new-message from "room" to "chat" and user-typing from
// "others" to "chat.others" change the server's code, not the wire, and the kind
// and its presence events are new; nothing breaks. The case keeps both files, and
// the schema of today is compared with 2.0.0 too.
func TestDiffKarlRooms(t *testing.T) {
	dir := "testdata/diff/karl-rooms"
	old := parseFile(t, dir, "old.yaml")
	for name, s := range map[string]*schema.Schema{"new.yaml": parseFile(t, dir, "new.yaml"), "schema/karl.yaml": loadKarl(t)} {
		r := Diff(old, s)
		if r.Breaking() > 0 && !(name == "schema/karl.yaml" && r.MajorBump()) {
			var b bytes.Buffer
			_ = r.Text(&b)
			t.Errorf("karl.yaml 2.0.0 -> %s: %d breaking changes:\n%s", name, r.Breaking(), b.String())
		}
	}
}

func loadKarl(t *testing.T) *schema.Schema {
	t.Helper()
	s, err := schema.Load("../../schema/karl.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return s
}
