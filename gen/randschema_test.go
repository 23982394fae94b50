package gen_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// The seeded random schema builder of the generative test (generative_test.go).
// It writes schema YAML that covers every construct of the schema language (every
// type and constraint, optional fields, references, nested arrays, inline objects,
// enums with odd values, every target, replies, errors, timeouts, auth) with names
// drawn from lists of hazards: Go and TypeScript keywords, initialisms, look-alikes
// and identifiers the generated code declares itself. Some schemas it writes are
// invalid on purpose (reserved names, runtime codes): karlgen must refuse those
// with positioned errors.
//
// Room kinds (the rooms: section, with string, integer and boolean parameters, with or
// without presence, and server events to "kind" and "kind.others") are drawn from a
// second generator, and written after everything else: the other draws, and so the
// schemas of the seeds without rooms, are those of the builder before rooms existed.

var (
	// PascalCase type names, with the names of generated declarations and globals.
	hazardTypes = []string{
		"User", "UserName", "UserID", "Id", "ID", "Profile", "Item", "Items", "Type", "Value", "Shape",
		"Handler", "Server", "Socket", "Auth", "Register", "Others", "RoomEmitter", "Namespace", "SchemaVersion",
		"String", "Error", "Promise", "Reader", "Api", "Code", "Nothing", "Validate", "JSON", "URL", "HTTPServer",
		"Map", "X", "A1", "Team", "Color", "ErrorCode", "AckError", "Date", "Record", "KarlError", "Empty",
	}
	// Field names: keywords of both languages, initialisms, look-alikes, generated names.
	hazardFields = []string{
		"id", "ID", "userId", "userID", "user_id", "name", "type", "string", "default", "class", "func", "var",
		"then", "constructor", "toString", "validate", "appendJSON", "marshalJSON", "items", "item", "lineItems",
		"x", "_", "__proto__", "len", "err", "v", "b", "m", "url", "URL", "value", "data", "ok", "error", "path",
		"in", "new", "delete", "Number", "interface", "map", "range", "nil", "null", "undefined", "async", "await",
		"enum", "select", "chan", "go", "import", "package", "__typename", "$ref", "size", "createdAt", "at2",
	}
	// Event names: kebab, snake and camel look-alikes, reserved and generated names.
	hazardEvents = []string{
		"register", "validate", "server", "socket", "set-username", "set_username", "setUsername", "then",
		"get", "new", "delete", "to-string", "handler", "others", "emit", "ping", "pong", "x", "a.b", "a:b",
		"user-id", "user-ID", "connect", "Connect", "disconnect-now", "request-error", "join", "leave", "tick",
		"type", "string", "default", "constructor", "namespace", "schema-version", "room-emitter", "auth",
	}
	// Ordinary names, drawn most of the time so that most schemas are valid.
	plainTypes  = []string{"Player", "Lobby", "Score", "Message", "Room", "Level", "Tag", "Point", "Card", "Hand", "Seat", "Clock", "Vote", "Badge"}
	plainFields = []string{"name", "score", "count", "label", "text", "points", "tags", "level", "owner", "seat", "color", "at", "when", "note", "title", "rank"}
	plainEvents = []string{"join-game", "leave-game", "send-move", "get-state", "game-started", "move-made", "player-left", "chat", "ready", "score-changed", "vote", "kick"}
	plainCodes  = []string{"not-your-turn", "game-full", "no-such-room"}

	hazardCodes   = []string{"no-session", "not-found", "too-late", "e1", "x", "internal", "invalid-payload", "then", "default"}
	hazardEnums   = []string{"red", "blue", "dark-blue", "Dark-Blue", "a", "A", "1", "-", "", "a b", "红", `"q"`, `back\slash`, "$x", "then", "__proto__", "null", "true", "x/y", "\u2028"}
	validPatterns = []string{`^[a-z]+$`, `^[\p{L}\p{N} _.\-]+$`, `[0-9]`, `^a/b$`, `^(ab|cd)*$`, `^[A-Z]{2,3}$`, `^\d+$`, "`x`", `^[^/]+$`}
	targets       = []string{"socket", "all", "room", "others"}

	// Room kinds: kebab-case names, and hazards (targets, a name whose declared types
	// clash with the generated TypeScript, invalid names).
	plainKinds  = []string{"table", "match", "game-room", "lobby", "chat", "team-x", "seat2"}
	hazardKinds = []string{"room", "others", "presence", "Bad_Kind", "x"}
	// Parameter names, with the names the presence events take for their lists.
	plainParams  = []string{"game", "table", "seat", "team", "level", "open", "name", "round"}
	hazardParams = []string{"members", "joins", "leaves", "id", "type", "default", "__proto__", "constructor", "room"}
)

// schemaBuilder writes one random schema.
type schemaBuilder struct {
	r     *rand.Rand
	b     strings.Builder
	types []string // declared type names, for references
	objs  []string // those that are objects
	codes []string
	depth int
	rr    *rand.Rand // the draws of room kinds (see the file's doc)
	kinds []string   // the room kinds, drawn before the events that may address them
}

// randomSchema returns the YAML of the random schema of seed.
func randomSchema(seed uint64) string {
	sb := &schemaBuilder{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), rr: rand.New(rand.NewPCG(seed^0x6a09e667f3bcc909, seed))}
	if sb.rr.Float64() < 0.4 {
		n := 1 + sb.rr.IntN(2)
		seen := map[string]bool{}
		for range n {
			k := plainKinds[sb.rr.IntN(len(plainKinds))]
			if sb.rr.Float64() < hazardRate/2 { // a refused kind refuses the whole schema: rarer
				k = hazardKinds[sb.rr.IntN(len(hazardKinds))]
			}
			if !seen[k] {
				seen[k] = true
				sb.kinds = append(sb.kinds, k)
			}
		}
	}
	text := sb.schema(seed)
	sb.r = sb.rr // the rooms come last: drawing them leaves the rest of the schema as it was
	sb.rooms()
	return text + sb.b.String()[len(text):]
}

func (sb *schemaBuilder) pick(list []string) string { return list[sb.r.IntN(len(list))] }

// name draws from hazards with probability hazardRate, else from plain.
func (sb *schemaBuilder) name(plain, hazards []string) string {
	if sb.chance(hazardRate) {
		return sb.pick(hazards)
	}
	return sb.pick(plain)
}

// hazardRate is how often a name is drawn from the hazards.
const hazardRate = 0.12

func (sb *schemaBuilder) chance(p float64) bool { return sb.r.Float64() < p }
func (sb *schemaBuilder) line(indent int, format string, args ...any) {
	sb.b.WriteString(strings.Repeat("  ", indent) + fmt.Sprintf(format, args...) + "\n")
}

// q quotes a string for YAML (double-quoted, JSON escapes).
func q(s string) string { return strconv.Quote(s) }

// distinct draws up to n different names, mostly plain, sometimes hazards.
func (sb *schemaBuilder) distinct(plain, hazards []string, n int) []string {
	seen := map[string]bool{}
	var out []string
	for range n {
		name := sb.name(plain, hazards)
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}

func (sb *schemaBuilder) schema(seed uint64) string {
	sb.line(0, "schema: random%d", seed)
	sb.line(0, "version: %d.%d.%d", sb.r.IntN(3), sb.r.IntN(10), sb.r.IntN(10))
	if sb.chance(0.3) {
		sb.line(0, "namespace: %s", q(sb.pick([]string{"/", "/game", "/a/b", "/chat-v2"})))
	}
	if sb.chance(0.5) {
		sb.line(0, "doc: %s", q("A random schema */ with `odd` \"text\"."))
	}
	sb.codes = sb.distinct(plainCodes, hazardCodes, sb.r.IntN(4))
	switch {
	case len(sb.codes) > 0 && sb.chance(0.3): // the long form, with handshake errors
		sb.line(0, "auth:")
		sb.line(1, "doc: %s", q("Who connects."))
		sb.line(1, "fields:")
		sb.fields(2, 1+sb.r.IntN(3))
		sb.line(1, "errors: [%s]", q(sb.pick(sb.codes)))
	case sb.chance(0.5):
		sb.line(0, "auth:")
		sb.fields(1, 1+sb.r.IntN(3))
	}
	names := sb.distinct(plainTypes, hazardTypes, sb.r.IntN(6))
	if len(names) > 0 {
		sb.line(0, "types:")
		for _, n := range names { // a type refers only to those declared before it: no cycles
			sb.typeDef(n)
			sb.types = append(sb.types, n)
		}
	}
	if len(sb.codes) > 0 {
		sb.line(0, "errors:")
		for _, c := range sb.codes {
			sb.line(1, "%s: %s", q(c), q("Message of "+c+"."))
		}
	}
	events := sb.distinct(plainEvents, hazardEvents, 1+sb.r.IntN(8))
	split := sb.r.IntN(len(events) + 1)
	if split > 0 {
		sb.line(0, "client:")
		for _, e := range events[:split] {
			sb.clientEvent(e)
		}
	}
	if split < len(events) {
		sb.line(0, "server:")
		for _, e := range events[split:] {
			sb.serverEvent(e)
		}
	}
	return sb.b.String()
}

// typeDef writes a named type: an object, or a scalar or array with constraints.
func (sb *schemaBuilder) typeDef(name string) {
	sb.line(1, "%s:", q(name))
	if sb.chance(0.4) {
		sb.objs = append(sb.objs, name)
		if sb.chance(0.5) {
			sb.line(2, "doc: %s", q("The "+name+" object."))
		}
		sb.line(2, "fields:")
		sb.fields(3, 1+sb.r.IntN(4))
		return
	}
	sb.specBody(2, sb.scalarKind(), false)
}

func (sb *schemaBuilder) scalarKind() string {
	return sb.pick([]string{"string", "string", "string", "integer", "number", "boolean", "timestamp", "array"})
}

// fields writes n fields at indent.
func (sb *schemaBuilder) fields(indent, n int) {
	for _, f := range sb.distinct(plainFields, hazardFields, n) {
		sb.field(indent, f)
	}
}

func (sb *schemaBuilder) field(indent int, name string) {
	switch {
	case len(sb.types) > 0 && sb.chance(0.3): // a reference, short or long form
		ref := sb.pick(sb.types)
		if sb.chance(0.5) {
			sb.line(indent, "%s: %s", q(name), q(ref))
			return
		}
		sb.line(indent, "%s:", q(name))
		sb.line(indent+1, "type: %s", q(ref))
		sb.optionalAndDocs(indent + 1)
	default:
		sb.line(indent, "%s:", q(name))
		kind := sb.scalarKind()
		if sb.depth < 2 && sb.chance(0.15) {
			kind = "object"
		}
		sb.specBody(indent+1, kind, true)
	}
}

func (sb *schemaBuilder) optionalAndDocs(indent int) {
	if sb.chance(0.4) {
		sb.line(indent, "optional: true")
	}
	if sb.chance(0.3) {
		sb.line(indent, "doc: %s", q("Doc with */ and \"quotes\"."))
	}
	if sb.chance(0.1) {
		sb.line(indent, "deprecated: %s", q("use something else"))
	}
}

// specBody writes the keys of a value of kind at indent; inField adds optional/docs.
func (sb *schemaBuilder) specBody(indent int, kind string, inField bool) {
	sb.line(indent, "type: %s", kind)
	if inField {
		sb.optionalAndDocs(indent)
	}
	switch kind {
	case "string":
		if sb.chance(0.3) {
			sb.line(indent, "minLength: %d", sb.r.IntN(3))
		}
		if sb.chance(0.3) {
			sb.line(indent, "maxLength: %d", 3+sb.r.IntN(100))
		}
		if sb.chance(0.25) {
			sb.line(indent, "pattern: %s", q(sb.pick(validPatterns)))
		}
		if sb.chance(0.2) {
			sb.line(indent, "trim: true")
		}
		switch {
		case sb.chance(0.25):
			vals := sb.distinct(hazardEnums, hazardEnums, 1+sb.r.IntN(5))
			quoted := make([]string, len(vals))
			for i, v := range vals {
				quoted[i] = q(v)
			}
			sb.line(indent, "enum: [%s]", strings.Join(quoted, ", "))
		case sb.chance(0.1):
			sb.line(indent, "format: image-data-url")
		case sb.chance(0.15): // not with enum, which the loader refuses
			sb.line(indent, "normalize: nfc")
		}
	case "integer", "number", "timestamp":
		lo := float64(sb.r.IntN(20) - 10)
		if kind == "number" && sb.chance(0.5) {
			lo += 0.5
		}
		if sb.chance(0.4) {
			sb.line(indent, "min: %v", lo)
		}
		if sb.chance(0.4) {
			sb.line(indent, "max: %v", lo+float64(sb.r.IntN(1000)))
		}
	case "array":
		if sb.chance(0.3) {
			sb.line(indent, "minItems: %d", sb.r.IntN(2))
		}
		if sb.chance(0.3) {
			sb.line(indent, "maxItems: %d", 2+sb.r.IntN(5))
		}
		sb.depth++
		defer func() { sb.depth-- }()
		switch {
		case len(sb.types) > 0 && sb.chance(0.3):
			sb.line(indent, "items: %s", q(sb.pick(sb.types)))
		case sb.depth < 4 && sb.chance(0.3):
			sb.line(indent, "items:")
			sb.specBody(indent+1, "array", false)
		case sb.depth < 3 && sb.chance(0.2):
			sb.line(indent, "items:")
			sb.specBody(indent+1, "object", false)
		default:
			sb.line(indent, "items:")
			sb.specBody(indent+1, sb.pick([]string{"string", "integer", "number", "boolean", "timestamp"}), false)
		}
	case "object":
		sb.depth++
		defer func() { sb.depth-- }()
		sb.line(indent, "fields:")
		sb.fields(indent+1, 1+sb.r.IntN(3))
	}
}

// payload writes an event's payload or reply: inline fields, a named object, or {}.
func (sb *schemaBuilder) payload(key string) {
	switch {
	case len(sb.objs) > 0 && sb.chance(0.3):
		sb.line(2, "%s: %s", key, q(sb.pick(sb.objs)))
	case sb.chance(0.15):
		sb.line(2, "%s: {}", key)
	default:
		sb.line(2, "%s:", key)
		sb.fields(3, 1+sb.r.IntN(4))
	}
}

func (sb *schemaBuilder) eventDocs() {
	if sb.chance(0.6) {
		sb.line(2, "doc: %s", q("Event doc */ with `ticks`."))
	}
	if sb.chance(0.1) {
		sb.line(2, "deprecated: true")
	}
}

func (sb *schemaBuilder) clientEvent(name string) {
	sb.line(1, "%s:", q(name))
	sb.eventDocs()
	if sb.chance(0.7) {
		sb.payload("payload")
	}
	if sb.chance(0.4) {
		sb.payload("reply")
	}
	if len(sb.codes) > 0 && sb.chance(0.5) {
		sb.line(2, "errors: [%s]", q(sb.pick(sb.codes)))
	}
	if sb.chance(0.3) {
		sb.line(2, "timeout: %s", sb.pick([]string{"1s", "250ms", "2m", "1500ms"}))
	}
	if sb.chance(0.3) {
		sb.line(2, "idempotent: true")
	}
	if sb.chance(0.2) { // drop on an event with a reply is refused
		sb.line(2, "offline: %s", sb.pick([]string{"queue", "drop", "fail"}))
	}
}

func (sb *schemaBuilder) serverEvent(name string) {
	sb.line(1, "%s:", q(name))
	sb.eventDocs()
	if sb.chance(0.7) {
		sb.payload("payload")
	}
	to := sb.distinct(targets, targets, 1+sb.r.IntN(4))
	if len(sb.kinds) > 0 && sb.rr.Float64() < 0.6 { // to a kind's members, or to the others
		k := sb.kinds[sb.rr.IntN(len(sb.kinds))]
		if sb.rr.Float64() < 0.4 {
			k += ".others"
		}
		if sb.rr.Float64() < 0.5 {
			to = []string{k}
		} else {
			to = append(to, k)
		}
	}
	sb.line(2, "to: [%s]", strings.Join(to, ", "))
	if sb.chance(0.2) {
		sb.line(2, "volatile: true")
	}
}

// rooms writes the rooms section of the kinds drawn: parameters of string, integer and
// boolean types (inline, or a declared type), presence or not.
func (sb *schemaBuilder) rooms() {
	if len(sb.kinds) == 0 {
		return
	}
	sb.line(0, "rooms:")
	for _, k := range sb.kinds {
		if sb.chance(0.1) { // `lobby:`: no parameters, no presence
			sb.line(1, "%s:", q(k))
			continue
		}
		sb.line(1, "%s:", q(k))
		if sb.chance(0.5) {
			sb.line(2, "doc: %s", q("The "+k+" rooms */ with `ticks`."))
		}
		if params := sb.distinct(plainParams, hazardParams, sb.r.IntN(3)); len(params) > 0 {
			sb.line(2, "params:")
			for _, p := range params {
				sb.param(3, p)
			}
		}
		if sb.chance(0.6) {
			if sb.chance(0.15) {
				sb.line(2, "presence: {}")
			} else {
				sb.line(2, "presence:")
				sb.fields(3, 1+sb.r.IntN(3))
			}
		}
	}
}

// param writes a room parameter: a string, integer or boolean, with constraints, or a
// reference to a declared type.
func (sb *schemaBuilder) param(indent int, name string) {
	if len(sb.types) > 0 && sb.chance(0.05) { // refused unless the type is a string, integer or boolean
		sb.line(indent, "%s: %s", q(name), q(sb.pick(sb.types)))
		return
	}
	sb.line(indent, "%s:", q(name))
	sb.specBody(indent+1, sb.pick([]string{"string", "string", "integer", "boolean"}), false)
	if sb.chance(0.01) {
		sb.line(indent+1, "optional: true") // refused: a parameter names the room
	}
}
