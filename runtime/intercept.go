package runtime

import "context"

// Call is one dispatch as interceptors see it: a client event, or the handshake.
type Call struct {
	// Event is the client event's name, or "connect" for the handshake. When the
	// schema lacks the name the call ends with unknown-event: the name is the
	// client's invention, so never use it as a metric label or store it as is.
	Event     string
	Handshake bool    // the namespace CONNECT, running the service's Connect
	Socket    *Socket // the client's socket
	// Payload is the event's argument as the wire parser decoded it (JSON
	// objects as map[string]any), or the handshake's auth; nil when absent.
	Payload any
	// Meta is the request metadata object a client may send after the payload,
	// e.g. {"traceparent": "00-..."}; for the handshake, the auth object. Nil when absent.
	Meta map[string]any

	argsErr error // the arguments are not a payload and a metadata object
}

// Handler runs a Call. The reply is nil for events without one; the error is
// nil or an *Error whose Code is what the client receives.
type Handler func(ctx context.Context, c *Call) (Message, error)

// Interceptor wraps every dispatch (Options.Interceptors): it may look at the
// call, change ctx (a trace span), refuse the call by returning an *Error
// without calling next (a permission check), and measure what next returns.
// The metrics and tracing packages are interceptors.
type Interceptor func(next Handler) Handler

// chain builds the dispatch once: Options.Interceptors[0] is the outermost.
func (s *Server) chain(ics []Interceptor) Handler {
	h := Handler(s.serveCall)
	for i := len(ics) - 1; i >= 0; i-- {
		h = ics[i](h)
	}
	return h
}

// serveCall is the innermost Handler: the runtime's own dispatch.
func (s *Server) serveCall(ctx context.Context, c *Call) (Message, error) {
	if c.Handshake {
		return nil, s.runConnect(ctx, c.Socket, c.Payload)
	}
	reply, err, declared := c.Socket.handle(ctx, c)
	if err != nil {
		return nil, s.clientError(err, s.shortName(c.Event), c.Socket.ID(), declared)
	}
	return reply, nil
}

// Observer hears of what happens around the dispatch, for metrics
// (Options.Observer). Its methods must be fast and safe for concurrent use.
type Observer interface {
	// Connected is called with +1 when a socket joined its namespace and -1 when it left.
	Connected(delta int)
	// Refused is called when a connection is turned away before Connect runs, with
	// the reason: "host", "origin", "shutting-down", "rate-limited" (new
	// connections per IP) or "connect-rate-limited" (namespace CONNECTs).
	Refused(reason string)
	// Delivered is called after a broadcast of a server event with the number of
	// sockets of this node it was written to (-1: relayed by the adapter, not counted).
	Delivered(event string, sockets int)
}

type noObserver struct{}

func (noObserver) Connected(int)         {}
func (noObserver) Refused(string)        {}
func (noObserver) Delivered(string, int) {}
