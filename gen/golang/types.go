package golang

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/karl-app/karl/gen/model"
)

// goType renders the Go type of a value: string, int64, float64, bool,
// time.Time, []T or a struct name.
func goType(t *model.Type) *jen.Statement {
	switch t.Kind {
	case model.String:
		return jen.String()
	case model.Integer:
		return jen.Int64()
	case model.Number:
		return jen.Float64()
	case model.Boolean:
		return jen.Bool()
	case model.Timestamp:
		return jen.Qual(timePkg, "Time")
	case model.Array:
		return jen.Index().Add(goType(t.Elem))
	}
	return jen.Id(t.Struct.GoName)
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
// runtime.AsString, decodeProfile, or runtime.ArrayOf(runtime.AsInt).
func reader(t *model.Type) *jen.Statement {
	switch t.Kind {
	case model.String:
		if t.Trim {
			return jen.Qual(runtimePkg, "AsTrimmedString")
		}
		return jen.Qual(runtimePkg, "AsString")
	case model.Integer:
		return jen.Qual(runtimePkg, "AsInt")
	case model.Number:
		return jen.Qual(runtimePkg, "AsNumber")
	case model.Boolean:
		return jen.Qual(runtimePkg, "AsBool")
	case model.Timestamp:
		return jen.Qual(runtimePkg, "AsTime")
	case model.Array:
		return jen.Qual(runtimePkg, "ArrayOf").Call(reader(t.Elem))
	}
	return jen.Id("decode" + t.Struct.GoName)
}

// genScalar renders the check function of a named scalar type:
//
//	// checkUsername checks a value against the Username type: <doc>
//	func checkUsername(v string) error {
//		if err := runtime.MaxLength(v, 32); err != nil {
//			return err
//		}
//		return nil
//	}
func (g *generator) genScalar(sc *model.Scalar) jen.Code {
	t := *sc.Type
	t.Named = nil // the function checks the constraints themselves
	vars, checks := g.checks(jen.Id("v"), &t, sc.GoName, func(err jen.Code) jen.Code { return err })
	doc := fmt.Sprintf("check%s checks a value against the constraints of the %s type.", sc.GoName, sc.Name)
	if sc.Doc != "" {
		doc += " " + docSentence(sc.GoName, sc.Doc)
	}
	return jen.Add(
		jen.Add(vars...),
		jen.Comment(doc).Line(),
		jen.Func().Id("check"+sc.GoName).Params(jen.Id("v").Add(goType(&t))).Error().Block(
			append(checks, jen.Return(jen.Nil()))...,
		).Line(),
	)
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
			fields = append(fields, jen.Comment(doc))
		}
		fields = append(fields, jen.Id(f.GoName).Add(fieldType(f)).Tag(map[string]string{"json": tag}))
	}
	doc := docSentence(st.GoName, st.Doc)
	if doc == "" {
		doc = st.GoName + " is the " + st.Name + " object of the schema."
	}
	return jen.Comment(doc).Line().Type().Id(st.GoName).Struct(fields...).Line()
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
		jen.List(m, jen.Err()).Op(":=").Qual(runtimePkg, "Object").Call(jen.Id("v")),
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
		if f.Type.Kind == model.Array { // built once, not on every call
			name := "read" + st.GoName + f.GoName
			vars = append(vars, jen.Var().Id(name).Op("=").Add(rd).Line())
			rd = jen.Id(name)
		}
		body = append(body, jen.If(
			jen.List(jen.Id("x").Dot(f.GoName), jen.Err()).Op("=").Qual(runtimePkg, read).Call(jen.Id("m"), jen.Lit(f.Name), rd),
			jen.Err().Op("!=").Nil(),
		).Block(jen.Return(jen.Id("x"), jen.Err())))
	}
	body = append(body, jen.Return(jen.Id("x"), jen.Id("x").Dot("Validate").Call()))
	return jen.Add(
		jen.Add(vars...),
		jen.Comment(fmt.Sprintf("decode%s reads %s %s from the value the Socket.IO parser decoded and checks it.", st.GoName, article(st.GoName), st.GoName)).Line(),
		jen.Func().Id("decode"+st.GoName).Params(jen.Id("v").Any()).Params(jen.Id(st.GoName), jen.Error()).Block(body...).Line(),
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
		wrap := func(err jen.Code) jen.Code { return jen.Qual(runtimePkg, "At").Call(jen.Lit(name), err) }
		value := jen.Id("x").Dot(f.GoName)
		if f.Optional && f.Type.Kind != model.Array && f.Type.Kind != model.Object {
			value = jen.Op("*").Id("x").Dot(f.GoName) // methods of structs work through the pointer
		}
		v, checks := g.checks(value, f.Type, st.GoName+f.GoName, wrap)
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
		jen.Comment(fmt.Sprintf("Validate checks x against the schema's constraints; the error names the field at fault.")).Line(),
		jen.Func().Params(jen.Id("x").Id(st.GoName)).Id("Validate").Params().Error().Block(body...).Line(),
	)
}

// checks renders the constraint checks of a value of type t, each as
//
//	if err := runtime.MaxLength(v, 32); err != nil {
//		return wrap(err)
//	}
//
// It also returns the package variables they need (compiled patterns, enums).
// name prefixes those variables.
func (g *generator) checks(v *jen.Statement, t *model.Type, name string, wrap func(jen.Code) jen.Code) (vars, out []jen.Code) {
	check := func(call jen.Code) {
		out = append(out, jen.If(jen.Err().Op(":=").Add(call), jen.Err().Op("!=").Nil()).Block(jen.Return(wrap(jen.Err()))))
	}
	if t.Named != nil {
		check(jen.Id("check" + t.Named.GoName).Call(v.Clone()))
		return nil, out
	}
	switch t.Kind {
	case model.Object:
		check(v.Clone().Dot("Validate").Call())
	case model.String:
		vars = g.stringChecks(v, t, name, check)
	case model.Integer, model.Number, model.Timestamp:
		num := jen.Float64().Call(v.Clone())
		if t.Kind == model.Timestamp {
			num = jen.Float64().Call(v.Clone().Dot("UnixMilli").Call())
		}
		if t.Kind == model.Number {
			check(jen.Qual(runtimePkg, "Finite").Call(v.Clone()))
		}
		if t.Min != nil {
			check(jen.Qual(runtimePkg, "Min").Call(num.Clone(), jen.Lit(*t.Min)))
		}
		if t.Max != nil {
			check(jen.Qual(runtimePkg, "Max").Call(num.Clone(), jen.Lit(*t.Max)))
		}
	case model.Array:
		if t.MinItems != nil {
			check(jen.Qual(runtimePkg, "MinItems").Call(jen.Len(v.Clone()), jen.Lit(*t.MinItems)))
		}
		if t.MaxItems != nil {
			check(jen.Qual(runtimePkg, "MaxItems").Call(jen.Len(v.Clone()), jen.Lit(*t.MaxItems)))
		}
		// Nested arrays get their own loop variables: i, item; j, item2; ...
		depth := strings.Count(name, "Item")
		idx, item := string(rune('i'+depth)), "item"
		if depth > 0 {
			item = fmt.Sprintf("item%d", depth+1)
		}
		itemWrap := func(err jen.Code) jen.Code { return wrap(jen.Qual(runtimePkg, "AtIndex").Call(jen.Id(idx), err)) }
		itemVars, itemChecks := g.checks(jen.Id(item), t.Elem, name+"Item", itemWrap)
		vars = append(vars, itemVars...)
		if len(itemChecks) > 0 {
			out = append(out, jen.For(jen.List(jen.Id(idx), jen.Id(item)).Op(":=").Range().Add(v.Clone())).Block(itemChecks...))
		}
	}
	return vars, out
}

func (g *generator) stringChecks(v *jen.Statement, t *model.Type, name string, check func(jen.Code)) (vars []jen.Code) {
	if t.MinLength != nil {
		check(jen.Qual(runtimePkg, "MinLength").Call(v.Clone(), jen.Lit(*t.MinLength)))
	}
	if t.MaxLength != nil {
		check(jen.Qual(runtimePkg, "MaxLength").Call(v.Clone(), jen.Lit(*t.MaxLength)))
	}
	if t.Pattern != "" {
		re := "pattern" + name
		vars = append(vars, jen.Var().Id(re).Op("=").Qual(regexpPkg, "MustCompile").Call(rawLit(t.Pattern)).Line())
		check(jen.Qual(runtimePkg, "Pattern").Call(v.Clone(), jen.Id(re)))
	}
	if len(t.Enum) > 0 {
		enum := "enum" + name
		var vals []jen.Code
		for _, e := range t.Enum {
			vals = append(vals, jen.Lit(e))
		}
		vars = append(vars, jen.Var().Id(enum).Op("=").Index().String().Values(vals...).Line())
		check(jen.Qual(runtimePkg, "OneOf").Call(v.Clone(), jen.Id(enum)))
	}
	if t.Format != "" {
		check(jen.Qual(runtimePkg, "Format").Call(v.Clone(), jen.Lit(t.Format)))
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
	body = append(body, jen.Return(jen.Qual(runtimePkg, "CloseObject").Call(jen.Id("b"), jen.Id("start"))))
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
	switch t.Kind {
	case model.String:
		return jen.Qual(runtimePkg, "AppendString")
	case model.Integer:
		return jen.Qual(runtimePkg, "AppendInt")
	case model.Number:
		return jen.Qual(runtimePkg, "AppendNumber")
	case model.Boolean:
		return jen.Qual(runtimePkg, "AppendBool")
	case model.Timestamp:
		return jen.Qual(runtimePkg, "AppendTime")
	case model.Object:
		return jen.Qual(runtimePkg, "AppendMessage").Index(jen.Id(t.Struct.GoName))
	}
	// func(b []byte, v []T) []byte { return runtime.AppendArray(b, v, <appender of T>) }
	return jen.Func().Params(jen.Id("b").Index().Byte(), jen.Id("v").Add(goType(t))).Index().Byte().Block(
		jen.Return(jen.Qual(runtimePkg, "AppendArray").Call(jen.Id("b"), jen.Id("v"), appender(t.Elem))),
	)
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
