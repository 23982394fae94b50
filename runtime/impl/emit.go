package impl

import "github.com/karl-app/karl/runtime"

// EmitError reports an outgoing payload that does not match the schema. It is a
// server bug, so it deliberately does not unwrap to *Error: a handler returning it
// answers the client with "internal", not with the payload's code.
type EmitError struct {
	Event string
	Err   error
}

func (e *EmitError) Error() string {
	return "emit " + string(AppendString(nil, e.Event)) + ": " + e.Err.Error()
}

// InvalidEmit wraps a Validate error of an outgoing payload.
func InvalidEmit(event string, err error) error { return &EmitError{Event: event, Err: err} }

// Empty is the payload of events without fields: {}.
var Empty runtime.Message = emptyMessage{}

type emptyMessage struct{}

func (emptyMessage) AppendJSON(b []byte) []byte { return append(b, "{}"...) }
