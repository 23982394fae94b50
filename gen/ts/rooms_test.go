package ts

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/karl-app/karl/gen/model"
	"github.com/karl-app/karl/schema"
)

func names(files []File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Name)
	}
	return out
}

func fileNamed(files []File, name string) string {
	for _, f := range files {
		if f.Name == name {
			return string(f.Data)
		}
	}
	return ""
}

// TestPresenceFiles checks which schemas get the presence files: those with a room kind
// with presence, and no other (a kind without presence adds nothing to the client).
func TestPresenceFiles(t *testing.T) {
	presence := []string{"rooms.ts", "presence.ts", "usepresence.ts"}
	with := generate(t, "../testdata/rooms/schema.yaml")
	for _, name := range presence {
		if !slices.Contains(names(with), name) {
			t.Errorf("the rooms case has no %s: %v", name, names(with))
		}
		if !strings.Contains(fileNamed(with, "index.ts"), `export * from "./`+strings.TrimSuffix(name, ".ts")+`";`) {
			t.Errorf("index.ts does not export %s", name)
		}
	}
	rooms := fileNamed(with, "rooms.ts")
	for _, want := range []string{`"game-table": {`, `state: "game-table-presence",`, `diff: "game-table-presence-diff",`,
		`params: ["game", "table"],`, "export type PresenceKind = keyof PresenceRooms;"} {
		if !strings.Contains(rooms, want) {
			t.Errorf("rooms.ts lacks %q:\n%s", want, rooms)
		}
	}
	if strings.Contains(rooms, "channel") {
		t.Errorf("rooms.ts lists the kind without presence:\n%s", rooms)
	}

	// Kinds without presence only: the files of a schema without rooms.
	dir := t.TempDir()
	path := filepath.Join(dir, "schema.yaml")
	text := "schema: t\nversion: 1.0.0\nserver:\n  hello:\n    payload: {channel: string}\n    to: [channel]\nrooms:\n  channel:\n    params: {channel: string}\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := schema.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(s, "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	without := Generate(m, Options{})
	for _, name := range presence {
		if slices.Contains(names(without), name) {
			t.Errorf("a schema without presence gets %s", name)
		}
	}
	if strings.Contains(fileNamed(without, "index.ts"), "presence") {
		t.Errorf("index.ts of a schema without presence exports it:\n%s", fileNamed(without, "index.ts"))
	}
}

// TestPresenceImportSuffix checks the imports of the presence files with ".js".
func TestPresenceImportSuffix(t *testing.T) {
	s, err := schema.Load("../testdata/rooms/schema.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(s, "rooms.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files := Generate(m, Options{ImportSuffix: ".js"})
	count := 0
	for _, name := range []string{"rooms.ts", "presence.ts", "usepresence.ts", "index.ts"} {
		for _, imp := range relativeImport.FindAllStringSubmatch(fileNamed(files, name), -1) {
			count++
			if !strings.HasSuffix(imp[1], ".js") {
				t.Errorf("%s imports %q without the suffix", name, imp[1])
			}
		}
	}
	if count < 8 {
		t.Errorf("%d relative imports in the presence files and index.ts, expected more", count)
	}
}
