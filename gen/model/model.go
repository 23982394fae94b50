// Package model turns a checked schema into what emitters need: resolved types,
// every Go and TypeScript identifier computed once, deterministic order.
//
// Emitters read names from the model; they never build identifiers themselves.
// Build resolves the schema's types first, then names everything in schema order
// through one Namespace per output scope (see names.go): names the user sees are
// claimed, and a clash is a positioned error; internal helpers are made unique.
package model

import (
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
	Source     string // the schema file as given to the generator, e.g. "schema/karl.yaml"
	Name       string // e.g. "karl"
	Version    string // e.g. "1.0.0"
	Hash       string // "sha256:..." of the schema file
	Namespace  string
	Doc        string
	Auth       *Struct      // the handshake auth object; never nil (may have no fields)
	AuthErrors []*ErrorCode // the declared codes Connect may refuse a handshake with
	Structs    []*Struct    // every object type, named and synthesized, in schema order
	Scalars    []*Scalar    // named types that are not objects
	Enums      []*Enum      // every string enum, named and inline, in schema order: a Go type each
	Errors     []*ErrorCode
	Client     []*Event
	Server     []*Event // the schema's server events, then the presence events of Rooms
	Rooms      []*Room
}

// Room is a room kind: its rooms are named by parameters, carry the server events
// whose "to" names the kind, and, with presence, tell members who else is there.
//
// The runtime builds a room's key from the kind and the parameters (see
// runtime/impl.RoomKey), in a key space no socket id or free room name reaches.
type Room struct {
	Name     string // kebab-case, e.g. "chat"
	Doc      string
	GoName   string  // the Socket and Server method that addresses one room, e.g. "Chat"
	GoJoin   string  // the Socket method that joins, e.g. "JoinChat"
	GoLeave  string  // e.g. "LeaveChat"
	GoIn     string  // e.g. "InChat"
	GoUpdate string  // with presence: the Socket method that changes what it shows, e.g. "UpdateChat"
	GoRoom   string  // the emitter type of one room, e.g. "ChatRoom"
	GoOthers string  // the emitter type of its members but the sender, e.g. "ChatOthers"
	GoKey    string  // the helper that checks the parameters and builds the key, e.g. "chatKey"
	TSName   string  // what the TypeScript hooks take, e.g. "chat"
	Params   *Struct // the parameters (ChatParams)
	// ParamVars are the Go parameter names of Params' fields in the generated
	// methods, e.g. "room" (a keyword or local gets "Param": "typeParam").
	ParamVars []string
	// With presence (nil without):
	Presence     *Struct  // what a member shows (ChatPresence)
	Member       *Struct  // its id and presence (ChatMember)
	State        *Event   // chat-presence, to a socket that joins
	Diff         *Event   // chat-presence-diff, to the other members
	Events       []*Event // the server events sent to every member ("to: [chat]")
	OthersEvents []*Event // the server events sent to the members but the sender ("to: [chat.others]")
	Pos          schema.Pos
}

// Struct is an object type.
type Struct struct {
	Name     string // schema name, e.g. "Profile", or the synthesized one, e.g. "SetUsername"
	GoName   string // e.g. "SetUsername"
	TSName   string // e.g. "SetUsername"
	GoDecode string // the Go decoder function, e.g. "decodeSetUsername"
	TSReader string // the TypeScript reader function, e.g. "readSetUsername"
	Doc      string
	Named    bool // declared under types
	Typed    bool // gets a type in generated code (the payload of an event without one does not)
	Fields   []*Field
	Pos      schema.Pos
	origin   string // what declares it, for messages: `type "Profile"`, `the payload of event "x"`
}

// Field is a member of a struct.
type Field struct {
	Name       string // wire name, e.g. "profileImage"; also its TypeScript property name
	GoName     string // e.g. "ProfileImage"
	GoReader   string // arrays: the package variable holding the field's reader, e.g. "readProfileTags"
	Doc        string
	Deprecated string
	Optional   bool
	Type       *Type
	Pos        schema.Pos
}

// Scalar is a named type that is not an object, e.g. Username.
type Scalar struct {
	Name     string // e.g. "Username"
	GoName   string // e.g. "Username": the Go type for enums, the suffix of the check function otherwise
	TSName   string // e.g. "Username"
	GoCheck  string // the Go function that checks its constraints, e.g. "checkUsername"
	TSReader string // the TypeScript reader, e.g. "readUsername"
	Doc      string
	Type     *Type // the resolved type, with its constraints
	Pos      schema.Pos
}

// Type is a resolved value type with every constraint that applies to it.
type Type struct {
	Kind   Kind
	Named  *Scalar // set when the value refers to a named scalar type
	Struct *Struct // Object: the struct
	Elem   *Type   // Array: the element type
	GoEnum *Enum   // String with an enum: its Go type (on every use of a named enum too)

	MinLength, MaxLength *int
	Pattern              string
	Enum                 []string
	Format               string
	Trim                 bool
	Normalize            string // "nfc" or ""
	Min, Max             *float64
	MinItems, MaxItems   *int

	// Helpers of the value's own constraints; empty on references to a named
	// scalar, whose check function or reader does the work.
	GoPattern string // the package variable of the compiled pattern, e.g. "patternUsername"
	TSPattern string // the module constant of the pattern
	TSEnum    string // the module constant of the enum values
	TSReader  string // the reader of an inline value with checks of its own, e.g. "readProfileTags"
}

// HasChecks reports whether values of t need a check beyond their wire kind.
func (t *Type) HasChecks() bool {
	return t.MinLength != nil || t.MaxLength != nil || t.Pattern != "" || len(t.Enum) > 0 || t.Format != "" ||
		t.Min != nil || t.Max != nil || t.MinItems != nil || t.MaxItems != nil ||
		(t.Elem != nil && (t.Elem.HasChecks() || t.Elem.Kind == Object)) || t.Kind == Object
}

// Enum is a string type with a fixed set of values. Go gives it a type of its own
// with a constant per value; TypeScript keeps the union of the values.
type Enum struct {
	GoName   string // e.g. "Team"
	GoValues string // the package variable listing the values, for the check, e.g. "enumTeam"
	Doc      string
	Values   []*EnumValue
	Named    *Scalar // the declared type; nil for an inline enum
	Pos      schema.Pos
	origin   string // the value it is the enum of, for messages
}

// EnumValue is one value of an enum.
type EnumValue struct {
	Value  string // e.g. "red"
	GoName string // the Go constant, e.g. "TeamRed"
}

// ErrorCode is an application error code.
type ErrorCode struct {
	Code    string // e.g. "no-session"
	GoName  string // the Go constant, e.g. "CodeNoSession"
	GoErr   string // the Go error value with the schema's message, e.g. "ErrNoSession"
	Message string
	Pos     schema.Pos
}

// Event is one event with its direction, payload and, for client events, reply and errors.
type Event struct {
	Name       string // wire name, e.g. "set-username"
	GoName     string // the Handler method of a client event, e.g. "SetUsername"
	GoEmit     string // the emitter of a server event, e.g. "EmitUsernameSaved"
	GoNext     string // the TestClient method that waits for a server event, e.g. "NextUsernameSaved"
	TSName     string // the Api method of a client event, e.g. "setUsername"
	TSMember   string // TSName as an interface member: quoted when it is a reserved word, e.g. "\"new\""
	Dir        schema.Direction
	Doc        string
	Deprecated string
	Payload    *Struct // never nil; may have no fields
	Reply      *Struct // nil without a reply
	Errors     []*ErrorCode
	To         []string
	Timeout    time.Duration
	Idempotent bool   // client events: the runtime records each idempotency key's answer
	Offline    string // client events: schema.OfflineQueue, OfflineDrop or OfflineFail, resolved
	Volatile   bool   // server events: dropped for a client that cannot take it now
	Room       *Room  // a presence event of this room kind: the runtime sends it, no emitter
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
	var out []*Struct
	for _, st := range m.Structs {
		if st.Typed {
			out = append(out, st)
		}
	}
	return out
}

// Events returns the client events, then the server events.
func (m *Schema) Events() []*Event { return slices.Concat(m.Client, m.Server) }

// Sendable reports whether a server event may be sent to target.
func (e *Event) Sendable(target string) bool { return slices.Contains(e.To, target) }
