package ts

import (
	"fmt"
	"slices"
	"strings"

	"github.com/karl-app/karl/gen/model"
	"github.com/karl-app/karl/schema"
)

// genValidate renders validate.ts: a reader (see checks.ts) for every declared type and
// object, then the readers of every event's payload and reply, by event name.
func (g *generator) genValidate() string {
	v := &validateFile{checks: map[string]bool{}, types: map[string]bool{}}
	var blocks []string
	for _, sc := range g.m.Scalars {
		blocks = append(blocks, v.genScalarReader(sc))
		blocks = append(blocks, v.flush()...)
	}
	for _, st := range g.m.TypedStructs() {
		blocks = append(blocks, v.genStructReader(st))
		blocks = append(blocks, v.flush()...)
	}
	blocks = append(blocks, v.genServerReaders(g.m.Server), v.genClientReaders(g.m.Client))
	return join(append([]string{v.imports(g.module)}, blocks...)...)
}

// validateFile collects what validate.ts imports, and the readers of inline types
// met while rendering a declaration, which follow it.
type validateFile struct {
	checks map[string]bool // names imported from checks.ts
	types  map[string]bool // type names imported from types.ts
	inline []string
}

func (v *validateFile) check(name string) string {
	v.checks[name] = true
	return name
}

func (v *validateFile) typ(name string) string {
	v.types[name] = true
	return name
}

func (v *validateFile) flush() []string {
	out := v.inline
	v.inline = nil
	return out
}

// imports renders the imports of validate.ts; module names a sibling file's specifier.
func (v *validateFile) imports(module func(name string) string) string {
	checks := sortedKeys(v.checks)
	for i, c := range checks {
		if c == "Reader" {
			checks[i] = "type Reader"
		}
	}
	out := importLine(checks, module("checks"), false)
	if len(v.types) > 0 {
		out += "\n" + importLine(sortedKeys(v.types), module("types"), true)
	}
	return out
}

// importLine renders an import on one line when it fits, else one name a line.
func importLine(names []string, from string, typeOnly bool) string {
	kw := "import "
	if typeOnly {
		kw = "import type "
	}
	line := kw + "{ " + strings.Join(names, ", ") + " } from " + str(from) + ";"
	if len(line) <= docWidth {
		return line
	}
	return kw + "{\n  " + strings.Join(names, ",\n  ") + ",\n} from " + str(from) + ";"
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return keys
}

// genScalarReader renders the reader of a named type that is not an object:
//
//	/** readUsername reads a Username. */
//	function readUsername(v: unknown, path: string): Username {
//	  const s = asTrimmedString(v, path);
//	  minLength(s, 1, path);
//	  return s;
//	}
func (v *validateFile) genScalarReader(sc *model.Scalar) string {
	if sc.Type.Named != nil { // an alias of another named type: its reader does the checks
		return v.genFunc(true, sc.TSReader, v.typ(sc.TSName), readerDoc(sc.TSReader, sc.TSName),
			nil, []string{"return " + sc.Type.Named.TSReader + "(v, path);"})
	}
	consts, body := v.body(sc.Type)
	return v.genFunc(true, sc.TSReader, v.typ(sc.TSName), readerDoc(sc.TSReader, sc.TSName), consts, body)
}

// genFunc renders a reader function with the constants it uses above it. The readers of
// declared types are exported, those of inline types are not.
func (v *validateFile) genFunc(exported bool, name, result, text string, consts, body []string) string {
	var b strings.Builder
	for _, c := range consts {
		b.WriteString(c + "\n")
	}
	if len(consts) > 0 {
		b.WriteString("\n")
	}
	b.WriteString(doc("", text, ""))
	if exported {
		b.WriteString("export ")
	}
	b.WriteString("function " + name + "(v: unknown, path = \"\"): " + result + " {\n")
	for _, l := range body {
		b.WriteString("  " + l + "\n")
	}
	b.WriteString("}")
	return b.String()
}

func readerDoc(fn, typ string) string {
	return fn + " reads a value of type " + typ + " (see Reader)."
}

// body renders the body of the reader of a value of type t, and the constants it
// needs (patterns, enum values).
func (v *validateFile) body(t *model.Type) (consts, body []string) {
	switch t.Kind {
	case model.String:
		return v.stringChecks(t)
	case model.Integer, model.Number, model.Timestamp:
		read := map[model.Kind]string{model.Integer: "asInteger", model.Number: "asNumber", model.Timestamp: "asTimestamp"}[t.Kind]
		if t.Min == nil && t.Max == nil {
			return nil, []string{"return " + v.check(read) + "(v, path);"}
		}
		body = append(body, "const n = "+v.check(read)+"(v, path);")
		if t.Min != nil {
			body = append(body, v.check("min")+"(n, "+number(*t.Min)+", path);")
		}
		if t.Max != nil {
			body = append(body, v.check("max")+"(n, "+number(*t.Max)+", path);")
		}
		return nil, append(body, "return n;")
	case model.Boolean:
		return nil, []string{"return " + v.check("asBoolean") + "(v, path);"}
	case model.Array:
		read := "asArray(v, path, " + v.reader(t.Elem) + ")"
		v.check("asArray")
		if t.MinItems == nil && t.MaxItems == nil {
			return nil, []string{"return " + read + ";"}
		}
		body = append(body, "const a = "+read+";")
		if t.MinItems != nil {
			body = append(body, fmt.Sprintf("%s(a, %d, path);", v.check("minItems"), *t.MinItems))
		}
		if t.MaxItems != nil {
			body = append(body, fmt.Sprintf("%s(a, %d, path);", v.check("maxItems"), *t.MaxItems))
		}
		return nil, append(body, "return a;")
	}
	return nil, []string{"return " + v.reader(t) + "(v, path);"}
}

// stringChecks renders the checks of a string in the order the server runs them.
func (v *validateFile) stringChecks(t *model.Type) (consts, body []string) {
	read := "asString"
	if t.Trim {
		read = "asTrimmedString"
	}
	normalize := ""
	if t.Normalize != "" {
		normalize = `.normalize("NFC")`
	}
	body = append(body, "const s = "+v.check(read)+"(v, path)"+normalize+";")
	if t.MinLength != nil {
		body = append(body, fmt.Sprintf("%s(s, %d, path);", v.check("minLength"), *t.MinLength))
	}
	if t.MaxLength != nil {
		body = append(body, fmt.Sprintf("%s(s, %d, path);", v.check("maxLength"), *t.MaxLength))
	}
	if t.Pattern != "" {
		consts = append(consts, "const "+t.TSPattern+" = "+regexLiteral(t.Pattern)+";")
		body = append(body, v.check("matches")+"(s, "+t.TSPattern+", path);")
	}
	if t.Format == "image-data-url" {
		body = append(body, v.check("imageDataURL")+"(s, path);")
	}
	if len(t.Enum) > 0 {
		quoted := make([]string, len(t.Enum))
		for i, e := range t.Enum {
			quoted[i] = str(e)
		}
		consts = append(consts, "const "+t.TSEnum+" = ["+strings.Join(quoted, ", ")+"] as const;")
		return consts, append(body, "return "+v.check("oneOf")+"(s, "+t.TSEnum+", path);")
	}
	if len(body) == 1 && normalize == "" {
		return nil, []string{"return " + read + "(v, path);"}
	}
	return consts, append(body, "return s;")
}

// reader returns the name of the reader of a value of type t: a check of checks.ts for
// plain values, the reader of a named type, or the reader rendered for this one
// (t.TSReader) when t carries constraints of its own.
func (v *validateFile) reader(t *model.Type) string {
	switch {
	case t.Named != nil:
		return t.Named.TSReader
	case t.Kind == model.Object:
		return t.Struct.TSReader
	case t.TSReader != "":
		consts, body := v.body(t)
		v.inline = append(v.inline, v.genFunc(false, t.TSReader, v.typeOf(t), readerDoc(t.TSReader, tsType(t)), consts, body))
		return t.TSReader
	case t.Kind == model.String && t.Trim:
		return v.check("asTrimmedString")
	}
	return v.check(map[model.Kind]string{model.String: "asString", model.Integer: "asInteger", model.Number: "asNumber",
		model.Boolean: "asBoolean", model.Timestamp: "asTimestamp"}[t.Kind])
}

// typeOf is tsType, noting the named types it mentions as imports.
func (v *validateFile) typeOf(t *model.Type) string {
	switch {
	case t.Named != nil:
		v.typ(t.Named.TSName)
	case t.Kind == model.Object:
		v.typ(t.Struct.TSName)
	case t.Kind == model.Array:
		v.typeOf(t.Elem)
	}
	return tsType(t)
}

// genStructReader renders the reader of an object type:
//
//	/** readProfile reads a value of type Profile (see Reader). */
//	export function readProfile(v: unknown, path = ""): Profile {
//	  const o = asObject(v, path);
//	  const x: Profile = {
//	    username: required(o, "username", path, readUsername),
//	  };
//	  if (o["profileImage"] != null) {
//	    x.profileImage = readImageDataURL(o["profileImage"], at(path, "profileImage"));
//	  }
//	  return x;
//	}
//
// Without optional fields it returns the object literal; without fields it only
// checks that the value is an object.
func (v *validateFile) genStructReader(st *model.Struct) string {
	name := v.typ(st.TSName)
	required, optional := v.fieldReads(st)
	readObject := "const o = " + v.check("asObject") + "(v, path);"
	var body []string
	switch {
	case len(st.Fields) == 0:
		body = []string{v.check("asObject") + "(v, path);", "return {};"}
	case len(optional) == 0:
		body = slices.Concat([]string{readObject}, objectLiteral("return ", required))
	default:
		body = slices.Concat([]string{readObject}, objectLiteral("const x: "+name+" = ", required), optional, []string{"return x;"})
	}
	return v.genFunc(true, st.TSReader, name, readerDoc(st.TSReader, name), nil, body)
}

// fieldReads renders the entries of the required fields, for an object literal, and
// the statements that set the optional fields that are present.
func (v *validateFile) fieldReads(st *model.Struct) (required, optional []string) {
	for _, f := range st.Fields {
		read := v.reader(f.Type)
		key := str(f.Name)
		if !f.Optional {
			required = append(required, fmt.Sprintf("%s: %s(o, %s, path, %s),", f.Name, v.check("required"), key, read))
			continue
		}
		optional = append(optional,
			fmt.Sprintf("if (o[%s] != null) {", key),
			fmt.Sprintf("  x.%s = %s(o[%s], %s(path, %s));", f.Name, read, key, v.check("at"), key),
			"}")
	}
	return required, optional
}

// objectLiteral renders head{entries}; with one entry a line.
func objectLiteral(head string, entries []string) []string {
	if len(entries) == 0 {
		return []string{head + "{};"}
	}
	lines := []string{head + "{"}
	for _, e := range entries {
		lines = append(lines, "  "+e)
	}
	return append(lines, "};")
}

// genServerReaders renders the readers of the server events' payloads by event:
//
//	export const serverEvents: ServerEventReaders = {
//	  "username-saved": readUsernameSaved,
//	  "token-expired": readNothing,
//	  "request-error": readRequestError,
//	};
func (v *validateFile) genServerReaders(events []*model.Event) string {
	var b strings.Builder
	b.WriteString(doc("", "ServerEventReaders has a reader for the payload of every server event.", ""))
	b.WriteString("export type ServerEventReaders = {\n")
	b.WriteString("  readonly [E in keyof " + v.typ("ServerToClientEvents") + "]: " + v.check("Reader") + "<Parameters<ServerToClientEvents[E]>[0]>;\n")
	b.WriteString("};\n\n")
	b.WriteString(doc("", "serverEvents holds the reader of every server event's payload: listeners check what arrives with it, as useSocketEvent does.", ""))
	b.WriteString("export const serverEvents: ServerEventReaders = {\n")
	for _, ev := range events {
		read := ev.Payload.TSReader
		if !ev.HasPayload() {
			read = v.check("readNothing")
		}
		b.WriteString("  " + str(ev.Name) + ": " + read + ",\n")
	}
	b.WriteString("  " + str(schema.RequestErrorEvent) + ": " + v.check("readRequestError") + ",\n")
	b.WriteString("};")
	return b.String()
}

// genClientReaders renders the readers of the client events' payloads and replies by event:
//
//	export const clientEvents = {
//	  "get-profile": { payload: null, reply: readProfile },
//	} as const;
func (v *validateFile) genClientReaders(events []*model.Event) string {
	var b strings.Builder
	b.WriteString(doc("", "clientEvents holds, for every client event, the readers of its payload (null: the event takes none) and of its reply: the API checks what it sends and what it gets back with them.", ""))
	b.WriteString("export const clientEvents = {\n")
	for _, ev := range events {
		payload := "null"
		if ev.HasPayload() {
			payload = ev.Payload.TSReader
		}
		var reply string
		if ev.Reply != nil {
			reply = ev.Reply.TSReader
		} else {
			reply = v.check("readNothing")
		}
		policy := ""
		if ev.Idempotent {
			policy += ", idempotent: true"
		}
		if ev.Offline != schema.OfflineFail {
			policy += ", offline: " + str(ev.Offline)
		}
		b.WriteString("  " + str(ev.Name) + ": { payload: " + payload + ", reply: " + reply + policy + " },\n")
	}
	b.WriteString("} as const;")
	return b.String()
}
