package review

// Rule is a kind of change Diff reports.
type Rule struct {
	Name string // as in Finding.Rule and testdata/diff/<name>
	Doc  string // when it breaks whom
}

// Rules lists every kind of change, in the order the README documents them.
// On input (client events, auth) a server built from NEW reads what old clients
// send; on output (server events, replies) old clients read what the new server
// sends. A change that narrows what the reader accepts breaks old writers, one
// that widens it breaks old readers.
var Rules = []Rule{
	{"event-added", "safe; old servers answer a new client event with unknown-event until they are deployed"},
	{"event-removed", "breaks old clients: they emit it and get unknown-event, or wait for it in vain"},
	{"event-renamed", "a removed and an added event of one direction with the same payload shape; breaks both"},
	{"direction-changed", "an event moved between client and server; breaks both"},
	{"payload-added", "a client event without fields gets some; old clients may emit it without an argument, which the server refuses"},
	{"payload-removed", "a client event loses all its fields; new clients may emit it without an argument, which old servers refuse"},
	{"reply-added", "new clients expect data in the ack that old servers do not send; old clients ignore it"},
	{"reply-removed", "old clients expect data in the ack that the new server no longer sends"},
	{"to-narrowed", "a server event lost a target; old clients that relied on it there no longer get it"},
	{"to-widened", "safe; a server event reaches clients in more situations"},
	{"to-room-kind", "safe: \"room\" -> a room kind (\"chat\") and \"others\" -> a kind's others (\"chat.others\"), or back, or a kind renamed: for a client a kind's room is a room, the wire is unchanged; only the server's code changes"},
	{"room-event-added", "safe; a server event is sent to a room kind's rooms (\"to: [chat]\") as well"},
	{"room-event-removed", "a server event is no longer sent to a room kind's rooms (or to their others); breaks old clients that expect it there (\"chat.others\" removed while \"chat\" stays is safe)"},
	{"room-added", "safe; old clients see its rooms as rooms and ignore its presence events"},
	{"room-removed", "with presence, breaks old clients that use it (its presence events are no longer sent); without, safe: what its events lose is compared with each event's targets"},
	{"room-param-added", "with presence, a required field of its presence events' payloads (<kind>-presence, <kind>-presence-diff): breaks new clients on old servers, which do not send it; without presence, safe (server code only)"},
	{"room-param-removed", "with presence, breaks old clients, which read it in the presence events' payloads; without presence, safe (server code only)"},
	{"room-param-changed", "a parameter's type or constraints changed on a kind without presence: safe (server code only); with presence they are compared as fields of the presence events' payloads (type-changed, max-length...)"},
	{"presence-added", "safe; old clients ignore the presence events, new clients get none from old servers until they are deployed"},
	{"presence-removed", "breaks old clients that show who is in a room: the presence events are no longer sent"},
	{"error-code-added", "safe; old clients get an unknown code with its message, as with runtime codes"},
	{"error-code-removed", "breaks old clients that handle it: the runtime answers an undeclared code with internal"},
	{"timeout-changed", "safe; the time the server gives the handler"},
	{"idempotent", "added breaks old servers (new clients send request metadata they refuse); removed breaks old clients (their retries run again)"},
	{"offline", "safe; what the generated client does with a call made while disconnected"},
	{"volatile", "added breaks old clients (they may miss the event); removed is safe"},
	{"field-added", "required on input breaks old clients, required on output breaks new clients on old servers; optional is safe"},
	{"field-removed", "required on input breaks old servers, required on output breaks old clients; optional is safe"},
	{"field-required", "optional -> required: on input breaks old clients, on output new clients on old servers"},
	{"field-optional", "required -> optional: on input breaks old servers, on output old clients that read it"},
	{"type-changed", "another wire type; integer -> number widens, number -> integer narrows, timestamp <-> integer is safe"},
	{"type-reference", "safe by itself; a value now refers to another named type (its constraints are compared)"},
	{"min-length", "raised or added narrows, lowered or removed widens"},
	{"max-length", "lowered or added narrows, raised or removed widens"},
	{"pattern", "added narrows, removed widens, changed does both"},
	{"enum", "values removed (or an enum added) narrow, values added (or the enum removed) widen"},
	{"format", "added narrows, removed widens, changed does both"},
	{"trim", "on input: removed narrows, added widens; no effect on output"},
	{"normalize", "safe: it changes which spellings are one value, not which are accepted"},
	{"min", "raised or added narrows, lowered or removed widens"},
	{"max", "lowered or added narrows, raised or removed widens"},
	{"min-items", "raised or added narrows, lowered or removed widens"},
	{"max-items", "lowered or added narrows, raised or removed widens"},
	{"namespace-changed", "breaks both: old and new peers connect to different namespaces"},
	{"deprecated", "safe"},
	{"doc-changed", "safe"},
}
