// Package roomkey builds the keys of typed rooms, shared by the runtime (which
// keeps free room names out of their key space) and runtime/impl (which
// generated code calls).
package roomkey

import (
	"net/url"
	"strings"
)

// Prefix starts every typed room's key. No socket id contains it, and the
// runtime refuses free room names that start with it, so no socket id, free
// name or other kind reaches a typed room.
const Prefix = "\x00"

// Build returns the key of the room of kind with params: Prefix, the kind, and
// each parameter path-escaped, separated by "/" (which escaping keeps out of the
// parameters), e.g. "\x00chat/lobby".
func Build(kind string, params ...string) string {
	var b strings.Builder
	b.WriteString(Prefix)
	b.WriteString(kind)
	for _, p := range params {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(p))
	}
	return b.String()
}

// Typed reports whether room is the key of a typed room.
func Typed(room string) bool { return strings.HasPrefix(room, Prefix) }
