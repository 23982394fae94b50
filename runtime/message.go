package runtime

import (
	"fmt"

	"github.com/karl-app/karl/runtime/internal/jsontext"
)

// Message is a value generated code can put on the wire: every generated payload
// and reply struct implements it by appending its JSON encoding, without reflection.
type Message interface {
	AppendJSON(b []byte) []byte
}

func appendString(b []byte, s string) []byte { return jsontext.AppendString(b, s) }

// invalid returns an invalid-payload error with a message.
func invalid(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidPayload, Message: fmt.Sprintf(format, args...)}
}
