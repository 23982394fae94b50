package schema

import "regexp"

// The schema language's keys, in one table: the loader accepts exactly these keys
// (and reports the others with a did-you-mean hint), the checker reads which
// builtin types a constraint applies to, and JSONSchema describes the same
// language to editors. Adding a key here without decoding it in load.go fails
// TestEveryKeyLoads.

// Kind is the kind of value a key takes.
type Kind int

const (
	KindText       Kind = iota // any text
	KindBool                   // true or false
	KindCount                  // a whole number >= 0
	KindNumber                 // any number
	KindTextList               // a list of texts
	KindDeprecated             // true, false, or a text saying what to use instead
	KindName                   // the name of a builtin or a named type
	KindFormat                 // one of Formats
	KindNormalize              // one of Normalizations
	KindOffline                // one of OfflinePolicies
	KindSpec                   // a value description: a type name or a mapping of SpecKeys
	KindFields                 // a mapping of field names to FieldKeys mappings (or type names)
	KindObject                 // a payload or reply: KindFields, or the name of an object type
	KindCodes                  // a list of error codes declared under "errors"
	KindTargets                // a list of Targets
	KindDuration               // a Go duration such as 5s or 500ms
	KindAuth                   // KindFields (short form), or a mapping of AuthKeys (long form)
	KindTypes                  // a mapping of type names to KindSpec
	KindErrors                 // a mapping of error codes to their default message
	KindClient                 // a mapping of event names to ClientEventKeys mappings
	KindServer                 // a mapping of event names to ServerEventKeys mappings
	KindRooms                  // a mapping of room kind names to RoomKeys mappings
)

// Key is one key of a mapping of the schema language.
type Key struct {
	Name string
	Kind Kind
	Doc  string // one line, shown by editors
	// AppliesTo lists the builtin types a constraint applies to; empty for keys
	// that are not constraints (they apply to every type).
	AppliesTo []string
	Required  bool           // the mapping must have it
	Pattern   *regexp.Regexp // a text value must match it (the checker's own expression); nil: any
}

// TopKeys are the keys of a schema file.
var TopKeys = []Key{
	{Name: "schema", Kind: KindText, Required: true, Pattern: reSchemaID, Doc: "The schema's name: lower-case letters, digits and dashes."},
	{Name: "version", Kind: KindText, Required: true, Pattern: reVersion, Doc: "Semantic version MAJOR.MINOR.PATCH; raise the major version for a breaking change (karlgen diff)."},
	{Name: "namespace", Kind: KindText, Pattern: reNamespace, Doc: `The Socket.IO namespace, e.g. "/" (the default) or "/chat".`},
	{Name: "doc", Kind: KindText, Doc: "What the schema is for."},
	{Name: "auth", Kind: KindAuth, Doc: "What the client sends in the handshake: a mapping of fields, or {doc, fields, errors}."},
	{Name: "types", Kind: KindTypes, Doc: "Named types, PascalCase."},
	{Name: "errors", Kind: KindErrors, Doc: "Application error codes, kebab-case, with their default message."},
	{Name: "client", Kind: KindClient, Doc: "Client -> server events."},
	{Name: "server", Kind: KindServer, Doc: "Server -> client events."},
	{Name: "rooms", Kind: KindRooms, Doc: "Room kinds, kebab-case: the parameters that name a room, and who is in it (presence)."},
}

// RoomKeys are the keys of a room kind under "rooms".
var RoomKeys = []Key{
	{Name: "doc", Kind: KindText, Doc: "What a room of this kind is."},
	{Name: "params", Kind: KindFields, Doc: "What names one room: string, integer or boolean fields (a chat room: its name); omitted: one room of the kind."},
	{Name: "presence", Kind: KindFields, Doc: "What each member shows the others; with it, members receive <kind>-presence and <kind>-presence-diff."},
}

// AuthKeys are the keys of auth's long form, chosen when auth has a "fields" key.
var AuthKeys = []Key{
	{Name: "doc", Kind: KindText, Doc: "What the handshake carries and when it is refused."},
	{Name: "fields", Kind: KindFields, Required: true, Doc: "What the client sends (socket.handshake.auth)."},
	{Name: "errors", Kind: KindCodes, Doc: "The declared error codes Connect may refuse the handshake with (connect_error {code, message})."},
}

// ClientEventKeys are the keys of an event under "client".
var ClientEventKeys = []Key{
	{Name: "doc", Kind: KindText, Doc: "What the event means and when it is sent."},
	{Name: "deprecated", Kind: KindDeprecated, Doc: "true, or what to use instead."},
	{Name: "payload", Kind: KindObject, Doc: "Inline fields, or the name of an object type; omitted: no payload."},
	{Name: "reply", Kind: KindObject, Doc: `The ack's data: inline fields, or the name of an object type; omitted: {"ok": true}.`},
	{Name: "errors", Kind: KindCodes, Doc: "The declared error codes this event may fail with."},
	{Name: "timeout", Kind: KindDuration, Doc: "The handler's deadline, e.g. 5s (the default) or 500ms."},
	{Name: "idempotent", Kind: KindBool, Doc: "A repeated idempotency key gets the first answer instead of running the handler again; the client retries with it."},
	{Name: "offline", Kind: KindOffline, Doc: "What the generated client does with a call made while disconnected: queue (default when idempotent), drop or fail (default otherwise)."},
}

// ServerEventKeys are the keys of an event under "server".
var ServerEventKeys = []Key{
	{Name: "doc", Kind: KindText, Doc: "What the event means and when it is sent."},
	{Name: "deprecated", Kind: KindDeprecated, Doc: "true, or what to use instead."},
	{Name: "payload", Kind: KindObject, Doc: "Inline fields, or the name of an object type; omitted: no payload."},
	{Name: "to", Kind: KindTargets, Required: true, Doc: "Where the server may send it: socket, all, room, others (all but the sender), a room kind (its members) or kind.others (its members but the sender)."},
	{Name: "volatile", Kind: KindBool, Doc: "Dropped for a client that cannot take it now (disconnected or backed up), e.g. a typing indicator."},
}

// SpecKeys are the keys of a value description (a type, a field, array items).
var SpecKeys = []Key{
	{Name: "type", Kind: KindName, Doc: "A builtin (string, integer, number, boolean, timestamp, array, object) or a named type."},
	{Name: "doc", Kind: KindText, Doc: "What the value means."},
	{Name: "deprecated", Kind: KindDeprecated, Doc: "true, or what to use instead."},
	{Name: "minLength", Kind: KindCount, AppliesTo: []string{String}, Doc: "Fewest Unicode code points."},
	{Name: "maxLength", Kind: KindCount, AppliesTo: []string{String}, Doc: "Most Unicode code points."},
	{Name: "pattern", Kind: KindText, AppliesTo: []string{String}, Doc: "A regular expression meaning the same in Go's RE2 and JavaScript's u mode."},
	{Name: "enum", Kind: KindTextList, AppliesTo: []string{String}, Doc: "The allowed values."},
	{Name: "format", Kind: KindFormat, AppliesTo: []string{String}, Doc: "A known string format: image-data-url."},
	{Name: "trim", Kind: KindBool, AppliesTo: []string{String}, Doc: "Remove surrounding white space before the checks."},
	{Name: "normalize", Kind: KindNormalize, AppliesTo: []string{String}, Doc: "Unicode normalization applied (after trim) before the checks: nfc."},
	{Name: "min", Kind: KindNumber, AppliesTo: []string{Integer, Number, Timestamp}, Doc: "Smallest value (Unix ms for timestamps)."},
	{Name: "max", Kind: KindNumber, AppliesTo: []string{Integer, Number, Timestamp}, Doc: "Largest value (Unix ms for timestamps)."},
	{Name: "items", Kind: KindSpec, AppliesTo: []string{Array}, Doc: "The type of the elements (required for an array)."},
	{Name: "minItems", Kind: KindCount, AppliesTo: []string{Array}, Doc: "Fewest elements."},
	{Name: "maxItems", Kind: KindCount, AppliesTo: []string{Array}, Doc: "Most elements."},
	{Name: "fields", Kind: KindFields, AppliesTo: []string{Object}, Doc: "The members of an object."},
}

// FieldKeys are the keys of a field: SpecKeys and "optional", which belongs to
// the field, not to its type.
var FieldKeys = append(append([]Key(nil), SpecKeys...), Key{Name: "optional", Kind: KindBool, Doc: "The field may be absent (a pointer in Go, ? in TypeScript)."})

// keyNames lists the names of keys, for the loader's mapping checks.
func keyNames(keys []Key) []string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.Name
	}
	return names
}

// constraints lists the keys of SpecKeys that are constraints: they apply to some
// builtin types only, and a reference to a named type may not add them.
func constraints() []Key {
	var out []Key
	for _, k := range SpecKeys {
		if len(k.AppliesTo) > 0 {
			out = append(out, k)
		}
	}
	return out
}
