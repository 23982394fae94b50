package runtime

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/karl-app/karl/internal/golden"
)

// maxNames bounds the package's exported top-level names (types, functions,
// variables, constants): the surface every user's generated code depends on.
// Each is needed by generated code or by applications; the decode and encode
// helpers live in runtime/impl. (31: the version constant of the previous
// generator is kept, so that its code still compiles.)
const maxNames = 31

// TestAPIGolden keeps the exported API in testdata/api.txt: adding or removing
// a name, a field or a method fails here until the golden is rewritten with
// go test ./runtime -run TestAPIGolden -update, so the surface grows on purpose.
func TestAPIGolden(t *testing.T) {
	api, names := exportedAPI(t, ".")
	golden.Compare(t, filepath.Join("testdata", "api.txt"), api)
	if len(names) > maxNames {
		t.Errorf("%d exported top-level names, at most %d: %s", len(names), maxNames, strings.Join(names, ", "))
	}
}

// exportedAPI renders the exported declarations of the package in dir, without
// bodies or comments, one per paragraph, and lists the top-level names.
func exportedAPI(t *testing.T, dir string) ([]byte, []string) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	pkg := doc.New(pkgs["runtime"], "github.com/karl-app/karl/runtime", 0)
	var b bytes.Buffer
	var names []string
	decl := func(d ast.Decl) {
		if fd, ok := d.(*ast.FuncDecl); ok {
			fd.Body = nil
		}
		cfg := printer.Config{Mode: printer.UseSpaces | printer.TabIndent, Tabwidth: 8}
		if err := cfg.Fprint(&b, fset, d); err != nil {
			t.Fatal(err)
		}
		b.WriteString("\n\n")
	}
	values := func(vs []*doc.Value) {
		for _, v := range vs {
			names = append(names, v.Names...)
			decl(v.Decl)
		}
	}
	values(pkg.Consts)
	values(pkg.Vars)
	for _, f := range pkg.Funcs {
		names = append(names, f.Name)
		decl(f.Decl)
	}
	for _, ty := range pkg.Types {
		names = append(names, ty.Name)
		decl(ty.Decl)
		values(ty.Consts)
		values(ty.Vars)
		for _, f := range ty.Funcs {
			names = append(names, f.Name)
			decl(f.Decl)
		}
		for _, m := range ty.Methods {
			decl(m.Decl)
		}
	}
	fmt.Fprintf(&b, "// %d exported top-level names\n", len(names))
	return b.Bytes(), names
}
