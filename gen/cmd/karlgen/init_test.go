package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/karl-app/karl/schema"
)

func TestInitWritesTheScaffold(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module \"example.com/team/chat\" // the chat\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runKarlgen(t, "init", "--dir", dir, "--ts-out", "web/src/generated")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, f := range scaffoldFiles {
		if !strings.Contains(stdout, "wrote "+filepath.Join(dir, f.file)+"\n") {
			t.Errorf("output does not list %s:\n%s", f.file, stdout)
		}
	}
	if strings.Contains(stdout, "go mod init") {
		t.Errorf("next steps say go mod init although go.mod exists:\n%s", stdout)
	}
	for file, want := range map[string]string{
		"main.go":            `"example.com/team/chat/events"`,
		"handler.go":         "var _ events.Handler = (*Handler)(nil)",
		"schema.yaml":        "# yaml-language-server: $schema=" + schema.JSONSchemaID + "\n",
		"events/generate.go": "//go:generate go tool karlgen generate --schema ../schema.yaml --go-out . --go-package events --ts-out ../web/src/generated\n",
	} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil || !strings.Contains(string(data), want) {
			t.Errorf("%s lacks %q (%v):\n%s", file, want, err, data)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "main.go")); strings.Count(string(data), "\n") > 25 {
		t.Errorf("main.go has %d lines, the README promises at most 25", strings.Count(string(data), "\n"))
	}
	code, stdout, _ = runKarlgen(t, "lint", "--schema", filepath.Join(dir, "schema.yaml"))
	if code != 0 || !strings.Contains(stdout, "is clean") {
		t.Errorf("the scaffolded schema is not lint-clean: exit %d\n%s", code, stdout)
	}
}

func TestInitRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "events"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "events", "generate.go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runKarlgen(t, "init", "--dir", dir, "--module", "example.com/chat")
	if code != 1 || stdout != "" ||
		!strings.Contains(stderr, filepath.Join(dir, "main.go")) || !strings.Contains(stderr, filepath.Join(dir, "events", "generate.go")) {
		t.Errorf("exit %d, want 1 listing main.go and events/generate.go\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, f := range []string{"schema.yaml", "handler.go"} {
		if fileExists(filepath.Join(dir, f)) {
			t.Errorf("%s written although init refused", f)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "main.go")); string(data) != "package main\n" {
		t.Errorf("main.go overwritten: %s", data)
	}
}

// TestInitRefusesToOverwriteGeneratedFiles: the first generation is part of
// the scaffold, so an events/server.go of the user's own stops init too.
func TestInitRefusesToOverwriteGeneratedFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "events"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "events", "server.go"), []byte("package events\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runKarlgen(t, "init", "--dir", dir, "--module", "example.com/chat")
	if code != 1 || !strings.Contains(stderr, filepath.Join(dir, "events", "server.go")) {
		t.Errorf("exit %d, want 1 listing events/server.go\n%s", code, stderr)
	}
	if fileExists(filepath.Join(dir, "schema.yaml")) {
		t.Error("schema.yaml written although init refused")
	}
}

// TestInitKeepsNothingWhenAWriteFails: --ts-out under handler.go, a file init
// writes before the TypeScript, makes a write fail midway; what was written
// before it, files and directories, is removed.
func TestInitKeepsNothingWhenAWriteFails(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runKarlgen(t, "init", "--dir", dir, "--module", "example.com/chat", "--ts-out", "handler.go/web")
	if code != 1 || !strings.Contains(stderr, "nothing kept") {
		t.Fatalf("exit %d, want 1 and nothing kept\n%s", code, stderr)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Errorf("left behind after a failed init: %v", names)
	}
}

// TestInitInsideAnotherModule: a project scaffolded in a directory of an
// existing module (a monorepo) is generated as go generate will record it,
// relative to that module's root, and is not told to go mod init.
func TestInitInsideAnotherModule(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module example.com/mono\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "chat")
	code, stdout, stderr := runKarlgen(t, "init", "--dir", dir, "--module", "example.com/mono/chat")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if strings.Contains(stdout, "go mod init") {
		t.Errorf("told to go mod init inside a module:\n%s", stdout)
	}
	code, stdout, stderr = runKarlgen(t, "check", "--schema", filepath.Join(dir, "schema.yaml"), "--go-out", filepath.Join(dir, "events"), "--go-package", "events")
	if code != 0 {
		t.Errorf("karlgen check after init: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestInitNeedsAModule(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runKarlgen(t, "init", "--dir", dir)
	if code != 2 || !strings.Contains(stderr, "--module") {
		t.Errorf("exit %d, want 2 asking for --module\n%s", code, stderr)
	}
	code, stdout, _ := runKarlgen(t, "init", "--dir", filepath.Join(dir, "new"), "--module", "example.com/chat")
	if code != 0 || !strings.Contains(stdout, "go mod init example.com/chat\n") {
		t.Errorf("without go.mod: exit %d, want 0 and go mod init in the next steps\n%s", code, stdout)
	}
}

func TestSchemaName(t *testing.T) {
	for module, want := range map[string]string{
		"example.com/chat":        "chat",
		"github.com/acme/My_Chat": "my-chat",
		"example.com/chat/v2":     "chat",
		"chat":                    "chat",
		"example.com/42":          "app",
		"example.com/...":         "app",
	} {
		if got := schemaName(module); got != want {
			t.Errorf("schemaName(%q) = %q, want %q", module, got, want)
		}
	}
}

// TestInitScaffoldBuilds scaffolds a project in a module that uses this
// repository as github.com/karl-app/karl (go.mod as go get -tool leaves it),
// then follows init's next steps: go mod tidy, and the module builds, vets and
// its test passes, with no go generate first (which cannot load a module whose
// go.mod lacks what main.go imports: the README's first order failed so). Then
// go generate ./..., run as a user would after editing the schema, must find
// init's generated files up to date.
func TestInitScaffoldBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module with the go command")
	}
	repo, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	goMod := "module example.com/chat\n\ngo 1.26\n\nrequire github.com/karl-app/karl v0.0.0\n\n" +
		"replace github.com/karl-app/karl => " + repo + "\n\ntool github.com/karl-app/karl/gen/cmd/karlgen\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goMod), 0o644); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(repo, "go.sum"), filepath.Join(dir, "go.sum"))
	if code, stdout, stderr := runKarlgen(t, "init", "--dir", dir, "--ts-out", "web/generated"); code != 0 {
		t.Fatalf("init: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, f := range []string{"events/server.go", "events/types.go"} {
		if !fileExists(filepath.Join(dir, f)) {
			t.Errorf("init did not write %s", f)
		}
	}
	if ts, _ := filepath.Glob(filepath.Join(dir, "web", "generated", "*.ts")); len(ts) == 0 {
		t.Errorf("init wrote no TypeScript under web/generated")
	}
	for _, args := range [][]string{
		{"mod", "tidy"}, // initNextSteps, without go get -tool (go.mod has the tool line) and go run
		{"build", "./..."},
		{"vet", "./..."},
		{"test", "./..."}, // handler_test.go, on the generated test client
		{"generate", "./..."},
	} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if args[0] == "generate" && strings.Contains(string(out), "wrote ") {
			t.Errorf("go generate rewrote what init generated:\n%s", out)
		}
	}
}

// TestReadmeStepsMatchInit keeps the README's quick start the commands init
// prints, in that order.
func TestReadmeStepsMatchInit(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, quick, _ := strings.Cut(string(readme), "## Use KARL in your own project")
	_, quick, _ = strings.Cut(quick, "```sh\n")
	quick, _, _ = strings.Cut(quick, "```")
	var commands []string
	for line := range strings.Lines(quick) {
		cmd, _, _ := strings.Cut(line, "#")
		for part := range strings.SplitSeq(cmd, "&&") {
			if part = strings.TrimSpace(part); part != "" {
				commands = append(commands, part)
			}
		}
	}
	var want []string
	for _, step := range initNextSteps {
		step, _, _ = strings.Cut(step, "#")
		want = append(want, strings.TrimSpace(step))
	}
	if len(commands) < len(want) || !slices.Equal(commands[len(commands)-len(want):], want) {
		t.Errorf("the README's quick start ends with %q, init prints %q", commands, want)
	}
}

// TestReadmeMainMatchesInit keeps the README's main.go the one karlgen init writes,
// which TestInitScaffoldBuilds compiles.
func TestReadmeMainMatchesInit(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	files, err := renderScaffold(scaffoldData{Module: "example.com/chat", Name: "chat", GenerateFlags: generateFlags("")})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.name != "main.go" {
			continue
		}
		_, body, _ := strings.Cut(string(f.data), "\n") // the README shows it without its doc comment
		if !strings.Contains(string(readme), "```go\n"+body+"```\n") {
			t.Errorf("README.md's main.go differs from what karlgen init writes:\n%s", body)
		}
	}
}
