// Package codes is the one list of the error codes the runtime owns. The
// schema loader refuses schemas that redeclare them, the runtime passes them
// to clients as they are, and the generated docs explain them; all three read
// this list, and runtime's tests check its Code constants against it.
package codes

// Runtime is one code the runtime answers with, whatever the schema declares.
type Runtime struct {
	Code    string // e.g. "invalid-payload"
	Meaning string // one sentence for the docs
	OnEvent bool   // a known client event can fail with it (unknown-event answers names the schema lacks)
	// IdempotentOnly: only events the schema marks idempotent answer with it.
	IdempotentOnly bool
}

// All lists the runtime's codes, in the order the docs show them.
var All = []Runtime{
	{Code: "invalid-payload", Meaning: "The payload failed the schema's checks; path names the field at fault.", OnEvent: true},
	{Code: "unknown-event", Meaning: "The schema has no client event of that name."},
	{Code: "internal", Meaning: "The handler failed, panicked or timed out, or returned a code the event does not declare; details are logged on the server only.", OnEvent: true},
	{Code: "rate-limited", Meaning: "Too many events from this socket; slow down.", OnEvent: true},
	{Code: "idempotency-conflict", Meaning: "An idempotent event's idempotency key was used before for another event or payload.", IdempotentOnly: true},
}

// ForEvent returns the codes a known client event can fail with, idempotent or not.
func ForEvent(idempotent bool) []string {
	var out []string
	for _, c := range All {
		if c.OnEvent || c.IdempotentOnly && idempotent {
			out = append(out, c.Code)
		}
	}
	return out
}

// Names returns the codes of All.
func Names() []string {
	out := make([]string, len(All))
	for i, c := range All {
		out[i] = c.Code
	}
	return out
}

// IsRuntime reports whether code is one of All.
func IsRuntime(code string) bool {
	for _, c := range All {
		if c.Code == code {
			return true
		}
	}
	return false
}
