// Package model turns a checked schema into what emitters need: resolved types,
// every Go and TypeScript name computed once, deterministic order.
//
// Emitters read names from the model; they never build them themselves.
package model

import (
	"fmt"
	"slices"
	"time"

	"github.com/karl-app/karl/schema"
)

// Kind is the wire kind of a value.
type Kind int

const (
	String    Kind = iota // JSON string
	Integer               // JSON number without fraction, within ±2^53
	Number                // JSON number
	Boolean               // JSON true/false
	Timestamp             // JSON integer, Unix milliseconds
	Array                 // JSON array
	Object                // JSON object
)

// Schema is the model of one schema file.
type Schema struct {
	Source    string // the schema file as given to the generator, e.g. "schema/karl.yaml"
	Name      string // e.g. "karl"
	Version   string // e.g. "1.0.0"
	Hash      string // "sha256:..." of the schema file
	Namespace string
	Doc       string
	Auth      *Struct   // the handshake auth object; never nil (may have no fields)
	Structs   []*Struct // every object type, named and synthesized, in schema order
	Scalars   []*Scalar // named types that are not objects
	Errors    []*ErrorCode
	Client    []*Event
	Server    []*Event
}

// Struct is an object type.
type Struct struct {
	Name   string // schema name, e.g. "Profile", or the synthesized one, e.g. "SetUsername"
	GoName string // e.g. "SetUsername"
	TSName string // e.g. "SetUsername"
	Doc    string
	Named  bool // declared under types
	Fields []*Field
	Pos    schema.Pos
}

// Field is a member of a struct.
type Field struct {
	Name       string // wire name, e.g. "profileImage"
	GoName     string // e.g. "ProfileImage"
	Doc        string
	Deprecated string
	Optional   bool
	Type       *Type
	Pos        schema.Pos
}

// Scalar is a named type that is not an object, e.g. Username.
type Scalar struct {
	Name   string // e.g. "Username"
	GoName string // e.g. "Username"
	Doc    string
	Type   *Type // the resolved type, with its constraints
	Pos    schema.Pos
}

// Type is a resolved value type with every constraint that applies to it.
type Type struct {
	Kind   Kind
	Named  *Scalar // set when the value refers to a named scalar type
	Struct *Struct // Object: the struct
	Elem   *Type   // Array: the element type

	MinLength, MaxLength *int
	Pattern              string
	Enum                 []string
	Format               string
	Trim                 bool
	Min, Max             *float64
	MinItems, MaxItems   *int
}

// HasChecks reports whether values of t need a check beyond their wire kind.
func (t *Type) HasChecks() bool {
	return t.MinLength != nil || t.MaxLength != nil || t.Pattern != "" || len(t.Enum) > 0 || t.Format != "" ||
		t.Min != nil || t.Max != nil || t.MinItems != nil || t.MaxItems != nil ||
		(t.Elem != nil && (t.Elem.HasChecks() || t.Elem.Kind == Object)) || t.Kind == Object
}

// ErrorCode is an application error code.
type ErrorCode struct {
	Code    string // e.g. "no-session"
	GoName  string // e.g. "CodeNoSession"
	Message string
	Pos     schema.Pos
}

// Event is one event with its direction, payload and, for client events, reply and errors.
type Event struct {
	Name       string // wire name, e.g. "set-username"
	GoName     string // e.g. "SetUsername"
	TSName     string // method name in TypeScript, e.g. "setUsername"
	Dir        schema.Direction
	Doc        string
	Deprecated string
	Payload    *Struct // never nil; may have no fields
	Reply      *Struct // nil without a reply
	Errors     []*ErrorCode
	To         []string
	Timeout    time.Duration
	Pos        schema.Pos
}

// HasPayload reports whether the event carries fields.
func (e *Event) HasPayload() bool { return len(e.Payload.Fields) > 0 }

// TakesPayload reports whether the event has a payload argument: fields, or a named
// object type (even an empty one). Events without one are emitted with no argument.
func (e *Event) TakesPayload() bool { return e.HasPayload() || e.Payload.Named }

// TypedStructs returns the structs that get a type in generated code: every struct
// but the synthesized payloads of events that take no payload.
func (m *Schema) TypedStructs() []*Struct {
	untyped := map[*Struct]bool{}
	for _, ev := range append(append([]*Event{}, m.Client...), m.Server...) {
		if !ev.TakesPayload() {
			untyped[ev.Payload] = true
		}
	}
	var out []*Struct
	for _, st := range m.Structs {
		if !untyped[st] {
			out = append(out, st)
		}
	}
	return out
}

// Sendable reports whether a server event may be sent to target.
func (e *Event) Sendable(target string) bool { return slices.Contains(e.To, target) }

// Build makes the model of a checked schema. source is the path recorded in generated headers.
func Build(s *schema.Schema, source string) (*Schema, error) {
	b := &builder{s: s, defs: map[string]*schema.TypeDef{}, structs: map[string]*Struct{}, scalars: map[string]*Scalar{}, goNames: map[string]schema.Pos{}}
	m := &Schema{Source: source, Name: s.Name, Version: s.Version, Hash: s.Hash, Namespace: s.Namespace, Doc: s.Doc}
	for _, d := range s.Types {
		b.defs[d.Name] = d
	}
	for _, d := range s.Types {
		b.named(d)
	}
	m.Auth = b.newStruct("Auth", "What the client sends in the handshake (socket.handshake.auth).", s.Auth, s.AuthPos)
	codes := map[string]*ErrorCode{}
	for _, e := range s.Errors {
		ec := &ErrorCode{Code: e.Code, GoName: "Code" + GoName(e.Code), Message: e.Message, Pos: e.Pos}
		codes[e.Code] = ec
		m.Errors = append(m.Errors, ec)
	}
	for _, ev := range s.Client {
		m.Client = append(m.Client, b.event(ev, codes))
	}
	for _, ev := range s.Server {
		m.Server = append(m.Server, b.event(ev, codes))
	}
	m.Structs = b.order
	m.Scalars = b.scalarOrder
	if len(b.errs) > 0 {
		return nil, b.errs
	}
	return m, nil
}

type builder struct {
	s           *schema.Schema
	defs        map[string]*schema.TypeDef
	structs     map[string]*Struct
	scalars     map[string]*Scalar
	order       []*Struct
	scalarOrder []*Scalar
	goNames     map[string]schema.Pos // every generated type name, to report collisions
	errs        schema.ErrorList
}

// reservedNames are declared by the generated code itself (Go and TypeScript);
// a schema type or event of that name would collide with them.
var reservedNames = map[string]bool{
	"Handler": true, "Socket": true, "Server": true, "RoomEmitter": true, "Others": true,
	"RequestError": true, "AckError": true, "AckResponse": true, "ClientEvent": true, "ErrorCode": true,
	"RuntimeErrorCode": true, "SchemaErrorCode": true, "EventErrorCodes": true,
	"ServerToClientEvents": true, "ClientToServerEvents": true, "Nothing": true,
}

func (b *builder) claim(goName string, pos schema.Pos) {
	if reservedNames[goName] {
		b.errs = append(b.errs, &schema.Error{Pos: pos, Msg: fmt.Sprintf("generated name %q is reserved by the generated code", goName),
			Hint: "rename the type or the event"})
		return
	}
	if prev, ok := b.goNames[goName]; ok {
		b.errs = append(b.errs, &schema.Error{Pos: pos, Msg: fmt.Sprintf("generated name %q is already used by the declaration at line %d", goName, prev.Line),
			Hint: "rename the type or the event"})
		return
	}
	b.goNames[goName] = pos
}

// named resolves a declared type once, on first use or in declaration order.
func (b *builder) named(d *schema.TypeDef) {
	if b.structs[d.Name] != nil || b.scalars[d.Name] != nil {
		return
	}
	if b.base(d.Spec.Type) == schema.Object {
		st := b.newStruct(d.Name, d.Spec.Doc, b.objectFields(d.Spec), d.Pos)
		st.Named = true
		b.structs[d.Name] = st
		return
	}
	sc := &Scalar{Name: d.Name, GoName: GoName(d.Name), Doc: d.Spec.Doc, Pos: d.Pos}
	b.claim(sc.GoName, d.Pos)
	b.scalars[d.Name] = sc
	sc.Type = b.resolve(d.Spec, d.Name)
	b.scalarOrder = append(b.scalarOrder, sc)
}

// objectFields returns the fields of an object spec, following named aliases.
func (b *builder) objectFields(sp *schema.Spec) []*schema.Field {
	for sp.Type != schema.Object {
		sp = b.defs[sp.Type].Spec
	}
	return sp.Fields
}

func (b *builder) base(name string) string {
	for range len(b.defs) + 1 {
		d, ok := b.defs[name]
		if !ok {
			return name
		}
		name = d.Spec.Type
	}
	return name
}

func (b *builder) newStruct(name, doc string, fields []*schema.Field, pos schema.Pos) *Struct {
	st := &Struct{Name: name, GoName: GoName(name), TSName: GoName(name), Doc: doc, Pos: pos}
	b.claim(st.GoName, pos)
	b.order = append(b.order, st)
	for _, f := range fields {
		st.Fields = append(st.Fields, &Field{
			Name: f.Name, GoName: GoName(f.Name), Doc: f.Spec.Doc, Deprecated: f.Spec.Deprecated,
			Optional: f.Optional, Type: b.resolve(f.Spec, name+GoName(f.Name)), Pos: f.Pos,
		})
	}
	return st
}

var kinds = map[string]Kind{
	schema.String: String, schema.Integer: Integer, schema.Number: Number, schema.Boolean: Boolean,
	schema.Timestamp: Timestamp, schema.Array: Array, schema.Object: Object,
}

// resolve turns a spec into a Type; inlineName names a synthesized struct for inline objects.
func (b *builder) resolve(sp *schema.Spec, inlineName string) *Type {
	if d, ok := b.defs[sp.Type]; ok {
		b.named(d)
		if st := b.structs[d.Name]; st != nil {
			return &Type{Kind: Object, Struct: st}
		}
		sc := b.scalars[d.Name]
		t := *sc.Type
		t.Named = sc
		return &t
	}
	t := &Type{Kind: kinds[sp.Type], MinLength: sp.MinLength, MaxLength: sp.MaxLength, Pattern: sp.Pattern,
		Enum: sp.Enum, Format: sp.Format, Trim: sp.Trim, Min: sp.Min, Max: sp.Max, MinItems: sp.MinItems, MaxItems: sp.MaxItems}
	switch t.Kind {
	case Array:
		t.Elem = b.resolve(sp.Items, inlineName+"Item")
	case Object:
		t.Struct = b.newStruct(inlineName, sp.Doc, sp.Fields, sp.Pos)
	}
	return t
}

// object resolves a payload or reply to its struct; synthesized structs are named name.
func (b *builder) object(sp *schema.Spec, name, doc string) *Struct {
	if sp.Type != schema.Object {
		d := b.defs[sp.Type]
		b.named(d)
		return b.structs[d.Name]
	}
	return b.newStruct(name, doc, sp.Fields, sp.Pos)
}

func (b *builder) event(ev *schema.Event, codes map[string]*ErrorCode) *Event {
	e := &Event{Name: ev.Name, GoName: GoName(ev.Name), TSName: LowerName(ev.Name), Dir: ev.Dir, Doc: ev.Doc,
		Deprecated: ev.Deprecated, To: ev.To, Timeout: ev.Timeout, Pos: ev.Pos}
	e.Payload = b.object(ev.Payload, e.GoName, fmt.Sprintf("%s is the payload of the %q event.", e.GoName, ev.Name))
	if ev.Reply != nil {
		e.Reply = b.object(ev.Reply, e.GoName+"Reply", fmt.Sprintf("%sReply is the reply to the %q event.", e.GoName, ev.Name))
	}
	for _, r := range ev.Errors {
		e.Errors = append(e.Errors, codes[r.Code])
	}
	return e
}
