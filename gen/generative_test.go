package gen_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/karl-app/karl/gen"
	"github.com/karl-app/karl/gen/golang"
	"github.com/karl-app/karl/gen/ts"
	"github.com/karl-app/karl/schema"
)

// TestGenerativeSchemas is the generative test of the generator: random schemas
// from a seeded builder (randschema_test.go) must each be refused with positioned
// errors, or give Go that passes go vet and TypeScript that passes tsc under the
// strictest settings (strict, exactOptionalPropertyTypes, noUncheckedIndexedAccess,
// no DOM lib). KARL_GEN_SCHEMAS sets how many (100 by default; make test-gen-long
// runs 1,000) and KARL_GEN_SEED the first seed. A failure prints the seed and the
// schema; the output stays in gen/_generative-* for inspection.
//
// With -short it only generates (no panic, positioned errors), without compiling.
func TestGenerativeSchemas(t *testing.T) {
	count, first := envInt(t, "KARL_GEN_SCHEMAS", 100), envInt(t, "KARL_GEN_SEED", 1)
	dir, err := os.MkdirTemp(".", "_generative-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			os.RemoveAll(dir)
		}
	})
	cases := map[string]uint64{} // case directory -> seed
	refusals := map[string]int{}
	for i := range count {
		seed := uint64(first + i)
		caseDir := filepath.Join(dir, fmt.Sprintf("s%05d", seed))
		path := filepath.Join(caseDir, "schema.yaml")
		text := randomSchema(seed)
		if err := os.MkdirAll(caseDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		files, err := generate(path, caseDir)
		if err != nil {
			for _, reason := range refusalReasons(t, seed, path, text, err) {
				refusals[reason]++
			}
			continue
		}
		if _, err := gen.Write(files); err != nil {
			t.Fatal(err)
		}
		cases[caseDir] = seed
	}
	t.Logf("%d schemas: %d accepted, %d refused", count, len(cases), count-len(cases))
	logRefusals(t, refusals)
	if count >= 20 && len(cases) < count/5 { // a replay of one seed may be a refusal
		t.Fatalf("only %d of %d random schemas accepted: the builder tests little but refusals", len(cases), count)
	}
	if testing.Short() {
		return
	}
	vetAll(t, cases)
	typecheckAll(t, dir, cases)
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a number", name, v)
	}
	return n
}

// generate runs the Go and TypeScript emitters, turning a panic into an error.
func generate(path, dir string) (files []gen.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return gen.Run(path, gen.Go(filepath.Join(dir, "go"), golang.Options{Package: "out"}), gen.TS(filepath.Join(dir, "ts"), ts.Options{}))
}

var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|line \d+`)

// refusalReasons checks that err is a list of errors positioned in the schema and
// returns their messages with names elided, to count them by reason.
func refusalReasons(t *testing.T, seed uint64, path, text string, err error) []string {
	var list schema.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		t.Errorf("seed %d: refused without positioned errors: %v\n%s", seed, err, text)
		return nil
	}
	var reasons []string
	for _, e := range list {
		if e.Pos.File != path || e.Pos.Line < 1 || e.Pos.Col < 1 {
			t.Errorf("seed %d: error without a position in the schema: %v\n%s", seed, e, text)
		}
		reasons = append(reasons, quoted.ReplaceAllString(e.Msg, "…"))
	}
	return reasons
}

func logRefusals(t *testing.T, refusals map[string]int) {
	reasons := make([]string, 0, len(refusals))
	for r := range refusals {
		reasons = append(reasons, r)
	}
	slices.SortFunc(reasons, func(a, b string) int { return refusals[b] - refusals[a] })
	for _, r := range reasons {
		t.Logf("%6d  %s", refusals[r], r)
	}
}

// caseOf maps a compiler message naming a generated file to its case.
func caseOf(cases map[string]uint64, msg string) (string, uint64, bool) {
	for dir, seed := range cases {
		if strings.Contains(msg, filepath.Base(dir)+string(filepath.Separator)) {
			return dir, seed, true
		}
	}
	return "", 0, false
}

// reportCompileErrors prints the compiler's output per failing case, with its seed and schema.
func reportCompileErrors(t *testing.T, tool string, cases map[string]uint64, out string) {
	t.Helper()
	byCase := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		if dir, _, ok := caseOf(cases, line); ok {
			byCase[dir] = append(byCase[dir], line)
		}
	}
	if len(byCase) == 0 {
		t.Errorf("%s failed:\n%s", tool, out)
		return
	}
	for dir, lines := range byCase {
		text, _ := os.ReadFile(filepath.Join(dir, "schema.yaml"))
		t.Errorf("%s fails on the output of seed %d (KARL_GEN_SEED=%d KARL_GEN_SCHEMAS=1):\n%s\nschema:\n%s",
			tool, cases[dir], cases[dir], strings.Join(lines, "\n"), text)
	}
}

// vetAll runs go vet once over the Go packages of every accepted schema.
func vetAll(t *testing.T, cases map[string]uint64) {
	args := []string{"vet"}
	for dir := range cases {
		args = append(args, "./"+filepath.ToSlash(filepath.Join(dir, "go")))
	}
	slices.Sort(args[1:])
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		reportCompileErrors(t, "go vet", cases, string(out))
	}
}

// typecheckAll runs tsc once over the TypeScript of every accepted schema, with
// tsclient's strict settings and React and socket.io-client from its node_modules.
func typecheckAll(t *testing.T, dir string, cases map[string]uint64) {
	tsclient, err := filepath.Abs("../tsclient")
	if err != nil {
		t.Fatal(err)
	}
	tsc := filepath.Join(tsclient, "node_modules", ".bin", "tsc")
	if _, err := os.Stat(tsc); err != nil {
		t.Fatalf("no tsc in tsclient/node_modules: run `npm ci` in tsclient (make test does): %v", err)
	}
	config := fmt.Sprintf(`{
  "extends": %q,
  "compilerOptions": {
    "module": "ESNext", "moduleResolution": "Bundler", "lib": ["ES2022"], "types": [], "noEmit": true,
    "paths": {
      "react": [%q],
      "socket.io-client": [%q]
    }
  },
  "include": ["*/ts/*.ts"]
}
`, filepath.Join(tsclient, "tsconfig.base.json"), filepath.Join(tsclient, "node_modules/@types/react/index.d.ts"),
		filepath.Join(tsclient, "node_modules/socket.io-client/build/esm/index.d.ts"))
	if err := os.WriteFile(filepath.Join(dir, "tsconfig.json"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tsc, "-p", filepath.Join(dir, "tsconfig.json"))
	if out, err := cmd.CombinedOutput(); err != nil {
		reportCompileErrors(t, "tsc", cases, string(out))
	}
}
