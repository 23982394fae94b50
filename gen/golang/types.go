package golang

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/karl-app/karl/gen/model"
)

// goKind is how the generated Go handles values of one scalar wire kind.
type goKind struct {
	typ    func() *jen.Statement // the Go type
	read   string                // the runtime function that reads a decoded value
	append string                // the runtime function that appends the JSON encoding
}

// goKinds is the one table of scalar kinds; arrays, objects and enums are built from
// it in goType, reader and appender.
var goKinds = map[model.Kind]goKind{
	model.String:    {jen.String, "AsString", "AppendString"},
	model.Integer:   {jen.Int64, "AsInt", "AppendInt"},
	model.Number:    {jen.Float64, "AsNumber", "AppendNumber"},
	model.Boolean:   {jen.Bool, "AsBool", "AppendBool"},
	model.Timestamp: {func() *jen.Statement { return jen.Qual(timePkg, "Time") }, "AsTime", "AppendTime"},
}

// goType renders the Go type of a value: string, int64, float64, bool,
// time.Time, an enum type, []T or a struct name.
func goType(t *model.Type) *jen.Statement {
	switch {
	case t.GoEnum != nil:
		return jen.Id(t.GoEnum.GoName)
	case t.Kind == model.Array:
		return jen.Index().Add(goType(t.Elem))
	case t.Kind == model.Object:
		return jen.Id(t.Struct.GoName)
	}
	return goKinds[t.Kind].typ()
}

// fieldType is goType, behind a pointer for optional scalars and structs.
// Optional arrays stay slices: nil means absent.
func fieldType(f *model.Field) *jen.Statement {
	if f.Optional && f.Type.Kind != model.Array {
		return jen.Op("*").Add(goType(f.Type))
	}
	return goType(f.Type)
}

// reader renders the function that reads a wire value of type t, e.g.
// runtime.AsString, decodeProfile, runtime.AsEnum[Team] or runtime.ArrayOf(runtime.AsInt).
func reader(t *model.Type) *jen.Statement {
	switch {
	case t.Kind == model.Array:
		return rt("ArrayOf").Call(reader(t.Elem))
	case t.Kind == model.Object:
		return jen.Id(t.Struct.GoDecode)
	case t.GoEnum != nil && t.Trim:
		return rt("AsTrimmedEnum").Index(jen.Id(t.GoEnum.GoName))
	case t.GoEnum != nil:
		return rt("AsEnum").Index(jen.Id(t.GoEnum.GoName))
	case t.Kind == model.String && t.Trim && t.Normalize != "":
		return rt("AsTrimmedNFCString")
	case t.Kind == model.String && t.Normalize != "":
		return rt("AsNFCString")
	case t.Kind == model.String && t.Trim:
		return rt("AsTrimmedString")
	}
	return rt(goKinds[t.Kind].read)
}

// genEnum renders the Go type of a string enum, its constants and the list of its
// values that checks use:
//
//	// Team is a team colour.
//	type Team string
//
//	const (
//		TeamRed  Team = "red"
//		TeamBlue Team = "blue"
//	)
//
//	var enumTeam = []string{string(TeamRed), string(TeamBlue)}
func (g *generator) genEnum(e *model.Enum) jen.Code {
	doc := e.Doc
	if e.Named != nil {
		doc = docSentence(e.GoName, e.Doc)
		if doc == "" {
			doc = e.GoName + " is the " + e.Named.Name + " type of the schema."
		}
	}
	var consts, values []jen.Code
	for _, v := range e.Values {
		consts = append(consts, jen.Id(v.GoName).Id(e.GoName).Op("=").Lit(v.Value))
		values = append(values, jen.String().Call(jen.Id(v.GoName)))
	}
	return jen.Add(
		commentLines(doc),
		jen.Type().Id(e.GoName).String().Line().Line(),
		jen.Comment(fmt.Sprintf("The values of %s.", e.GoName)).Line(),
		jen.Const().Defs(consts...).Line().Line(),
		jen.Var().Id(e.GoValues).Op("=").Index().String().Values(values...).Line(),
	)
}

// genScalar renders the check function of a named scalar type:
//
//	// checkUsername checks a value against the constraints of the Username type.
//	func checkUsername(v string) error {
//		if err := runtime.MaxLength(v, 32); err != nil {
//			return err
//		}
//		return nil
//	}
//
// An alias of another named scalar calls that type's check.
func (g *generator) genScalar(sc *model.Scalar) jen.Code {
	vars, checks := g.checks(jen.Id("v"), sc.Type, 0, func(err jen.Code) jen.Code { return err })
	if sc.Type.Named != nil {
		vars, checks = nil, []jen.Code{ifErr(jen.Id(sc.Type.Named.GoCheck).Call(jen.Id("v")), jen.Err())}
	}
	doc := fmt.Sprintf("%s checks a value against the constraints of the %s type.", sc.GoCheck, sc.Name)
	if sc.Doc != "" && sc.Type.GoEnum == nil { // an enum type carries the doc itself
		doc += " " + docSentence(sc.GoName, sc.Doc)
	}
	return jen.Add(
		jen.Add(vars...),
		commentLines(doc),
		jen.Func().Id(sc.GoCheck).Params(jen.Id("v").Add(goType(sc.Type))).Error().Block(
			append(checks, jen.Return(jen.Nil()))...,
		).Line(),
	)
}

// ifErr renders: if err := call; err != nil { return result }
func ifErr(call, result jen.Code) jen.Code {
	return jen.If(jen.Err().Op(":=").Add(call), jen.Err().Op("!=").Nil()).Block(jen.Return(result))
}

// genStruct renders a struct with its decoder, Validate, AppendJSON and MarshalJSON.
func (g *generator) genStruct(st *model.Struct) jen.Code {
	return jen.Add(
		g.genStructType(st),
		g.genDecode(st),
		g.genValidate(st),
		g.genAppendJSON(st),
		g.genMarshalJSON(st),
	)
}

func (g *generator) genStructType(st *model.Struct) jen.Code {
	var fields []jen.Code
	for _, f := range st.Fields {
		tag := f.Name
		if f.Optional {
			tag += ",omitempty"
		}
		if doc := fieldDoc(f); doc != "" {
			for _, line := range strings.Split(doc, "\n") {
				fields = append(fields, jen.Comment(line))
			}
		}
		fields = append(fields, jen.Id(f.GoName).Add(fieldType(f)).Tag(map[string]string{"json": tag}))
	}
	doc := docSentence(st.GoName, st.Doc)
	if doc == "" {
		doc = st.GoName + " is the " + st.Name + " object of the schema."
	}
	return jen.Add(commentLines(doc), jen.Type().Id(st.GoName).Struct(fields...).Line())
}

func fieldDoc(f *model.Field) string {
	doc := f.Doc
	if f.Deprecated != "" {
		if doc != "" {
			doc += "\n\n"
		}
		doc += "Deprecated: " + f.Deprecated
	}
	return doc
}

// genDecode renders the decoder of a struct:
//
//	func decodeProfile(v any) (Profile, error) {
//		var x Profile
//		m, err := runtime.Object(v)
//		if err != nil {
//			return x, err
//		}
//		if x.Username, err = runtime.Required(m, "username", runtime.AsTrimmedString); err != nil {
//			return x, err
//		}
//		return x, x.Validate()
//	}
func (g *generator) genDecode(st *model.Struct) jen.Code {
	m := jen.Id("m")
	if len(st.Fields) == 0 {
		m = jen.Id("_")
	}
	body := []jen.Code{
		jen.Var().Id("x").Id(st.GoName),
		jen.List(m, jen.Err()).Op(":=").Add(rt("Object")).Call(jen.Id("v")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Id("x"), jen.Err())),
	}
	var vars []jen.Code
	for _, f := range st.Fields {
		read := "Required"
		if f.Optional {
			read = "Optional"
		}
		if f.Optional && f.Type.Kind == model.Array {
			read = "OptionalSlice"
		}
		rd := reader(f.Type)
		if f.GoReader != "" { // built once, not on every call
			vars = append(vars, jen.Var().Id(f.GoReader).Op("=").Add(rd).Line())
			rd = jen.Id(f.GoReader)
		}
		body = append(body, jen.If(
			jen.List(jen.Id("x").Dot(f.GoName), jen.Err()).Op("=").Add(rt(read)).Call(jen.Id("m"), jen.Lit(f.Name), rd),
			jen.Err().Op("!=").Nil(),
		).Block(jen.Return(jen.Id("x"), jen.Err())))
	}
	body = append(body, jen.Return(jen.Id("x"), jen.Id("x").Dot("Validate").Call()))
	return jen.Add(
		jen.Add(vars...),
		jen.Comment(fmt.Sprintf("%s reads %s %s from the value the Socket.IO parser decoded and checks it.", st.GoDecode, article(st.GoName), st.GoName)).Line(),
		jen.Func().Id(st.GoDecode).Params(jen.Id("v").Any()).Params(jen.Id(st.GoName), jen.Error()).Block(body...).Line(),
	)
}

// genValidate renders Validate, which checks every constraint of the schema and
// reports the first failure with its field path.
func (g *generator) genValidate(st *model.Struct) jen.Code {
	var vars, body []jen.Code
	for _, f := range st.Fields {
		if !f.Type.HasChecks() && f.Type.Named == nil && f.Type.Kind != model.Number {
			continue
		}
		name := f.Name
		wrap := func(err jen.Code) jen.Code { return rt("At").Call(jen.Lit(name), err) }
		value := jen.Id("x").Dot(f.GoName)
		if f.Optional && f.Type.Kind != model.Array && f.Type.Kind != model.Object {
			value = jen.Op("*").Id("x").Dot(f.GoName) // methods of structs work through the pointer
			if f.Type.Kind == model.Timestamp && f.Type.Named == nil {
				value = jen.Parens(value) // (*x.At).UnixMilli()
			}
		}
		v, checks := g.checks(value, f.Type, 0, wrap)
		vars = append(vars, v...)
		if len(checks) == 0 {
			continue
		}
		if f.Optional && f.Type.Kind != model.Array {
			body = append(body, jen.If(jen.Id("x").Dot(f.GoName).Op("!=").Nil()).Block(checks...))
		} else {
			body = append(body, checks...)
		}
	}
	body = append(body, jen.Return(jen.Nil()))
	return jen.Add(
		jen.Add(vars...),
		jen.Comment("Validate checks x against the schema's constraints; the error names the field at fault.").Line(),
		jen.Func().Params(jen.Id("x").Id(st.GoName)).Id("Validate").Params().Error().Block(body...).Line(),
	)
}

// checks renders the constraint checks of a value of type t, each as
//
//	if err := runtime.MaxLength(v, 32); err != nil {
//		return wrap(err)
//	}
//
// It also returns the package variables they need (compiled patterns). depth is how
// many arrays v is nested in, which names the loop variables.
func (g *generator) checks(v *jen.Statement, t *model.Type, depth int, wrap func(jen.Code) jen.Code) (vars, out []jen.Code) {
	check := func(call jen.Code) { out = append(out, ifErr(call, wrap(jen.Err()))) }
	if t.Named != nil {
		check(jen.Id(t.Named.GoCheck).Call(v.Clone()))
		return nil, out
	}
	switch t.Kind {
	case model.Object:
		check(v.Clone().Dot("Validate").Call())
	case model.String:
		if t.GoEnum != nil {
			v = jen.String().Call(v.Clone())
		}
		vars = g.stringChecks(v, t, check)
	case model.Integer, model.Number, model.Timestamp:
		num := jen.Float64().Call(v.Clone())
		if t.Kind == model.Timestamp {
			num = jen.Float64().Call(v.Clone().Dot("UnixMilli").Call())
		}
		if t.Kind == model.Number {
			check(rt("Finite").Call(v.Clone()))
		}
		if t.Min != nil {
			check(rt("Min").Call(num.Clone(), jen.Lit(*t.Min)))
		}
		if t.Max != nil {
			check(rt("Max").Call(num.Clone(), jen.Lit(*t.Max)))
		}
	case model.Array:
		if t.MinItems != nil {
			check(rt("MinItems").Call(jen.Len(v.Clone()), jen.Lit(*t.MinItems)))
		}
		if t.MaxItems != nil {
			check(rt("MaxItems").Call(jen.Len(v.Clone()), jen.Lit(*t.MaxItems)))
		}
		idx, item := model.LoopVars(depth)
		itemWrap := func(err jen.Code) jen.Code { return wrap(rt("AtIndex").Call(jen.Id(idx), err)) }
		itemVars, itemChecks := g.checks(jen.Id(item), t.Elem, depth+1, itemWrap)
		vars = append(vars, itemVars...)
		if len(itemChecks) > 0 {
			out = append(out, jen.For(jen.List(jen.Id(idx), jen.Id(item)).Op(":=").Range().Add(v.Clone())).Block(itemChecks...))
		}
	}
	return vars, out
}

func (g *generator) stringChecks(v *jen.Statement, t *model.Type, check func(jen.Code)) (vars []jen.Code) {
	if t.MinLength != nil {
		check(rt("MinLength").Call(v.Clone(), jen.Lit(*t.MinLength)))
	}
	if t.MaxLength != nil {
		check(rt("MaxLength").Call(v.Clone(), jen.Lit(*t.MaxLength)))
	}
	if t.Pattern != "" {
		vars = append(vars, jen.Var().Id(t.GoPattern).Op("=").Qual(regexpPkg, "MustCompile").Call(rawLit(t.Pattern)).Line())
		check(rt("Pattern").Call(v.Clone(), jen.Id(t.GoPattern)))
	}
	if t.GoEnum != nil {
		check(rt("OneOf").Call(v.Clone(), jen.Id(t.GoEnum.GoValues)))
	}
	if t.Format != "" {
		check(rt("Format").Call(v.Clone(), jen.Lit(t.Format)))
	}
	return vars
}

// genAppendJSON renders the reflection-free JSON encoder of a struct:
//
//	func (x Profile) AppendJSON(b []byte) []byte {
//		start := len(b)
//		b = append(b, `,"username":`...)
//		b = runtime.AppendString(b, x.Username)
//		return runtime.CloseObject(b, start)
//	}
func (g *generator) genAppendJSON(st *model.Struct) jen.Code {
	body := []jen.Code{jen.Id("start").Op(":=").Len(jen.Id("b"))}
	for _, f := range st.Fields {
		value := jen.Id("x").Dot(f.GoName)
		if f.Optional && f.Type.Kind != model.Array && f.Type.Kind != model.Object {
			value = jen.Op("*").Id("x").Dot(f.GoName) // methods of structs work through the pointer
		}
		write := []jen.Code{
			jen.Id("b").Op("=").Append(jen.Id("b"), rawLit(fmt.Sprintf(`,%q:`, f.Name)).Op("...")),
			jen.Id("b").Op("=").Add(appendValue(value, f.Type)),
		}
		if f.Optional {
			body = append(body, jen.If(jen.Id("x").Dot(f.GoName).Op("!=").Nil()).Block(write...))
		} else {
			body = append(body, write...)
		}
	}
	body = append(body, jen.Return(rt("CloseObject").Call(jen.Id("b"), jen.Id("start"))))
	return jen.Add(
		jen.Comment("AppendJSON appends the JSON encoding of x to b.").Line(),
		jen.Func().Params(jen.Id("x").Id(st.GoName)).Id("AppendJSON").Params(jen.Id("b").Index().Byte()).Index().Byte().Block(body...).Line(),
	)
}

// appendValue renders the call that appends v of type t to b.
func appendValue(v *jen.Statement, t *model.Type) *jen.Statement {
	if t.Kind == model.Object {
		return v.Clone().Dot("AppendJSON").Call(jen.Id("b"))
	}
	return appender(t).Call(jen.Id("b"), v.Clone())
}

// appender renders a function of the form func(b []byte, v T) []byte for values of type t.
func appender(t *model.Type) *jen.Statement {
	switch {
	case t.GoEnum != nil:
		return rt("AppendEnum").Index(jen.Id(t.GoEnum.GoName))
	case t.Kind == model.Object:
		return rt("AppendMessage").Index(jen.Id(t.Struct.GoName))
	case t.Kind == model.Array:
		// func(b []byte, v []T) []byte { return runtime.AppendArray(b, v, <appender of T>) }
		return jen.Func().Params(jen.Id("b").Index().Byte(), jen.Id("v").Add(goType(t))).Index().Byte().Block(
			jen.Return(rt("AppendArray").Call(jen.Id("b"), jen.Id("v"), appender(t.Elem))),
		)
	}
	return rt(goKinds[t.Kind].append)
}

func (g *generator) genMarshalJSON(st *model.Struct) jen.Code {
	return jen.Add(
		jen.Comment("MarshalJSON implements json.Marshaler with AppendJSON.").Line(),
		jen.Func().Params(jen.Id("x").Id(st.GoName)).Id("MarshalJSON").Params().Params(jen.Index().Byte(), jen.Error()).Block(
			jen.Return(jen.Id("x").Dot("AppendJSON").Call(jen.Nil()), jen.Nil()),
		).Line(),
	)
}

// rawLit renders s as a raw string literal when it can, for readable patterns
// and JSON keys: `^[\p{L}]+$` rather than "^[\\p{L}]+$".
func rawLit(s string) *jen.Statement {
	if strings.ContainsAny(s, "`\r") {
		return jen.Lit(s)
	}
	return jen.Op("`" + s + "`")
}

// docSentence makes a schema doc read as a Go doc comment starting with name:
// "A display name." becomes "Username is a display name.".
func docSentence(name, doc string) string {
	if doc == "" || strings.HasPrefix(doc, name+" ") {
		return doc
	}
	first, rest, _ := strings.Cut(doc, " ")
	if len(first) < 2 || first != strings.ToUpper(first) { // keep acronyms such as "URL" as they are
		first = strings.ToLower(first[:1]) + first[1:]
	}
	return strings.TrimSpace(name + " is " + first + " " + rest)
}

// article returns "an" before a vowel sound, else "a": "an Auth", "a Profile".
func article(word string) string {
	if word != "" && strings.ContainsRune("AEIOU", rune(word[0])) {
		return "an"
	}
	return "a"
}
