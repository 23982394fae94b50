// Package docs emits the reference documentation of a schema: EVENTS.md, for
// people reading the wire contract, and asyncapi.yaml (AsyncAPI 3.0), for tools.
//
// Both are generated from the model, like the code, so they cannot drift from it;
// both describe the server's point of view (client events are received, server
// events are sent) and the runtime's wire contract (ack envelope, request-error,
// runtime error codes).
package docs

import (
	"slices"
	"strconv"
	"strings"

	"github.com/karl-app/karl/gen/model"
	runtimecodes "github.com/karl-app/karl/internal/codes"
	"github.com/karl-app/karl/schema"
)

// File is one generated file.
type File struct {
	Name string // base name, e.g. "EVENTS.md"
	Data []byte
}

// Generate renders the documentation files of the model.
func Generate(m *model.Schema) ([]File, error) {
	api, err := AsyncAPI(m)
	if err != nil {
		return nil, err
	}
	return []File{{Name: "EVENTS.md", Data: Markdown(m)}, {Name: "asyncapi.yaml", Data: api}}, nil
}

// eventCodes lists the codes a client event can fail with: its own, then the runtime's.
func eventCodes(ev *model.Event) []string {
	var codes []string
	for _, e := range ev.Errors {
		codes = append(codes, e.Code)
	}
	return append(codes, runtimecodes.ForEvent(ev.Idempotent)...)
}

// allCodes lists every code a client can receive: the schema's, then the runtime's.
func allCodes(m *model.Schema) []string {
	var codes []string
	for _, e := range m.Errors {
		codes = append(codes, e.Code)
	}
	for _, rc := range runtimecodes.All {
		codes = append(codes, rc.Code)
	}
	return codes
}

// targetText says where a server event sent to a target arrives.
var targetText = map[string]string{
	schema.ToSocket: "the socket whose event (or connection) the server is handling",
	schema.ToAll:    "every socket of the namespace",
	schema.ToRoom:   "the sockets in one or more rooms",
	schema.ToOthers: "every socket but the one whose event the server is handling, optionally within rooms",
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// kindName names a wire kind as the schema language does.
var kindName = map[model.Kind]string{
	model.String: schema.String, model.Integer: schema.Integer, model.Number: schema.Number, model.Boolean: schema.Boolean,
	model.Timestamp: schema.Timestamp, model.Array: schema.Array, model.Object: schema.Object,
}

// namedTypes lists the declared types, scalars and objects, in schema order.
func namedTypes(m *model.Schema) []namedType {
	var out []namedType
	for _, sc := range m.Scalars {
		out = append(out, namedType{name: sc.Name, doc: sc.Doc, scalar: sc, pos: sc.Pos})
	}
	for _, st := range m.Structs {
		if st.Named {
			out = append(out, namedType{name: st.Name, doc: st.Doc, object: st, pos: st.Pos})
		}
	}
	slices.SortStableFunc(out, func(a, b namedType) int { return a.pos.Line - b.pos.Line })
	return out
}

type namedType struct {
	name   string
	doc    string
	scalar *model.Scalar // or
	object *model.Struct
	pos    schema.Pos
}

// fieldDoc is the doc of a field, else the doc of the named type it refers to.
func fieldDoc(f *model.Field) string {
	doc := f.Doc
	switch {
	case doc != "":
	case f.Type.Named != nil:
		doc = f.Type.Named.Doc
	case f.Type.Struct != nil && f.Type.Struct.Named:
		doc = f.Type.Struct.Doc
	}
	if note := deprecation(f.Deprecated); note != "" {
		doc = strings.TrimSpace(note + " " + doc)
	}
	return doc
}

// deprecation renders a deprecated note: `deprecated: true` reads as the text "deprecated".
func deprecation(text string) string {
	switch text {
	case "":
		return ""
	case "deprecated":
		return "Deprecated."
	}
	return "Deprecated: " + strings.TrimSuffix(text, ".") + "."
}

// roomTarget returns the room kind a target names ("chat" or "chat.others") and
// whether it is the others form; nil for the other targets.
func roomTarget(m *model.Schema, t string) (*model.Room, bool) {
	name, others := strings.CutSuffix(t, schema.OthersSuffix)
	for _, r := range m.Rooms {
		if r.Name == name {
			return r, others
		}
	}
	return nil, false
}

// presenceTarget says whom the runtime sends a presence event of a room kind,
// room naming one room of the kind (a link in EVENTS.md).
func presenceTarget(ev *model.Event, room string) string {
	if ev == ev.Room.State {
		return "the socket that joins a " + room + ", when it joins and when its connection is recovered (the runtime sends it)"
	}
	return "the other members of a " + room + " when members join or leave (the runtime sends it)"
}

// targetDescription says where a target delivers an event, in plain text.
func targetDescription(m *model.Schema, t string) string {
	r, others := roomTarget(m, t)
	switch {
	case r == nil:
		return targetText[t]
	case others:
		return "the members of one " + r.Name + " room but the socket whose event the server is handling"
	}
	return "every member of one " + r.Name + " room"
}
