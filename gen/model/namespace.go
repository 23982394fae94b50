package model

import (
	"fmt"
	"strconv"

	"github.com/karl-app/karl/schema"
)

// Origin says where an identifier comes from, for the message of a clash:
// what declared it, and where in the schema (zero for names of the generated code).
type Origin struct {
	What string     // e.g. `field "userId" of type "Profile"`, or "the generated function Register"
	Pos  schema.Pos // zero for generated names
}

func (o Origin) describe() string {
	if o.Pos.Line == 0 {
		return o.What
	}
	return fmt.Sprintf("%s (line %d)", o.What, o.Pos.Line)
}

// Namespace is one scope of generated identifiers: a Go package, the TypeScript
// module set, or the methods of one type. Every identifier is claimed once, with its
// origin, as protogen does for a Go package.
//
// Names the user sees (types, fields, methods, constants) are claimed with Claim:
// a clash is a positioned error naming both sides. Internal helpers (decoders,
// readers, check functions, pattern and enum variables) are named with Helper,
// which never fails: a taken name gets a numeric suffix, deterministically, because
// helpers are named in schema order.
type Namespace struct {
	lang  string // "Go" or "TypeScript", for messages
	scope string // e.g. "package", "methods of Profile"
	taken map[string]Origin
	errs  *schema.ErrorList
}

func newNamespace(lang, scope string, errs *schema.ErrorList) *Namespace {
	return &Namespace{lang: lang, scope: scope, taken: map[string]Origin{}, errs: errs}
}

// reserve claims names of the generated code or of the language itself; what
// describes each, with %s for the name.
func (ns *Namespace) reserve(what string, names ...string) {
	for _, n := range names {
		if _, ok := ns.taken[n]; !ok {
			ns.taken[n] = Origin{What: fmt.Sprintf(what, n)}
		}
	}
}

// Claim takes name for a declaration the user sees. It reports a clash and returns
// false when the name is taken.
func (ns *Namespace) Claim(name string, o Origin) bool {
	prev, ok := ns.taken[name]
	if !ok {
		ns.taken[name] = o
		return true
	}
	hint := "rename one of them"
	if prev.Pos.Line == 0 {
		hint = "rename it"
	}
	*ns.errs = append(*ns.errs, &schema.Error{Pos: o.Pos, Hint: hint,
		Msg: fmt.Sprintf("%s: its %s name %q clashes with %s", o.What, ns.lang, name, prev.describe())})
	return false
}

// Helper returns base, or base followed by the smallest number from 2 that makes
// it unique, and takes it.
func (ns *Namespace) Helper(base string, o Origin) string {
	name := base
	for i := 2; ; i++ {
		if _, ok := ns.taken[name]; !ok {
			break
		}
		name = base + strconv.Itoa(i)
	}
	ns.taken[name] = o
	return name
}

// Has reports whether name is taken.
func (ns *Namespace) Has(name string) bool {
	_, ok := ns.taken[name]
	return ok
}

// Go's keywords and predeclared identifiers: no package-level helper may take them.
var goKeywords = []string{
	"break", "case", "chan", "const", "continue", "default", "defer", "else", "fallthrough", "for", "func", "go",
	"goto", "if", "import", "interface", "map", "package", "range", "return", "select", "struct", "switch", "type", "var",
}

var goPredeclared = []string{
	"any", "bool", "byte", "comparable", "complex64", "complex128", "error", "float32", "float64", "int", "int8",
	"int16", "int32", "int64", "rune", "string", "uint", "uint8", "uint16", "uint32", "uint64", "uintptr",
	"true", "false", "iota", "nil", "append", "cap", "clear", "close", "complex", "copy", "delete", "imag", "len",
	"make", "max", "min", "new", "panic", "print", "println", "real", "recover",
}

// GoPackageNames are the package-level identifiers the generated Go declares itself
// or imports, whatever the schema.
var GoPackageNames = []string{
	"Handler", "Register", "Server", "Socket", "RoomEmitter", "Others",
	"SchemaVersion", "SchemaHash", "Namespace", "socketOf", "TestServer", "TestClient", "NewTestServer", "NewTestServerFunc",
	"runtime", "context", "time", "regexp", "errors", "karltest", // the imports
}

// goLocals are the local variables and parameters generated functions use; a
// package-level helper of that name would be shadowed in them.
var goLocals = []string{"args", "auth", "b", "c", "ctx", "data", "err", "h", "in", "m", "o", "opts", "out", "p", "r", "reason", "register", "rooms", "rs", "rt", "s", "srv", "start", "ts", "v", "x"}

// Methods of generated types, which fields and emitters must not take.
var (
	GoStructMethods = []string{"Validate", "AppendJSON", "MarshalJSON"}
	GoSocketMethods = []string{"ID", "RemoteAddr", "Server", "Data", "SetData", "Join", "Leave", "InRoom", "Disconnect", "Others"}
	GoServerMethods = []string{"ToRoom"}
	GoRoomMethods   = []string{"Others", "Members", "Key"}
	GoHandlerFixed  = []string{"Connect", "Disconnect"}
	// The TestClient has a method per client event (its Handler method's name) and
	// per server event (Next...); its own is Disconnect, which Handler already keeps
	// from events, so it refuses no schema the Handler accepts.
	GoTestClientFixed = []string{"Disconnect"}
)

// TSModuleNames are the top-level names of the generated TypeScript modules that do
// not come from the schema: the declarations of the generated files and of the
// static files copied next to them (gen/ts checks this list against them), and the
// globals those files use. A schema type with one of these names would shadow or
// clash with them.
var TSModuleNames = []string{
	// types.ts, validate.ts, api.ts
	"SCHEMA_VERSION", "SCHEMA_HASH", "NAMESPACE", "RuntimeErrorCode", "SchemaErrorCode", "ErrorCode", "ConnectErrorCode",
	"EventErrorCodes", "AckError", "AckResponse", "ClientEvent", "RequestError", "ServerToClientEvents",
	"ClientToServerEvents", "ServerEventReaders", "serverEvents", "clientEvents", "Api", "ApiOptions",
	"DEFAULT_TIMEOUT", "createApi",
	// static/*.ts (gen/ts tests that every top-level name of those files is listed)
	"ApiError", "AuthProvider", "ConnectionState", "CreateSocketOptions", "EventReaders", "KarlError", "KarlSocket",
	"LocalErrorCode", "Reader", "SOCKET_DEFAULTS", "SocketEventOptions", "SocketStatus", "UseSocketOptions",
	"UseSocketResult", "ValidationError", "asArray", "asBoolean", "asInteger", "asNumber", "asObject", "asString",
	"asTimestamp", "asTrimmedString", "at", "atIndex", "codePoints", "console", "createSocket", "describe", "fail",
	"fromValidation", "imageDataURL", "imageDataURLShape", "initialStatus", "isKarlError", "leadingSpace", "matches",
	"max", "maxItems", "maxLength", "min", "minItems", "minLength", "oneOf", "plural", "readAnswer", "readNothing",
	"readRequestError", "request", "required", "trailingSpace", "useSocket", "useSocketEvent", "watchStatus",
	// static/react.ts and socket.ts: the provider, the context hooks, the auth option
	"AuthOption", "CreateSocketArgs", "GivenSocket", "KarlContext", "KarlContextValue", "KarlProvider",
	"KarlProviderProps", "connectedStatus", "offline", "openSocket", "useApi", "useKarlContext", "useKarlSocket",
	"useOwnSocket", "useSocketStatus", "useStatusOf",
	// static/testing.ts: the fake socket
	"AnyFakeCall", "CallAnswer", "CallPayload", "CallReply", "ClientEventName", "FakeCall", "FakeListener",
	"FakeListeners", "FakeSocket", "FakeSocketOptions", "FakeTimer", "LooseCall", "Timer", "CallOptions", "newIdempotencyKey", "waitConnected", "send", "clearTimeout", "createFakeSocket", "setTimeout",
	// rooms.ts, static/presence.ts and static/usepresence.ts: the presence of typed rooms
	// (generated for schemas with a room kind with presence; reserved in every schema)
	"PresenceRooms", "PresenceKind", "PresenceParams", "PresenceMember", "rooms", "PresenceMemberLike",
	"PresenceStateEvent", "PresenceDiffEvent", "RoomParamValues", "PresenceList", "createPresenceList", "isRoomEvent",
	"applyPresenceState", "applyPresenceDiff", "mergeDiff", "dedupe", "UsePresenceOptions", "UsePresenceResult",
	"PresenceHeld", "PresenceRoomInfo", "usePresence", "useSocketOf",
	// globals the generated and static files use
	"Array", "ArrayBuffer", "Awaited", "Boolean", "Date", "Error", "Exclude", "Extract", "Function", "JSON", "Map",
	"Math", "NonNullable", "Number", "Object", "Omit", "Parameters", "Partial", "Pick", "Promise", "Readonly",
	"ReadonlyArray", "Record", "Required", "ReturnType", "RegExp", "Set", "String", "Symbol", "Uint8Array",
	"WeakMap", "WeakSet", "globalThis", "undefined", "NaN", "Infinity",
}

// tsLocals are the parameters and locals of generated readers.
var tsLocals = []string{"v", "path", "s", "n", "a", "o", "x", "socket", "options", "timeout", "payload"}

// JavaScript's reserved words, which no generated binding may take.
var jsReserved = []string{
	"break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do", "else", "enum",
	"export", "extends", "false", "finally", "for", "function", "if", "import", "in", "instanceof", "new", "null",
	"return", "super", "switch", "this", "throw", "true", "try", "typeof", "var", "void", "while", "with", "yield",
	"let", "static", "implements", "interface", "package", "private", "protected", "public", "await", "arguments", "eval",
}

// jsObjectMembers are the members of Object.prototype: a field of that name would
// seem present (as a function) on every payload without it, and TypeScript refuses
// object literals for types that declare it with another type.
var jsObjectMembers = []string{
	"__proto__", "__defineGetter__", "__defineSetter__", "__lookupGetter__", "__lookupSetter__", "constructor",
	"hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "toLocaleString", "toString", "valueOf",
}
