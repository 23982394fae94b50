package schema

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/karl-app/karl/internal/codes"
)

// RuntimeCodes are the error codes the runtime owns; schemas may not redeclare them.
var RuntimeCodes = codes.Names()

// RequestErrorEvent is the server event the runtime emits when an event without ack fails.
const RequestErrorEvent = "request-error"

var (
	reVersion   = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)
	reTypeName  = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	reFieldName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	reCode      = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	reEventName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.:-]*$`)
	reSchemaID  = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	reNamespace = regexp.MustCompile(`^/`)
)

// check runs the semantic checks on a parsed schema; it reports through l.
func check(l *loader, s *Schema) {
	c := &checker{l: l, s: s, types: map[string]*TypeDef{}, codes: map[string]bool{}}
	c.header()
	for _, t := range s.Types {
		c.types[t.Name] = t
	}
	for _, t := range s.Types {
		c.typeDef(t)
	}
	c.cycles()
	for _, e := range s.Errors {
		c.errorDef(e)
	}
	c.fields(s.Auth, "auth")
	c.errorRefs(s.AuthErrors, "auth")
	seen := map[string]*Event{}
	for _, ev := range slices.Concat(s.Client, s.Server) {
		if prev, dup := seen[ev.Name]; dup {
			c.errorf(ev.Pos, "an event has one direction; give the other one its own name",
				"event %q: already declared under %q at line %d", ev.Name, prev.Dir, prev.Pos.Line)
			continue
		}
		seen[ev.Name] = ev
		c.event(ev)
	}
	c.rooms()
}

// rooms checks the room kinds and what they declare.
func (c *checker) rooms() {
	for _, r := range c.s.Rooms {
		what := fmt.Sprintf("room kind %q", r.Name)
		switch {
		case !reCode.MatchString(r.Name):
			c.errorf(r.Pos, "room kinds are kebab-case, e.g. \"chat\"", "%s: invalid name", what)
		case slices.Contains(Targets, r.Name):
			c.errorf(r.Pos, "socket, all, room and others are targets already; choose another name", "%s: reserved name", what)
		}
		for _, f := range r.Params {
			switch base := c.base(f.Spec.Type); {
			case f.Optional:
				c.errorf(f.Pos, "every parameter names the room; remove optional", "%s: parameter %q: a parameter cannot be optional", what, f.Name)
			case base != "" && base != String && base != Integer && base != Boolean:
				c.errorf(f.Spec.Pos, "a room is named by strings, integers or booleans", "%s: parameter %q: type %q cannot name a room", what, f.Name, f.Spec.Type)
			}
			if r.HasPresence && slices.Contains([]string{PresenceMembers, PresenceJoins, PresenceLeaves, PresenceSelf}, f.Name) {
				c.errorf(f.Pos, "the presence events use this name for their member lists or the receiver's own id; rename the parameter",
					"%s: parameter %q: reserved by presence", what, f.Name)
			}
		}
		for _, f := range r.Presence {
			if f.Name == MemberID {
				c.errorf(f.Pos, "each member has an id already; rename the field", "%s: presence field %q: reserved for the member's id", what, f.Name)
			}
		}
		for _, name := range []string{r.ParamsType, r.PresenceType, r.MemberType, r.StateType, r.DiffType} {
			if t := c.types[name]; name != "" && t != nil && t.Room != r.Name {
				c.errorf(t.Pos, "rename the type", "type %q: room kind %q (line %d) declares a type of that name", name, r.Name, r.Pos.Line)
			}
		}
		for _, ev := range slices.Concat(c.s.Client, c.s.Server) {
			if (ev.Name == r.StateEvent || ev.Name == r.DiffEvent) && ev.Name != "" && ev.Room != r.Name {
				c.errorf(ev.Pos, "rename the event", "event %q: room kind %q (line %d) declares it for its presence", ev.Name, r.Name, r.Pos.Line)
			}
		}
	}
}

// roomTarget returns the room kind a target names ("chat" or "chat.others"), and
// whether it is the others form; nil when it names none.
func (s *Schema) roomTarget(t string) (*Room, bool) {
	name, others := strings.CutSuffix(t, OthersSuffix)
	for _, r := range s.Rooms {
		if r.Name == name {
			return r, others
		}
	}
	return nil, false
}

// RoomTargets returns the room kinds a server event may be sent to, every member
// (all) and the members but the sender (others), in the order of its "to".
func (s *Schema) RoomTargets(ev *Event) (all, others []*Room) {
	for _, t := range ev.To {
		if r, o := s.roomTarget(t); r != nil && o {
			others = append(others, r)
		} else if r != nil {
			all = append(all, r)
		}
	}
	return all, others
}

type checker struct {
	l     *loader
	s     *Schema
	types map[string]*TypeDef
	codes map[string]bool
}

func (c *checker) errorf(p Pos, hint, format string, args ...any) {
	c.l.errorf(p, hint, format, args...)
}

func (c *checker) header() {
	s := c.s
	if s.Name != "" && !reSchemaID.MatchString(s.Name) {
		c.errorf(s.KeyPos["schema"], "use lower-case letters, digits and dashes", "schema: invalid name %q", s.Name)
	}
	if s.Version != "" && !reVersion.MatchString(s.Version) {
		c.errorf(s.KeyPos["version"], "write MAJOR.MINOR.PATCH, e.g. 1.0.0", "version: %q is not a semantic version", s.Version)
	}
	if !reNamespace.MatchString(s.Namespace) {
		c.errorf(s.KeyPos["namespace"], `e.g. "/" or "/chat"`, "namespace: %q must start with \"/\"", s.Namespace)
	}
}

func (c *checker) typeDef(t *TypeDef) {
	if !reTypeName.MatchString(t.Name) {
		c.errorf(t.Pos, "type names are PascalCase, e.g. \"Username\"", "type %q: invalid name", t.Name)
	}
	if slices.Contains(Builtins, t.Name) {
		c.errorf(t.Pos, "", "type %q: the name of a builtin type", t.Name)
	}
	c.spec(t.Spec, fmt.Sprintf("type %q", t.Name), true)
}

func (c *checker) errorDef(e *ErrorDef) {
	what := fmt.Sprintf("error %q", e.Code)
	switch {
	case !reCode.MatchString(e.Code):
		c.errorf(e.Pos, "error codes are kebab-case, e.g. \"no-session\"", "%s: invalid code", what)
	case slices.Contains(RuntimeCodes, e.Code):
		c.errorf(e.Pos, "the runtime already sends it; remove it from errors", "%s: reserved by the runtime", what)
	}
	if strings.TrimSpace(e.Message) == "" {
		c.errorf(e.Pos, "", "%s: needs a message", what)
	}
	c.codes[e.Code] = true
}

func (c *checker) event(ev *Event) {
	what := fmt.Sprintf("event %q", ev.Name)
	switch {
	case slices.Contains(Reserved, ev.Name):
		c.errorf(ev.Pos, "Socket.IO uses this name itself; choose another", "%s: reserved name", what)
	case ev.Name == RequestErrorEvent:
		c.errorf(ev.Pos, "the runtime emits it; choose another name", "%s: reserved name", what)
	case !reEventName.MatchString(ev.Name):
		c.errorf(ev.Pos, "use kebab-case, e.g. \"set-username\"", "%s: invalid name", what)
	}
	c.object(ev.Payload, what+": payload")
	if ev.Reply != nil {
		c.object(ev.Reply, what+": reply")
	}
	c.errorRefs(ev.Errors, what)
	if ev.Dir == ServerToClient {
		c.targets(ev, what)
	}
	if p, ok := ev.KeyPos["offline"]; ok && !slices.Contains(OfflinePolicies, ev.Offline) {
		c.errorf(p, didYouMean(ev.Offline, OfflinePolicies), "%s: offline: unknown policy %q (queue, drop or fail)", what, ev.Offline)
	}
	if ev.Offline == OfflineDrop && ev.Reply != nil {
		c.errorf(ev.KeyPos["offline"], "use queue or fail", "%s: offline: drop: a dropped call has no reply to resolve with", what)
	}
}

// OfflinePolicy returns what a generated client does with a call of a client event
// made while disconnected: the event's own policy, else queue for an idempotent
// event (its retries are safe) and fail for the others.
func (ev *Event) OfflinePolicy() string {
	switch {
	case ev.Offline != "":
		return ev.Offline
	case ev.Idempotent:
		return OfflineQueue
	}
	return OfflineFail
}

// errorRefs checks that every code listed by an event or the auth is declared, once.
func (c *checker) errorRefs(refs []ErrorRef, what string) {
	seen := map[string]bool{}
	for _, r := range refs {
		switch {
		case !c.codes[r.Code]:
			hint := didYouMean(r.Code, c.declaredCodes())
			if hint == "" {
				hint = "declare it under errors"
			}
			c.errorf(r.Pos, hint, "%s: unknown error code %q", what, r.Code)
		case seen[r.Code]:
			c.errorf(r.Pos, "", "%s: error code %q listed twice", what, r.Code)
		}
		seen[r.Code] = true
	}
}

func (c *checker) declaredCodes() []string {
	var codes []string
	for _, e := range c.s.Errors {
		codes = append(codes, e.Code)
	}
	return codes
}

func (c *checker) targets(ev *Event, what string) {
	if len(ev.To) == 0 {
		c.errorf(ev.Pos, "add e.g. \"to: [socket]\"", "%s: missing \"to\" (socket, all, room, others or a room kind)", what)
		return
	}
	known := slices.Clone(Targets)
	for _, r := range c.s.Rooms {
		known = append(known, r.Name, r.Name+OthersSuffix)
	}
	seen := map[string]bool{}
	for _, t := range ev.To {
		p := ev.KeyPos["to"]
		if r, _ := c.s.roomTarget(t); r == nil && !slices.Contains(Targets, t) {
			hint := didYouMean(t, known)
			if hint == "" && strings.HasSuffix(t, OthersSuffix) {
				hint = "declare the room kind under rooms"
			}
			c.errorf(p, hint, "%s: unknown target %q (socket, all, room, others, or a room kind of rooms)", what, t)
		}
		if seen[t] {
			c.errorf(p, "", "%s: target %q listed twice", what, t)
		}
		seen[t] = true
	}
}

// object checks a payload or reply: inline fields, or a reference to an object type.
func (c *checker) object(sp *Spec, what string) {
	if sp.Type == Object {
		c.fields(sp.Fields, what)
		return
	}
	if c.resolve(sp, what) && c.base(sp.Type) != Object {
		c.errorf(sp.Pos, "payloads and replies are objects: list fields, or name a type with fields",
			"%s: type %q is not an object", what, sp.Type)
	}
}

func (c *checker) fields(fields []*Field, what string) {
	for _, f := range fields {
		fwhat := fmt.Sprintf("%s: field %q", what, f.Name)
		if !reFieldName.MatchString(f.Name) {
			c.errorf(f.Pos, "field names are identifiers, e.g. \"profileImage\"", "%s: invalid name", fwhat)
		}
		c.spec(f.Spec, fwhat, false)
	}
}

// resolve reports whether sp.Type names a builtin or a declared type.
func (c *checker) resolve(sp *Spec, what string) bool {
	if slices.Contains(Builtins, sp.Type) || c.types[sp.Type] != nil {
		return true
	}
	names := slices.Clone(Builtins)
	for _, t := range c.s.Types {
		names = append(names, t.Name)
	}
	c.errorf(sp.Pos, didYouMean(sp.Type, names), "%s: unknown type %q", what, sp.Type)
	return false
}

// base follows named types down to a builtin; "" for unknown or cyclic names.
func (c *checker) base(name string) string {
	for range len(c.types) + 1 {
		if slices.Contains(Builtins, name) {
			return name
		}
		t := c.types[name]
		if t == nil {
			return ""
		}
		name = t.Spec.Type
	}
	return ""
}

// spec checks one value description. named is true for the body of a declared type.
func (c *checker) spec(sp *Spec, what string, named bool) {
	if !c.resolve(sp, what) {
		return
	}
	if c.types[sp.Type] != nil && !named {
		// A reference may carry doc and deprecated only: constraints live on the type.
		for _, k := range constraints() {
			if p, ok := sp.KeyPos[k.Name]; ok {
				c.errorf(p, fmt.Sprintf("declare a new type with the constraint, or put it on %q", sp.Type),
					"%s: %q cannot be added to a reference to type %q", what, k.Name, sp.Type)
			}
		}
		return
	}
	kind := c.base(sp.Type)
	c.applicable(sp, what, kind)
	c.ranges(sp, what)
	if sp.Pattern != "" {
		if err := CheckPattern(sp.Pattern); err != nil {
			c.errorf(sp.KeyPos["pattern"], "", "%s: pattern %q: %v", what, sp.Pattern, err)
		}
	}
	if _, ok := sp.KeyPos["enum"]; ok {
		c.enum(sp, what)
	}
	if sp.Format != "" && !slices.Contains(Formats, sp.Format) {
		c.errorf(sp.KeyPos["format"], didYouMean(sp.Format, Formats), "%s: unknown format %q", what, sp.Format)
	}
	if _, ok := sp.KeyPos["normalize"]; ok && !slices.Contains(Normalizations, sp.Normalize) {
		c.errorf(sp.KeyPos["normalize"], "the form is \"nfc\"", "%s: unknown normalization %q", what, sp.Normalize)
	}
	if sp.Normalize != "" && len(sp.Enum) > 0 {
		c.errorf(sp.KeyPos["normalize"], "write the enum values in NFC and drop normalize", "%s: normalize does not apply to an enum: its values are compared exactly", what)
	}
	switch kind {
	case Array:
		if sp.Items == nil {
			c.errorf(sp.Pos, "add e.g. \"items: string\"", "%s: an array needs \"items\"", what)
		} else {
			c.spec(sp.Items, what+": items", false)
		}
	case Object:
		c.fields(sp.Fields, what)
	}
}

// applicable reports constraints written on a type they do not apply to.
func (c *checker) applicable(sp *Spec, what, kind string) {
	for _, k := range constraints() {
		if p, ok := sp.KeyPos[k.Name]; ok && !slices.Contains(k.AppliesTo, kind) {
			c.errorf(p, "", "%s: %q does not apply to type %q", what, k.Name, sp.Type)
		}
	}
}

func (c *checker) ranges(sp *Spec, what string) {
	if sp.MinLength != nil && sp.MaxLength != nil && *sp.MinLength > *sp.MaxLength {
		c.errorf(sp.KeyPos["minLength"], "", "%s: minLength %d is greater than maxLength %d", what, *sp.MinLength, *sp.MaxLength)
	}
	if sp.Min != nil && sp.Max != nil && *sp.Min > *sp.Max {
		c.errorf(sp.KeyPos["min"], "", "%s: min %v is greater than max %v", what, *sp.Min, *sp.Max)
	}
	if sp.MinItems != nil && sp.MaxItems != nil && *sp.MinItems > *sp.MaxItems {
		c.errorf(sp.KeyPos["minItems"], "", "%s: minItems %d is greater than maxItems %d", what, *sp.MinItems, *sp.MaxItems)
	}
}

func (c *checker) enum(sp *Spec, what string) {
	p := sp.KeyPos["enum"]
	if len(sp.Enum) == 0 {
		c.errorf(p, "", "%s: enum needs at least one value", what)
	}
	seen := map[string]bool{}
	for _, v := range sp.Enum {
		if seen[v] {
			c.errorf(p, "", "%s: enum value %q listed twice", what, v)
		}
		seen[v] = true
	}
}

// cycles reports named types that contain themselves.
func (c *checker) cycles() {
	state := map[string]int{} // 0 unvisited, 1 on stack, 2 done
	var visit func(name string, path []string)
	visit = func(name string, path []string) {
		t := c.types[name]
		if t == nil || state[name] == 2 {
			return
		}
		if state[name] == 1 {
			cycle := append(path[slices.Index(path, name):], name)
			c.errorf(t.Pos, "break the cycle with a separate type", "type %q: contains itself (%s)", name, strings.Join(cycle, " -> "))
			return
		}
		state[name] = 1
		for _, ref := range refs(t.Spec) {
			visit(ref, append(path, name))
		}
		state[name] = 2
	}
	for _, t := range c.s.Types {
		visit(t.Name, nil)
	}
}

// refs lists the type names a spec mentions, directly or through items and fields.
func refs(sp *Spec) []string {
	if sp == nil {
		return nil
	}
	out := []string{sp.Type}
	out = append(out, refs(sp.Items)...)
	for _, f := range sp.Fields {
		out = append(out, refs(f.Spec)...)
	}
	return out
}
