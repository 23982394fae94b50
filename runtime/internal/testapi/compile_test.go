package testapi_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRoomEmittersCompileOnlyForTheirKind builds small programs against the
// generated package: a room kind has emitters only for the events it carries,
// so sending an event to another kind, or to the members but the sender when
// the event is declared for every member, does not compile. Each program is a
// file the go tool sees through -overlay, in a package of its own.
func TestRoomEmittersCompileOnlyForTheirKind(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go tool")
	}
	for _, tc := range []struct {
		name, body, wantErr string // wantErr "": compiles
	}{
		{"table carries shouted", `srv.Table("go", 1).EmitShouted(testapi.Shouted{Text: "hi"})`, ""},
		{"table others carry whispered", `s.Table("go", 1).Others().EmitWhispered(testapi.Whispered{Text: "hi"})`, ""},
		{"hall news to the hall", `srv.Hall(testapi.ColorRed).EmitHallNews(testapi.HallNews{Color: testapi.ColorRed})`, ""},
		{"shouted to a hall", `srv.Hall(testapi.ColorRed).EmitShouted(testapi.Shouted{Text: "hi"})`, "has no field or method EmitShouted"},
		{"hall news to a table", `srv.Table("go", 1).EmitHallNews(testapi.HallNews{Color: testapi.ColorRed})`, "has no field or method EmitHallNews"},
		{"whispered to every member", `srv.Table("go", 1).EmitWhispered(testapi.Whispered{Text: "hi"})`, "has no field or method EmitWhispered"},
		{"shouted to the others", `s.Table("go", 1).Others().EmitShouted(testapi.Shouted{Text: "hi"})`, "has no field or method EmitShouted"},
		{"a hall has no presence", `srv.Hall(testapi.ColorRed).Members(nil)`, "has no field or method Members"},
		{"a table takes its parameters", `srv.Table("go").EmitShouted(testapi.Shouted{Text: "hi"})`, "not enough arguments"},
		{"presence is the kind's", `s.JoinTable(nil, "go", 1, testapi.Shouted{Text: "hi"})`, "cannot use"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, err := filepath.Abs("compilecheck")
			if err != nil {
				t.Fatal(err)
			}
			src := "package compilecheck\n\nimport \"github.com/karl-app/karl/runtime/internal/testapi\"\n\n" +
				"func use(s *testapi.Socket, srv *testapi.Server) error {\n\treturn " + tc.body + "\n}\n"
			tmp := t.TempDir()
			file := filepath.Join(tmp, "use.go")
			overlay := filepath.Join(tmp, "overlay.json")
			if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			o, _ := json.Marshal(map[string]any{"Replace": map[string]string{filepath.Join(dir, "use.go"): file}})
			if err := os.WriteFile(overlay, o, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("go", "build", "-overlay", overlay, "./compilecheck").CombinedOutput()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("does not compile: %v\n%s", err, out)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("compiles; want an error with %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(string(out), tc.wantErr):
				t.Fatalf("error %s; want one with %q", out, tc.wantErr)
			}
		})
	}
}
