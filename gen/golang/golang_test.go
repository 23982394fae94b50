package golang

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dave/jennifer/jen"
	"github.com/google/go-cmp/cmp"

	"github.com/karl-app/karl/gen/model"
)

// render renders one construct as jennifer prints a statement: gofmt'd, imports omitted.
func render(t *testing.T, c jen.Code) string {
	t.Helper()
	return strings.TrimSpace(fmt.Sprintf("%#v", c))
}

func ptr[T any](v T) *T { return &v }

func TestGenScalar(t *testing.T) {
	g := &generator{}
	sc := &model.Scalar{Name: "Code", GoName: "Code", GoCheck: "checkCode", Doc: "A short code.",
		Type: &model.Type{Kind: model.String, MaxLength: ptr(4), Pattern: `^[A-Z]+$`, GoPattern: "patternCode"}}
	want := "var patternCode = regexp.MustCompile(`^[A-Z]+$`)\n\n" +
		`// checkCode checks a value against the constraints of the Code type. Code is a short code.
func checkCode(v string) error {
	if err := impl.MaxLength(v, 4); err != nil {
		return err
	}
	if err := impl.Pattern(v, patternCode); err != nil {
		return err
	}
	return nil
}`
	if diff := cmp.Diff(want, render(t, g.genScalar(sc))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestGenAppendJSONOptionalFirst(t *testing.T) {
	g := &generator{}
	st := &model.Struct{GoName: "P", Fields: []*model.Field{
		{Name: "note", GoName: "Note", Optional: true, Type: &model.Type{Kind: model.String}},
		{Name: "n", GoName: "N", Type: &model.Type{Kind: model.Integer}},
	}}
	want := "// AppendJSON appends the JSON encoding of x to b.\n" +
		"func (x P) AppendJSON(b []byte) []byte {\n" +
		"\tstart := len(b)\n" +
		"\tif x.Note != nil {\n" +
		"\t\tb = append(b, `,\"note\":`...)\n" +
		"\t\tb = impl.AppendString(b, *x.Note)\n" +
		"\t}\n" +
		"\tb = append(b, `,\"n\":`...)\n" +
		"\tb = impl.AppendInt(b, x.N)\n" +
		"\treturn impl.CloseObject(b, start)\n" +
		"}"
	if diff := cmp.Diff(want, render(t, g.genAppendJSON(st))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestReaderOfNestedArrays(t *testing.T) {
	typ := &model.Type{Kind: model.Array, Elem: &model.Type{Kind: model.Array, Elem: &model.Type{Kind: model.String, Trim: true}}}
	want := "var _ = impl.ArrayOf(impl.ArrayOf(impl.AsTrimmedString))"
	if diff := cmp.Diff(want, render(t, jen.Var().Id("_").Op("=").Add(reader(typ)))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDurationLit(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Second:        "var _ = 10 * time.Second",
		1500 * time.Millisecond: "var _ = 1500 * time.Millisecond",
		2 * time.Hour:           "var _ = 2 * time.Hour",
	} {
		if got := render(t, jen.Var().Id("_").Op("=").Add(durationLit(d))); got != want {
			t.Errorf("durationLit(%v) = %q, want %q", d, got, want)
		}
	}
}
