package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// Load reads, parses and checks the schema file at path.
// On failure the error is an ErrorList (or an I/O error).
func Load(path string) (*Schema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	return Parse(path, data)
}

// Parse parses and checks a schema held in memory; file names it in positions.
// It never panics on bad input: every problem becomes an entry of the returned ErrorList.
func Parse(file string, data []byte) (*Schema, error) {
	l := &loader{file: file}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, ErrorList{l.yamlError(err)}
	}
	sum := sha256.Sum256(data)
	s := &Schema{File: file, Hash: "sha256:" + hex.EncodeToString(sum[:])}
	if len(root.Content) == 0 {
		l.errorf(Pos{File: file, Line: 1, Col: 1}, "", "empty schema")
	} else {
		l.document(s, root.Content[0])
	}
	if len(root.Content) > 0 {
		check(l, s) // even after syntax errors, so that every problem is reported at once
	}
	if len(l.errs) > 0 {
		l.errs.sort()
		return nil, l.errs
	}
	return s, nil
}

type loader struct {
	file string
	errs ErrorList
}

func (l *loader) pos(n *yaml.Node) Pos { return Pos{File: l.file, Line: n.Line, Col: n.Column} }

func (l *loader) errorf(p Pos, hint, format string, args ...any) {
	l.errs = append(l.errs, &Error{Pos: p, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

func (l *loader) yamlError(err error) *Error {
	// yaml.v3 reports "yaml: line N: ..."; keep its text, position at that line.
	line := 1
	var n int
	if _, scanErr := fmt.Sscanf(err.Error(), "yaml: line %d:", &n); scanErr == nil {
		line = n
	}
	return &Error{Pos: Pos{File: l.file, Line: line, Col: 1}, Msg: "invalid YAML: " + err.Error()}
}

// entry is one key/value pair of a YAML mapping.
type entry struct {
	key   string
	kpos  Pos
	value *yaml.Node
}

// mapping returns the entries of n in order, reporting unknown and duplicate keys.
// allowed == nil accepts any key (maps of names such as "types").
func (l *loader) mapping(n *yaml.Node, what string, allowed []string) ([]entry, bool) {
	return l.mappingHint(n, what, allowed, "")
}

// mappingHint is mapping with a hint for unknown keys that resemble no allowed one.
func (l *loader) mappingHint(n *yaml.Node, what string, allowed []string, unknownHint string) ([]entry, bool) {
	if n.Kind != yaml.MappingNode {
		l.errorf(l.pos(n), "", "%s: expected a mapping, got %s", what, kindName(n))
		return nil, false
	}
	var out []entry
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			l.errorf(l.pos(k), "", "%s: keys must be plain names", what)
			continue
		}
		if seen[k.Value] {
			l.errorf(l.pos(k), "", "%s: duplicate key %q", what, k.Value)
			continue
		}
		seen[k.Value] = true
		if allowed != nil && !slices.Contains(allowed, k.Value) {
			hint := didYouMean(k.Value, allowed)
			if hint == "" {
				hint = unknownHint
			}
			l.errorf(l.pos(k), hint, "%s: unknown key %q", what, k.Value)
			continue
		}
		out = append(out, entry{key: k.Value, kpos: l.pos(k), value: v})
	}
	return out, true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "something else"
}

func (l *loader) str(n *yaml.Node, what string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		l.errorf(l.pos(n), "", "%s: expected text, got %s", what, kindName(n))
		return ""
	}
	return n.Value
}

func (l *loader) boolean(n *yaml.Node, what string) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		l.errorf(l.pos(n), "write true or false", "%s: expected true or false, got %s", what, kindName(n))
		return false
	}
	return n.Value == "true"
}

func (l *loader) intPtr(n *yaml.Node, what string) *int {
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil || v < 0 {
		l.errorf(l.pos(n), "", "%s: expected a whole number >= 0, got %s", what, kindName(n))
		return nil
	}
	return &v
}

func (l *loader) floatPtr(n *yaml.Node, what string) *float64 {
	v, err := strconv.ParseFloat(n.Value, 64)
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || err != nil {
		l.errorf(l.pos(n), "", "%s: expected a number, got %s", what, kindName(n))
		return nil
	}
	return &v
}

func (l *loader) strList(n *yaml.Node, what string) []string {
	if n.Kind != yaml.SequenceNode {
		l.errorf(l.pos(n), "write a list such as [a, b]", "%s: expected a list, got %s", what, kindName(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		out = append(out, l.str(c, what))
	}
	return out
}

// deprecated accepts `deprecated: true` or `deprecated: "use X instead"`.
func (l *loader) deprecated(n *yaml.Node, what string) string {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		if n.Value == "true" {
			return "deprecated"
		}
		return ""
	}
	return l.str(n, what)
}

func (l *loader) document(s *Schema, n *yaml.Node) {
	s.Pos = l.pos(n)
	s.KeyPos = map[string]Pos{}
	entries, ok := l.mapping(n, "schema", keyNames(TopKeys))
	if !ok {
		return
	}
	for _, e := range entries {
		s.KeyPos[e.key] = l.pos(e.value)
		switch e.key {
		case "schema":
			s.Name = l.str(e.value, "schema")
		case "version":
			s.Version = l.str(e.value, "version")
		case "namespace":
			s.Namespace = l.str(e.value, "namespace")
		case "doc":
			s.Doc = l.str(e.value, "doc")
		case "auth":
			l.auth(s, e.value)
		case "types":
			s.Types = l.typeDefs(e.value)
		case "errors":
			s.Errors = l.errorDefs(e.value)
		case "client":
			s.Client = l.events(e.value, ClientToServer)
		case "server":
			s.Server = l.events(e.value, ServerToClient)
		case "rooms":
			s.Rooms = l.rooms(e.value)
		}
	}
	declareRooms(s)
	for _, k := range TopKeys {
		if k.Required && !hasKey(entries, k.Name) {
			l.errorf(s.Pos, "", "missing %q", k.Name)
		}
	}
	if s.Namespace == "" {
		s.Namespace = "/"
	}
}

// auth reads the handshake: the short form is a mapping of fields; the long form
// `{doc, fields, errors}` is chosen when the mapping has a "fields" key (so a
// field literally named "fields" needs the long form).
func (l *loader) auth(s *Schema, n *yaml.Node) {
	s.AuthPos = l.pos(n)
	s.AuthKeyPos = map[string]Pos{}
	if !isLongAuth(n) {
		l.shortAuthHints(n)
		s.Auth = l.fields(n, "auth")
		return
	}
	entries, _ := l.mappingHint(n, "auth", keyNames(AuthKeys), `auth has a "fields" key, so its fields go under it: auth: {fields: {token: string}}`)
	for _, e := range entries {
		s.AuthKeyPos[e.key] = e.kpos
		switch e.key {
		case "doc":
			s.AuthDoc = l.str(e.value, "auth: doc")
		case "fields":
			if e.value.Kind != yaml.MappingNode {
				l.errorf(l.pos(e.value), `auth has a "fields" key, so it is read in its long form {doc, fields, errors}; a field named "fields" goes inside it: auth: {fields: {fields: string}}`,
					"auth: fields: expected a mapping of fields, got %s", kindName(e.value))
				continue
			}
			s.Auth = l.fields(e.value, "auth")
		case "errors":
			s.AuthErrors = l.errorRefs(e.value, "auth: errors")
		}
	}
}

func isLongAuth(n *yaml.Node) bool {
	if n.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Kind == yaml.ScalarNode && n.Content[i].Value == "fields" {
			return true
		}
	}
	return false
}

// shortAuthHints reports the short-form auth keys that were meant for the long
// form: `errors: [...]` is not a field spec, it lists handshake error codes.
func (l *loader) shortAuthHints(n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "errors" && v.Kind == yaml.SequenceNode {
			l.errorf(l.pos(k), "write auth: {fields: {...}, errors: [...]}; the long form has a \"fields\" key",
				"auth: handshake errors need the long form of auth")
			n.Content = append(n.Content[:i:i], n.Content[i+2:]...) // reported once, not again as a field
			return
		}
	}
}

func hasKey(entries []entry, key string) bool {
	return slices.ContainsFunc(entries, func(e entry) bool { return e.key == key })
}

func (l *loader) typeDefs(n *yaml.Node) []*TypeDef {
	entries, ok := l.mapping(n, "types", nil)
	if !ok {
		return nil
	}
	defs := make([]*TypeDef, 0, len(entries))
	for _, e := range entries {
		what := fmt.Sprintf("type %q", e.key)
		spec := l.spec(e.value, what, false)
		if spec == nil {
			continue
		}
		defs = append(defs, &TypeDef{Name: e.key, Spec: spec, Pos: e.kpos})
	}
	return defs
}

func (l *loader) errorDefs(n *yaml.Node) []*ErrorDef {
	entries, ok := l.mapping(n, "errors", nil)
	if !ok {
		return nil
	}
	defs := make([]*ErrorDef, 0, len(entries))
	for _, e := range entries {
		msg := l.str(e.value, fmt.Sprintf("error %q", e.key))
		defs = append(defs, &ErrorDef{Code: e.key, Message: msg, Pos: e.kpos})
	}
	return defs
}

var eventKeys = map[Direction][]string{
	ClientToServer: keyNames(ClientEventKeys),
	ServerToClient: keyNames(ServerEventKeys),
}

func (l *loader) events(n *yaml.Node, dir Direction) []*Event {
	entries, ok := l.mapping(n, string(dir), nil)
	if !ok {
		return nil
	}
	out := make([]*Event, 0, len(entries))
	for _, e := range entries {
		ev := &Event{Name: e.key, Dir: dir, Pos: e.kpos, KeyPos: map[string]Pos{}}
		what := fmt.Sprintf("event %q", e.key)
		if e.value.Kind == yaml.ScalarNode && e.value.Tag == "!!null" {
			// `token-expired:` with nothing: an event without payload or doc.
			ev.Payload = &Spec{Type: Object, Pos: e.kpos}
			out = append(out, ev)
			continue
		}
		fields, ok := l.mapping(e.value, what, eventKeys[dir])
		if !ok {
			continue
		}
		for _, f := range fields {
			ev.KeyPos[f.key] = f.kpos
			switch f.key {
			case "doc":
				ev.Doc = l.str(f.value, what+": doc")
			case "deprecated":
				ev.Deprecated = l.deprecated(f.value, what+": deprecated")
			case "payload":
				ev.Payload = l.objectSpec(f.value, what+": payload")
			case "reply":
				ev.Reply = l.objectSpec(f.value, what+": reply")
			case "errors":
				ev.Errors = l.errorRefs(f.value, what+": errors")
			case "to":
				ev.To = l.strList(f.value, what+": to")
			case "timeout":
				ev.Timeout = l.duration(f.value, what+": timeout")
			case "idempotent":
				ev.Idempotent = l.boolean(f.value, what+": idempotent")
			case "offline":
				ev.Offline = l.str(f.value, what+": offline")
			case "volatile":
				ev.Volatile = l.boolean(f.value, what+": volatile")
			}
		}
		if ev.Payload == nil {
			ev.Payload = &Spec{Type: Object, Pos: ev.Pos}
		}
		out = append(out, ev)
	}
	return out
}

var roomKeys = keyNames(RoomKeys)

// rooms reads the room kinds; declareRooms then adds what they declare.
func (l *loader) rooms(n *yaml.Node) []*Room {
	entries, ok := l.mapping(n, "rooms", nil)
	if !ok {
		return nil
	}
	out := make([]*Room, 0, len(entries))
	for _, e := range entries {
		r := &Room{Name: e.key, Pos: e.kpos, KeyPos: map[string]Pos{}}
		out = append(out, r)
		if e.value.Kind == yaml.ScalarNode && e.value.Tag == "!!null" {
			continue // `lobby:`: one room of the kind, no presence
		}
		what := fmt.Sprintf("room kind %q", e.key)
		fields, ok := l.mapping(e.value, what, roomKeys)
		if !ok {
			continue
		}
		for _, f := range fields {
			r.KeyPos[f.key] = f.kpos
			switch f.key {
			case "doc":
				r.Doc = l.str(f.value, what+": doc")
			case "params":
				r.Params = l.fields(f.value, what+": params")
			case "presence":
				r.Presence = l.fields(f.value, what+": presence")
				r.HasPresence = true
			}
		}
	}
	return out
}

// declareRooms adds the types and events each room kind declares (see Room),
// unless the file declares one of those names itself: the checker reports that.
func declareRooms(s *Schema) {
	types := map[string]bool{}
	for _, t := range s.Types {
		types[t.Name] = true
	}
	events := map[string]bool{}
	for _, ev := range slices.Concat(s.Client, s.Server) {
		events[ev.Name] = true
	}
	for _, r := range s.Rooms {
		if !reCode.MatchString(r.Name) {
			continue // the checker reports the name; declaring its types would report it again
		}
		base := pascal(r.Name)
		r.ParamsType = base + "Params"
		def := func(name string, fields []*Field, doc string, pos Pos) {
			if !types[name] {
				types[name] = true
				s.Types = append(s.Types, &TypeDef{Name: name, Pos: pos, Room: r.Name,
					Spec: &Spec{Type: Object, Fields: fields, Doc: doc, Pos: pos}})
			}
		}
		def(r.ParamsType, r.Params, fmt.Sprintf("What names one room of kind %q.", r.Name), r.Pos)
		if !r.HasPresence {
			continue
		}
		p := r.KeyPos["presence"]
		r.PresenceType, r.MemberType, r.StateType, r.DiffType = base+"Presence", base+"Member", base+"PresenceState", base+"PresenceDiff"
		r.StateEvent, r.DiffEvent = r.Name+"-presence", r.Name+"-presence-diff"
		ref := func(name string) *Spec { return &Spec{Type: name, Pos: p, Shorthand: true} }
		list := func(name, doc string) *Field {
			return &Field{Name: name, Pos: p, Spec: &Spec{Type: Array, Items: ref(r.MemberType), Doc: doc, Pos: p}}
		}
		def(r.PresenceType, r.Presence, fmt.Sprintf("What a member of a room of kind %q shows the others.", r.Name), p)
		id := &Field{Name: MemberID, Pos: p, Spec: &Spec{Type: String, Pos: p,
			Doc: "The member's id: one per socket and room, the same in every event about this membership."}}
		def(r.MemberType, append([]*Field{id}, r.Presence...), fmt.Sprintf("A member of a room of kind %q.", r.Name), p)
		self := &Field{Name: PresenceSelf, Pos: p, Spec: &Spec{Type: String, Pos: p,
			Doc: "The id of the receiving socket's own entry in members."}}
		def(r.StateType, append(slices.Clone(r.Params), self, list(PresenceMembers, "Every member, the receiver included, in the order they joined.")),
			fmt.Sprintf("Who is in a room of kind %q.", r.Name), p)
		def(r.DiffType, append(slices.Clone(r.Params), list(PresenceJoins, "Members who joined."), list(PresenceLeaves, "Members who left.")),
			fmt.Sprintf("Who joined and who left a room of kind %q.", r.Name), p)
		for _, ev := range []*Event{
			{Name: r.StateEvent, Payload: ref(r.StateType), Doc: fmt.Sprintf("Who is in the %s room the socket joined: sent to it when it joins (and when its connection is recovered).", r.Name)},
			{Name: r.DiffEvent, Payload: ref(r.DiffType), Doc: fmt.Sprintf("Who joined and who left a %s room: sent to its other members. Apply leaves, then joins, by member id.", r.Name)},
		} {
			if events[ev.Name] {
				continue
			}
			ev.Dir, ev.To, ev.Room, ev.Pos, ev.KeyPos = ServerToClient, []string{r.Name}, r.Name, p, map[string]Pos{}
			s.Server = append(s.Server, ev)
		}
	}
}

// pascal turns a kebab-case name into PascalCase: "game-table" -> "GameTable".
func pascal(kebab string) string {
	var b []byte
	up := true
	for i := 0; i < len(kebab); i++ {
		c := kebab[i]
		switch {
		case c == '-':
			up = true
			continue
		case up && c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		up = false
		b = append(b, c)
	}
	return string(b)
}

func (l *loader) errorRefs(n *yaml.Node, what string) []ErrorRef {
	if n.Kind != yaml.SequenceNode {
		l.errorf(l.pos(n), "write a list such as [no-session]", "%s: expected a list, got %s", what, kindName(n))
		return nil
	}
	refs := make([]ErrorRef, 0, len(n.Content))
	for _, c := range n.Content {
		refs = append(refs, ErrorRef{Code: l.str(c, what), Pos: l.pos(c)})
	}
	return refs
}

func (l *loader) duration(n *yaml.Node, what string) time.Duration {
	d, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil || d <= 0 {
		l.errorf(l.pos(n), "write a duration such as 5s or 500ms", "%s: expected a positive duration, got %s", what, kindName(n))
		return 0
	}
	return d
}

// objectSpec reads a payload or reply: a mapping of fields, or the name of an object type.
func (l *loader) objectSpec(n *yaml.Node, what string) *Spec {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return &Spec{Type: n.Value, Pos: l.pos(n), Shorthand: true}
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return &Spec{Type: Object, Pos: l.pos(n)}
	}
	return &Spec{Type: Object, Fields: l.fields(n, what), Pos: l.pos(n)}
}

func (l *loader) fields(n *yaml.Node, what string) []*Field {
	if n.Kind == yaml.MappingNode && len(n.Content) == 0 {
		return nil // {}
	}
	entries, ok := l.mapping(n, what, nil)
	if !ok {
		return nil
	}
	out := make([]*Field, 0, len(entries))
	for _, e := range entries {
		fwhat := fmt.Sprintf("%s: field %q", what, e.key)
		f := &Field{Name: e.key, Pos: e.kpos}
		f.Spec = l.spec(e.value, fwhat, true)
		if f.Spec == nil {
			continue
		}
		if e.value.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(e.value.Content); i += 2 {
				if e.value.Content[i].Value == "optional" {
					f.Optional = l.boolean(e.value.Content[i+1], fwhat+": optional")
				}
			}
		}
		out = append(out, f)
	}
	return out
}

var (
	specKeys  = keyNames(SpecKeys)
	fieldKeys = keyNames(FieldKeys)
)

// spec reads a value description: a bare type name, or a mapping of constraints.
// inField allows the "optional" key, which belongs to the field, not the type.
func (l *loader) spec(n *yaml.Node, what string, inField bool) *Spec {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return &Spec{Type: n.Value, Pos: l.pos(n), Shorthand: true}
	}
	keys := specKeys
	if inField {
		keys = fieldKeys
	}
	entries, ok := l.mapping(n, what, keys)
	if !ok {
		return nil
	}
	s := &Spec{Pos: l.pos(n), KeyPos: map[string]Pos{}}
	for _, e := range entries {
		s.KeyPos[e.key] = e.kpos
		kwhat := what + ": " + e.key
		switch e.key {
		case "type":
			s.Type = l.str(e.value, kwhat)
		case "doc":
			s.Doc = l.str(e.value, kwhat)
		case "deprecated":
			s.Deprecated = l.deprecated(e.value, kwhat)
		case "minLength":
			s.MinLength = l.intPtr(e.value, kwhat)
		case "maxLength":
			s.MaxLength = l.intPtr(e.value, kwhat)
		case "pattern":
			s.Pattern = l.str(e.value, kwhat)
		case "enum":
			s.Enum = l.strList(e.value, kwhat)
		case "format":
			s.Format = l.str(e.value, kwhat)
		case "trim":
			s.Trim = l.boolean(e.value, kwhat)
		case "normalize":
			s.Normalize = l.str(e.value, kwhat)
		case "min":
			s.Min = l.floatPtr(e.value, kwhat)
		case "max":
			s.Max = l.floatPtr(e.value, kwhat)
		case "items":
			s.Items = l.spec(e.value, what+": items", false)
		case "minItems":
			s.MinItems = l.intPtr(e.value, kwhat)
		case "maxItems":
			s.MaxItems = l.intPtr(e.value, kwhat)
		case "fields":
			s.Fields = l.fields(e.value, what)
		}
	}
	if s.Type == "" {
		if _, ok := s.KeyPos["fields"]; ok {
			s.Type = Object
		} else {
			l.errorf(s.Pos, `add "type: string" or another type`, "%s: missing \"type\"", what)
		}
	}
	return s
}
