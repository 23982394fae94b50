// Package schema loads and checks KARL schemas: the YAML files that describe every
// event a Socket.IO application exchanges.
//
// It knows YAML and the schema language; it knows nothing of Go or TypeScript
// output. Load returns either a checked *Schema or an ErrorList whose entries
// carry file:line:col positions, sorted, ready to print.
package schema

import "time"

// Pos is a position in a schema file.
type Pos struct {
	File string
	Line int // 1-based
	Col  int // 1-based
}

// Builtin type names.
const (
	String    = "string"
	Integer   = "integer"
	Number    = "number"
	Boolean   = "boolean"
	Timestamp = "timestamp" // Unix milliseconds on the wire
	Array     = "array"
	Object    = "object"
)

// Builtins lists the builtin type names, in the order the reference documents them.
var Builtins = []string{String, Integer, Number, Boolean, Timestamp, Array, Object}

// Formats lists the string formats the schema language knows.
var Formats = []string{"image-data-url"}

// OfflinePolicies lists what a generated client may do with a call made while
// disconnected: send it once connected, drop it, or fail it at once.
var OfflinePolicies = []string{OfflineQueue, OfflineDrop, OfflineFail}

// The offline policies.
const (
	OfflineQueue = "queue"
	OfflineDrop  = "drop"
	OfflineFail  = "fail"
)

// Normalizations lists the Unicode normalization forms "normalize" takes: NFC, as
// RFC 8265 (PRECIS) prescribes for usernames and the like.
var Normalizations = []string{"nfc"}

// Targets lists where a server event may be sent.
const (
	ToSocket = "socket" // the socket that sent the event being handled (or just connected)
	ToAll    = "all"    // every socket of the namespace (io.emit)
	ToRoom   = "room"   // the sockets in one or more rooms (io.to(room).emit)
	ToOthers = "others" // every socket but the sender, optionally within rooms (socket.broadcast / socket.to(room))
)

// Targets lists every valid target, in documentation order. A server event may
// also be sent to a room kind declared under "rooms": "chat" (every member of one
// chat room) or "chat.others" (the members but the socket handling the event).
var Targets = []string{ToSocket, ToAll, ToRoom, ToOthers}

// OthersSuffix makes a room-kind target address the members but the sender.
const OthersSuffix = ".others"

// Reserved lists the event names Socket.IO keeps for itself.
var Reserved = []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}

// Schema is a loaded, checked schema file.
type Schema struct {
	File      string
	Hash      string // "sha256:<hex>" of the file's bytes
	Name      string // e.g. "karl"
	Version   string // semantic version, e.g. "1.0.0"
	Namespace string // Socket.IO namespace, e.g. "/"
	Doc       string
	Types     []*TypeDef // in file order
	Errors    []*ErrorDef
	Client    []*Event // client -> server, in file order
	Server    []*Event // server -> client, in file order, then the presence events of Rooms
	Rooms     []*Room  // room kinds, in file order
	Pos       Pos
	KeyPos    map[string]Pos // position of each top-level value, e.g. "version"

	// The handshake. auth is written as a mapping of fields (short form) or as
	// {doc, fields, errors} (long form, chosen when the mapping has a "fields" key).
	Auth    []*Field // what the client sends in the handshake (socket.handshake.auth); may be empty
	AuthPos Pos      // the value of "auth"
	AuthDoc string   // long form only, e.g. "Send the token from username-saved."
	// AuthErrors lists the declared error codes Connect may refuse a handshake with
	// (long form only), in file order, each positioned at the code in the list.
	// The client receives one as connect_error data {code, message}.
	AuthErrors []ErrorRef
	AuthKeyPos map[string]Pos // position of each key of the long form: "doc", "fields", "errors"
}

// TypeDef is a named type declared under "types", or one the loader declares
// for a room kind (Room is then the kind's name).
type TypeDef struct {
	Name string // e.g. "Username"
	Spec *Spec
	Pos  Pos
	Room string // the room kind that declares it, e.g. "chat"; "" for types of the file
}

// Room is a room kind declared under "rooms": its rooms are named by parameters
// (a chat room by its name), carry the server events whose "to" names the kind,
// and, with presence, tell their members who else is there.
//
// The loader declares, for each kind (Go-style names from the kind, "chat" -> "Chat"):
// the type ChatParams (the parameters), and with presence the types ChatPresence
// (what a member shows), ChatMember (its id and presence), ChatPresenceState and
// ChatPresenceDiff, and the server events chat-presence (the members, to a socket
// that joins) and chat-presence-diff (joins and leaves, to the other members).
type Room struct {
	Name        string // kebab-case, e.g. "chat"
	Doc         string
	Params      []*Field // what names one room; scalars, required
	Presence    []*Field // what each member shows; nil without presence
	HasPresence bool
	Pos         Pos
	KeyPos      map[string]Pos

	ParamsType   string // e.g. "ChatParams"
	PresenceType string // e.g. "ChatPresence"; "" without presence
	MemberType   string // e.g. "ChatMember"
	StateType    string // e.g. "ChatPresenceState"
	DiffType     string // e.g. "ChatPresenceDiff"
	StateEvent   string // e.g. "chat-presence"
	DiffEvent    string // e.g. "chat-presence-diff"
}

// Presence field names the loader gives the presence events besides the
// kind's parameters (self: in the state, the receiving socket's member id),
// and the member's own id.
const (
	PresenceMembers = "members"
	PresenceJoins   = "joins"
	PresenceLeaves  = "leaves"
	PresenceSelf    = "self"
	MemberID        = "id"
)

// Spec describes a value: a builtin with its constraints, a reference to a named
// type, an array or an inline object.
type Spec struct {
	Type       string // a builtin name or a named type; "object" for inline fields
	Doc        string
	Deprecated string // non-empty when deprecated; the text says what to use instead

	// string
	MinLength *int
	MaxLength *int
	Pattern   string
	Enum      []string
	Format    string
	Trim      bool
	Normalize string // a Unicode normalization form of Normalizations, applied after trim
	// integer, number, timestamp
	Min *float64
	Max *float64
	// array
	Items    *Spec
	MinItems *int
	MaxItems *int
	// object
	Fields []*Field

	Pos       Pos
	KeyPos    map[string]Pos // position of each key written in the mapping form
	Shorthand bool           // written as a bare type name ("Username")
}

// Field is one member of an object, a payload or the handshake auth.
type Field struct {
	Name     string // wire name, e.g. "profileImage"
	Optional bool
	Spec     *Spec
	Pos      Pos
}

// ErrorDef is an application error code declared under "errors".
type ErrorDef struct {
	Code    string // kebab-case, e.g. "no-session"
	Message string // default human text
	Pos     Pos
}

// Direction says who sends an event.
type Direction string

const (
	ClientToServer Direction = "client" // declared under "client"
	ServerToClient Direction = "server" // declared under "server"
)

// Event is one named Socket.IO event.
type Event struct {
	Name       string // e.g. "set-username"
	Dir        Direction
	Doc        string
	Deprecated string
	Payload    *Spec // an object (inline fields or a named object type); never nil
	Reply      *Spec // client events only; nil without an ack reply
	Errors     []ErrorRef
	To         []string      // server events only
	Timeout    time.Duration // client events: how long the handler may run (0: the runtime default)
	Idempotent bool          // client events: a repeated idempotency key gets the recorded answer
	Offline    string        // client events: one of OfflinePolicies; "" is the default for the event
	Volatile   bool          // server events: dropped for a client that cannot take it now
	Room       string        // a presence event the loader declares for this room kind; "" otherwise
	Pos        Pos
	KeyPos     map[string]Pos
}

// ErrorRef names a declared error code from an event or the handshake auth.
type ErrorRef struct {
	Code string
	Pos  Pos
}
