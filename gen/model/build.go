package model

import (
	"fmt"
	"slices"
	"sort"

	"github.com/karl-app/karl/schema"
)

// Build makes the model of a checked schema. source is the path recorded in generated headers.
//
// It resolves every type, then names everything (name.go). A schema whose names
// clash in the generated code is refused with positioned errors naming both sides.
func Build(s *schema.Schema, source string) (*Schema, error) {
	b := &builder{s: s, defs: map[string]*schema.TypeDef{}, structs: map[string]*Struct{}, scalars: map[string]*Scalar{}}
	m := &Schema{Source: source, Name: s.Name, Version: s.Version, Hash: s.Hash, Namespace: s.Namespace, Doc: s.Doc}
	for _, d := range s.Types {
		b.defs[d.Name] = d
	}
	for _, d := range s.Types {
		b.named(d)
	}
	authDoc := s.AuthDoc
	if authDoc == "" {
		authDoc = "What the client sends in the handshake (socket.handshake.auth)."
	}
	m.Auth = b.newStruct("Auth", authDoc, s.Auth, s.AuthPos, "the handshake auth")
	codes := map[string]*ErrorCode{}
	for _, e := range s.Errors {
		ec := &ErrorCode{Code: e.Code, Message: e.Message, Pos: e.Pos}
		codes[e.Code] = ec
		m.Errors = append(m.Errors, ec)
	}
	for _, r := range s.AuthErrors {
		m.AuthErrors = append(m.AuthErrors, codes[r.Code])
	}
	for _, ev := range s.Client {
		m.Client = append(m.Client, b.event(ev, codes))
	}
	for _, ev := range s.Server {
		m.Server = append(m.Server, b.event(ev, codes))
	}
	for _, r := range s.Rooms {
		m.Rooms = append(m.Rooms, b.room(s, r, m.Server))
	}
	m.Structs = b.order
	m.Scalars = b.scalarOrder
	m.Enums = b.enums
	for _, ev := range m.Events() {
		ev.Payload.Typed = ev.Payload.Typed || ev.TakesPayload()
		if ev.Reply != nil {
			ev.Reply.Typed = true
		}
	}
	name(m, &b.errs)
	if len(b.errs) > 0 {
		sort.SliceStable(b.errs, func(i, j int) bool {
			a, c := b.errs[i].Pos, b.errs[j].Pos
			return a.Line < c.Line || a.Line == c.Line && a.Col < c.Col
		})
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
	enums       []*Enum
	errs        schema.ErrorList
}

// named resolves a declared type once, on first use or in declaration order.
func (b *builder) named(d *schema.TypeDef) {
	if b.structs[d.Name] != nil || b.scalars[d.Name] != nil {
		return
	}
	if b.base(d.Spec.Type) == schema.Object {
		st := b.newStruct(d.Name, d.Spec.Doc, b.objectFields(d.Spec), d.Pos, fmt.Sprintf("type %q", d.Name))
		st.Named, st.Typed = true, true
		b.structs[d.Name] = st
		return
	}
	sc := &Scalar{Name: d.Name, GoName: GoName(d.Name), TSName: GoName(d.Name), Doc: d.Spec.Doc, Pos: d.Pos}
	b.scalars[d.Name] = sc
	sc.Type = b.resolve(d.Spec, d.Name, fmt.Sprintf("type %q", d.Name), sc)
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

func (b *builder) newStruct(name, doc string, fields []*schema.Field, pos schema.Pos, origin string) *Struct {
	st := &Struct{Name: name, GoName: GoName(name), TSName: GoName(name), Doc: doc, Pos: pos, origin: origin, Typed: true}
	b.order = append(b.order, st)
	for _, f := range fields {
		what := fmt.Sprintf("field %q of %s", f.Name, origin)
		st.Fields = append(st.Fields, &Field{
			Name: f.Name, GoName: GoName(f.Name), Doc: f.Spec.Doc, Deprecated: f.Spec.Deprecated,
			Optional: f.Optional, Type: b.resolve(f.Spec, name+GoName(f.Name), what, nil), Pos: f.Pos,
		})
	}
	return st
}

var kinds = map[string]Kind{
	schema.String: String, schema.Integer: Integer, schema.Number: Number, schema.Boolean: Boolean,
	schema.Timestamp: Timestamp, schema.Array: Array, schema.Object: Object,
}

// resolve turns a spec into a Type. inlineName names what an inline value makes a
// type of (objects, enums); what describes the value for messages; named is the
// declared scalar the spec defines, if it does.
func (b *builder) resolve(sp *schema.Spec, inlineName, what string, named *Scalar) *Type {
	if d, ok := b.defs[sp.Type]; ok {
		b.named(d)
		if st := b.structs[d.Name]; st != nil {
			return &Type{Kind: Object, Struct: st}
		}
		sc := b.scalars[d.Name]
		t := *sc.Type
		t.Named = sc
		t.GoPattern, t.TSPattern, t.TSEnum, t.TSReader = "", "", "", ""
		return &t
	}
	t := &Type{Kind: kinds[sp.Type], MinLength: sp.MinLength, MaxLength: sp.MaxLength, Pattern: sp.Pattern,
		Enum: sp.Enum, Format: sp.Format, Trim: sp.Trim, Normalize: sp.Normalize, Min: sp.Min, Max: sp.Max, MinItems: sp.MinItems, MaxItems: sp.MaxItems}
	switch t.Kind {
	case Array:
		t.Elem = b.resolve(sp.Items, inlineName+"Item", "the items of "+what, nil)
	case Object:
		t.Struct = b.newStruct(inlineName, sp.Doc, sp.Fields, sp.Pos, "the object of "+what)
	case String:
		if len(t.Enum) > 0 {
			t.GoEnum = b.newEnum(inlineName, sp, what, named)
		}
	}
	return t
}

func (b *builder) newEnum(name string, sp *schema.Spec, what string, named *Scalar) *Enum {
	e := &Enum{GoName: GoName(name), Doc: sp.Doc, Named: named, Pos: sp.Pos, origin: what}
	if named != nil {
		e.Pos = named.Pos
	} else {
		e.Doc = fmt.Sprintf("%s is the enum of %s.", e.GoName, what)
	}
	for _, v := range sp.Enum {
		e.Values = append(e.Values, &EnumValue{Value: v})
	}
	b.enums = append(b.enums, e)
	return e
}

// object resolves a payload or reply to its struct; synthesized structs are named name.
func (b *builder) object(sp *schema.Spec, name, doc, origin string) *Struct {
	if sp.Type != schema.Object {
		d := b.defs[sp.Type]
		b.named(d)
		return b.structs[d.Name]
	}
	st := b.newStruct(name, doc, sp.Fields, sp.Pos, origin)
	st.Typed = false // set once the event says whether it takes a payload
	return st
}

func (b *builder) event(ev *schema.Event, codes map[string]*ErrorCode) *Event {
	e := &Event{Name: ev.Name, GoName: GoName(ev.Name), TSName: LowerName(ev.Name), Dir: ev.Dir, Doc: ev.Doc,
		Deprecated: ev.Deprecated, To: ev.To, Timeout: ev.Timeout, Idempotent: ev.Idempotent, Volatile: ev.Volatile, Pos: ev.Pos}
	if ev.Dir == schema.ClientToServer {
		e.Offline = ev.OfflinePolicy()
	}
	e.Payload = b.object(ev.Payload, e.GoName, fmt.Sprintf("%s is the payload of the %q event.", e.GoName, ev.Name),
		fmt.Sprintf("the payload of event %q", ev.Name))
	if ev.Reply != nil {
		e.Reply = b.object(ev.Reply, e.GoName+"Reply", fmt.Sprintf("%sReply is the reply to the %q event.", e.GoName, ev.Name),
			fmt.Sprintf("the reply of event %q", ev.Name))
	}
	for _, r := range ev.Errors {
		e.Errors = append(e.Errors, codes[r.Code])
	}
	return e
}

// room resolves a room kind to the structs and events the loader declared for it.
func (b *builder) room(s *schema.Schema, r *schema.Room, server []*Event) *Room {
	st := func(name string) *Struct {
		if name == "" || b.defs[name] == nil {
			return nil
		}
		b.named(b.defs[name])
		return b.structs[name]
	}
	m := &Room{Name: r.Name, Doc: r.Doc, TSName: r.Name, Pos: r.Pos,
		Params: st(r.ParamsType), Presence: st(r.PresenceType), Member: st(r.MemberType)}
	for _, ev := range server {
		switch {
		case ev.Name == r.StateEvent && r.StateEvent != "":
			m.State, ev.Room = ev, m
		case ev.Name == r.DiffEvent && r.DiffEvent != "":
			m.Diff, ev.Room = ev, m
		}
	}
	for i, ev := range s.Server {
		if ev.Room != "" {
			continue
		}
		all, others := s.RoomTargets(ev)
		if slices.Contains(all, r) {
			m.Events = append(m.Events, server[i])
		}
		if slices.Contains(others, r) {
			m.OthersEvents = append(m.OthersEvents, server[i])
		}
	}
	return m
}
