package model

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/karl-app/karl/schema"
)

// namer names every identifier of the generated Go package and TypeScript modules.
type namer struct {
	m    *Schema
	errs *schema.ErrorList
	goNS *Namespace // the Go package
	tsNS *Namespace // the TypeScript modules, which index.ts re-exports as one
}

// name claims the names the user sees, then names the helpers, in schema order.
func name(m *Schema, errs *schema.ErrorList) {
	n := &namer{m: m, errs: errs, goNS: newNamespace("Go", "package", errs), tsNS: newNamespace("TypeScript", "module", errs)}
	n.goNS.reserve("the Go keyword %s", goKeywords...)
	n.goNS.reserve("Go's predeclared %s", goPredeclared...)
	n.goNS.reserve("%s of the generated Go package", GoPackageNames...)
	n.goNS.reserve("the local variable %s of generated functions", goLocals...)
	n.tsNS.reserve("the JavaScript reserved word %s", jsReserved...)
	n.tsNS.reserve("%s of the generated TypeScript, or a global it uses", TSModuleNames...)
	n.tsNS.reserve("the local variable %s of generated functions", tsLocals...)

	n.types()
	n.enumConstants()
	n.errorCodes()
	n.fields()
	n.events()
	n.helpers()
}

// types claims the Go and TypeScript names of every declared or synthesized type.
func (n *namer) types() {
	// The auth struct first: it exists even when the schema has no auth section
	// (and so no position), and a type named Auth is then the one to rename.
	structs := append([]*Struct{n.m.Auth}, slices.DeleteFunc(n.m.TypedStructs(), func(st *Struct) bool { return st == n.m.Auth })...)
	for _, st := range structs {
		o := Origin{What: st.origin, Pos: st.Pos}
		if n.goNS.Claim(st.GoName, o) { // one report when both languages clash
			n.tsNS.Claim(st.TSName, o)
		}
	}
	for _, sc := range n.m.Scalars {
		o := Origin{What: fmt.Sprintf("type %q", sc.Name), Pos: sc.Pos}
		if sc.Type.GoEnum == nil || sc.Type.GoEnum.Named != sc || n.goNS.Claim(sc.GoName, o) {
			n.tsNS.Claim(sc.TSName, o)
		}
	}
	for _, e := range n.m.Enums {
		if e.Named == nil { // declared enums were claimed with their type
			n.goNS.Claim(e.GoName, Origin{What: "the enum type of " + e.origin, Pos: e.Pos})
		}
	}
}

// enumConstants names the constants of every enum: the type's name and the value's,
// made unique when two values read the same ("a" and "A").
func (n *namer) enumConstants() {
	for _, e := range n.m.Enums {
		for _, v := range e.Values {
			v.GoName = n.goNS.Helper(e.GoName+enumValueName(v.Value), Origin{What: fmt.Sprintf("the constant of value %q of %s", v.Value, e.GoName), Pos: e.Pos})
		}
	}
}

// errorCodes claims the Code constant and the Err variable of every declared code.
func (n *namer) errorCodes() {
	for _, e := range n.m.Errors {
		o := Origin{What: fmt.Sprintf("error code %q", e.Code), Pos: e.Pos}
		e.GoName, e.GoErr = "Code"+GoName(e.Code), "Err"+GoName(e.Code)
		n.goNS.Claim(e.GoName, o)
		n.goNS.Claim(e.GoErr, o)
	}
}

// fields claims the Go field names of every struct against each other and the
// generated methods, and refuses property names JavaScript gives a meaning.
func (n *namer) fields() {
	for _, st := range n.m.TypedStructs() {
		ns := newNamespace("Go", "fields of "+st.GoName, n.errs)
		ns.reserve("the generated method %s", GoStructMethods...)
		for _, f := range st.Fields {
			ns.Claim(f.GoName, Origin{What: fmt.Sprintf("field %q of %s", f.Name, st.origin), Pos: f.Pos})
			if slices.Contains(jsObjectMembers, f.Name) {
				*n.errs = append(*n.errs, &schema.Error{Pos: f.Pos, Hint: "rename the field",
					Msg: fmt.Sprintf("field %q of %s: every JavaScript object has a member of that name (Object.prototype), which a payload without the field would seem to have", f.Name, st.origin)})
			}
		}
	}
}

// events claims the methods of the Handler, the emitters and the TypeScript Api.
func (n *namer) events() {
	handler := newNamespace("Go", "Handler methods", n.errs)
	handler.reserve("the Handler method %s", GoHandlerFixed...)
	api := newNamespace("TypeScript", "Api methods", n.errs)
	api.reserve("%s, which Promise resolution calls (an Api with it would be a thenable)", "then")
	for _, ev := range n.m.Client {
		ev.TSMember = ev.TSName
		if slices.Contains(jsReserved, ev.TSName) { // new(...) in an interface is a construct signature
			ev.TSMember = strconv.Quote(ev.TSName)
		}
		o := Origin{What: fmt.Sprintf("event %q", ev.Name), Pos: ev.Pos}
		if handler.Claim(ev.GoName, o) {
			api.Claim(ev.TSName, o)
		}
	}
	testClient := newNamespace("Go", "TestClient methods", n.errs)
	testClient.reserve("the TestClient method %s", GoTestClientFixed...)
	for _, ev := range n.m.Client {
		testClient.reserve("the TestClient method %s, which sends the client event of that name", ev.GoName)
	}
	for _, ev := range n.m.Server {
		ev.GoNext = "Next" + ev.GoName
		testClient.Claim(ev.GoNext, Origin{What: fmt.Sprintf("the TestClient method of event %q", ev.Name), Pos: ev.Pos})
	}
	receivers := map[string]*Namespace{}
	for target, fixed := range map[string][]string{
		schema.ToSocket: GoSocketMethods, schema.ToAll: GoServerMethods, schema.ToRoom: nil, schema.ToOthers: nil,
	} {
		receivers[target] = newNamespace("Go", "emitters to "+target, n.errs)
		receivers[target].reserve("the generated method %s", fixed...)
	}
	for _, ev := range n.m.Server {
		ev.GoEmit = "Emit" + ev.GoName
		o := Origin{What: fmt.Sprintf("event %q", ev.Name), Pos: ev.Pos}
		for _, target := range schema.Targets {
			if ev.Sendable(target) && !receivers[target].Claim(ev.GoEmit, o) {
				break // one report per event
			}
		}
	}
	n.rooms(receivers[schema.ToSocket], receivers[schema.ToAll])
}

// rooms claims, for each room kind, the Socket methods that join, leave and
// address a room, the Server method, the emitter types and their emitters.
func (n *namer) rooms(socket, server *Namespace) {
	for _, r := range n.m.Rooms {
		o := Origin{What: fmt.Sprintf("room kind %q", r.Name), Pos: r.Pos}
		r.GoName = GoName(r.Name)
		r.GoJoin, r.GoLeave, r.GoIn = "Join"+r.GoName, "Leave"+r.GoName, "In"+r.GoName
		r.GoRoom, r.GoOthers = r.GoName+"Room", r.GoName+"Others"
		methods := []string{r.GoName, r.GoJoin, r.GoLeave, r.GoIn}
		if r.Presence != nil {
			r.GoUpdate = "Update" + r.GoName
			methods = append(methods, r.GoUpdate)
		}
		for _, m := range methods {
			socket.Claim(m, o)
		}
		server.Claim(r.GoName, o)
		n.goNS.Claim(r.GoRoom, o)
		if len(r.OthersEvents) > 0 {
			n.goNS.Claim(r.GoOthers, o)
		}
		r.GoKey = n.goNS.Helper(LowerName(r.Name)+"Key", o)
		r.ParamVars = nil
		for _, f := range r.Params.Fields {
			v := LowerName(f.GoName)
			if slices.Contains(goKeywords, v) || slices.Contains(goPredeclared, v) || slices.Contains(roomLocals, v) || slices.Contains(r.ParamVars, v) {
				v += "Param"
			}
			r.ParamVars = append(r.ParamVars, v)
		}
		emitters := newNamespace("Go", "methods of "+r.GoRoom, n.errs)
		emitters.reserve("the generated method %s", GoRoomMethods...)
		for _, ev := range r.Events {
			emitters.Claim(ev.GoEmit, Origin{What: fmt.Sprintf("event %q", ev.Name), Pos: ev.Pos})
		}
		others := newNamespace("Go", "methods of "+r.GoOthers, n.errs)
		for _, ev := range r.OthersEvents {
			others.Claim(ev.GoEmit, Origin{What: fmt.Sprintf("event %q", ev.Name), Pos: ev.Pos})
		}
	}
}

// roomLocals are the receivers and locals of the generated room methods.
var roomLocals = []string{"ctx", "err", "key", "o", "p", "params", "r", "s", "srv", "impl", "runtime", "strconv"}

// helpers names the decoders, readers, check functions and the variables of
// patterns and enums, in schema order.
func (n *namer) helpers() {
	for _, sc := range n.m.Scalars {
		o := Origin{What: fmt.Sprintf("the helpers of type %q", sc.Name), Pos: sc.Pos}
		sc.GoCheck = n.goNS.Helper("check"+sc.GoName, o)
		sc.TSReader = n.tsNS.Helper("read"+sc.TSName, o)
	}
	for _, st := range n.m.TypedStructs() {
		o := Origin{What: "the helpers of " + st.origin, Pos: st.Pos}
		st.GoDecode = n.goNS.Helper("decode"+st.GoName, o)
		st.TSReader = n.tsNS.Helper("read"+st.TSName, o)
	}
	for _, e := range n.m.Enums {
		e.GoValues = n.goNS.Helper("enum"+e.GoName, Origin{What: "the values of " + e.GoName, Pos: e.Pos})
	}
	for _, sc := range n.m.Scalars {
		n.valueHelpers(sc.Type, sc.GoName, Origin{What: fmt.Sprintf("type %q", sc.Name), Pos: sc.Pos}, false)
	}
	for _, st := range n.m.TypedStructs() {
		for _, f := range st.Fields {
			o := Origin{What: fmt.Sprintf("field %q of %s", f.Name, st.origin), Pos: f.Pos}
			if f.Type.Kind == Array {
				f.GoReader = n.goNS.Helper("read"+st.GoName+f.GoName, o)
			}
			n.valueHelpers(f.Type, st.GoName+f.GoName, o, true)
		}
	}
}

// valueHelpers names the helpers of a value's own constraints, and of its items.
// base is the name they derive from; inline says whether a TypeScript reader of its
// own is needed when the value has checks (a declared scalar has its reader already).
func (n *namer) valueHelpers(t *Type, base string, o Origin, inline bool) {
	if t.Named != nil || t.Kind == Object {
		return
	}
	if t.Pattern != "" {
		t.GoPattern = n.goNS.Helper("pattern"+base, o)
		t.TSPattern = n.tsNS.Helper("pattern"+base, o)
	}
	if len(t.Enum) > 0 {
		t.TSEnum = n.tsNS.Helper("enum"+base, o)
	}
	if inline && (t.Kind == Array || t.HasChecks() || t.Normalize != "") {
		t.TSReader = n.tsNS.Helper("read"+base, o)
	}
	if t.Elem != nil {
		n.valueHelpers(t.Elem, base+"Item", o, true)
	}
}

// LoopVars returns the index and item variables of the loop over an array nested
// depth arrays deep (0 for the outermost): i, item; j, item2; k, item3; i4, item4; ...
// None is a name of the package or of the enclosing function.
func LoopVars(depth int) (index, item string) {
	switch depth {
	case 0:
		return "i", "item"
	case 1, 2:
		return string(rune('i' + depth)), fmt.Sprintf("item%d", depth+1)
	}
	return fmt.Sprintf("i%d", depth+1), fmt.Sprintf("item%d", depth+1)
}

// enumValueName turns an enum value into the end of a Go identifier: "dark-blue"
// -> "DarkBlue", "1" -> "1", "é" -> "É"; a value with no letter or digit gives "Value".
func enumValueName(v string) string {
	var words []string
	var w []rune
	for _, r := range v + " " {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			w = append(w, r)
			continue
		}
		if len(w) > 0 {
			words = append(words, string(w))
			w = nil
		}
	}
	if len(words) == 0 {
		return "Value"
	}
	out := GoName(strings.Join(words, "-"))
	if r := []rune(words[0])[0]; !unicode.IsLetter(r) {
		out = strings.TrimPrefix(out, "X") // digits may follow the type's name
	}
	return out
}
