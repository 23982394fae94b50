package ts

import (
	"fmt"
	"strings"

	"github.com/karl-app/karl/gen/model"
	"github.com/karl-app/karl/internal/codes"
	"github.com/karl-app/karl/schema"
)

// genTypes renders types.ts: the schema's constants, types, error codes, the ack
// envelope and the event maps that socket.io-client's Socket is typed with.
func (g *generator) genTypes() string {
	blocks := []string{g.genConstants()}
	for _, sc := range g.m.Scalars {
		blocks = append(blocks, g.genScalar(sc))
	}
	for _, st := range g.m.TypedStructs() {
		blocks = append(blocks, g.genInterface(st))
	}
	blocks = append(blocks, g.genErrorCodes(), g.genEventErrorCodes(), genEnvelopes(), g.genServerEvents(), g.genClientEvents())
	return join(blocks...)
}

// genConstants renders the schema's version, hash and namespace:
//
//	export const SCHEMA_VERSION = "1.0.0";
func (g *generator) genConstants() string {
	m := g.m
	return join(
		doc("", fmt.Sprintf("SCHEMA_VERSION is the version of the %q schema this code was generated from.", m.Name), "")+
			"export const SCHEMA_VERSION = "+str(m.Version)+";",
		doc("", "SCHEMA_HASH is the SHA-256 of the schema file this code was generated from; the server's generated code carries the same.", "")+
			"export const SCHEMA_HASH = "+str(m.Hash)+";",
		doc("", "NAMESPACE is the Socket.IO namespace of the schema.", "")+
			"export const NAMESPACE: string = "+str(m.Namespace)+";",
	)
}

// genScalar renders a named type that is not an object as a type alias:
//
//	/** Username: A display name. */
//	export type Username = string;
func (g *generator) genScalar(sc *model.Scalar) string {
	return doc("", typeDoc(sc.TSName, sc.Name, sc.Doc), "") + "export type " + sc.TSName + " = " + tsType(sc.Type) + ";"
}

// typeDoc is the doc comment of a declared type, starting with its name.
func typeDoc(tsName, schemaName, text string) string {
	switch {
	case text == "":
		return tsName + " is the " + schemaName + " type of the schema."
	case strings.HasPrefix(text, tsName+" "):
		return text
	}
	return tsName + ": " + text
}

// genInterface renders an object type:
//
//	/** Profile: What the server knows of the user behind a socket. */
//	export interface Profile {
//	  username: Username;
//	  profileImage?: ImageDataURL;
//	}
func (g *generator) genInterface(st *model.Struct) string {
	var b strings.Builder
	b.WriteString(doc("", typeDoc(st.TSName, st.Name, st.Doc), ""))
	if len(st.Fields) == 0 {
		b.WriteString("export interface " + st.TSName + " {}")
		return b.String()
	}
	b.WriteString("export interface " + st.TSName + " {\n")
	for _, f := range st.Fields {
		b.WriteString(doc("  ", fieldDoc(f), f.Deprecated))
		opt := ""
		if f.Optional {
			opt = "?"
		}
		b.WriteString("  " + f.Name + opt + ": " + tsType(f.Type) + ";\n")
	}
	b.WriteString("}")
	return b.String()
}

// fieldDoc is a field's doc; timestamps say their unit when the schema does not.
func fieldDoc(f *model.Field) string {
	if f.Type.Kind != model.Timestamp || f.Type.Named != nil || strings.Contains(f.Doc, "Unix") {
		return f.Doc
	}
	if f.Doc == "" {
		return "Unix milliseconds."
	}
	return strings.TrimSuffix(f.Doc, ".") + " (Unix milliseconds)."
}

// genErrorCodes renders the runtime's codes, the schema's and their union.
func (g *generator) genErrorCodes() string {
	declared := "never"
	text := "SchemaErrorCode is an error code the schema declares; it declares none."
	if len(g.m.Errors) > 0 {
		codes := make([]string, len(g.m.Errors))
		lines := []string{"SchemaErrorCode is an error code the schema declares:"}
		for i, e := range g.m.Errors {
			codes[i] = e.Code
			lines = append(lines, fmt.Sprintf("- %s: %s", str(e.Code), e.Message))
		}
		declared = union(codes)
		text = strings.Join(lines, "\n")
	}
	return join(
		doc("", "RuntimeErrorCode is an error code the server's runtime may answer any client event with.", "")+
			"export type RuntimeErrorCode = "+union(runtimeCodes(false))+";",
		doc("", text, "")+"export type SchemaErrorCode = "+declared+";",
		doc("", "ErrorCode is any code the server may answer with.", "")+
			"export type ErrorCode = RuntimeErrorCode | SchemaErrorCode"+idempotentCodes()+";",
		doc("", "ConnectErrorCode is a code a refused handshake may carry in connect_error data: the runtime's and those the schema declares for the handshake.", "")+
			"export type ConnectErrorCode = RuntimeErrorCode"+codeUnion(g.m.AuthErrors)+";",
	)
}

// genEventErrorCodes renders the codes each client event may fail with:
//
//	export interface EventErrorCodes {
//	  "get-profile": RuntimeErrorCode | "no-session";
//	}
//
// runtimeCodes returns the runtime's codes: those every event may get, or with
// idempotentOnly those only idempotent events get.
func runtimeCodes(idempotentOnly bool) []string {
	var out []string
	for _, c := range codes.All {
		if c.IdempotentOnly == idempotentOnly {
			out = append(out, c.Code)
		}
	}
	return out
}

// idempotentCodes renders ` | "idempotency-conflict"`: the codes only idempotent events answer with.
func idempotentCodes() string {
	var b strings.Builder
	for _, c := range runtimeCodes(true) {
		b.WriteString(" | " + str(c))
	}
	return b.String()
}

// codeUnion renders ` | "a" | "b"` for codes, or "" for none.
func codeUnion(codes []*model.ErrorCode) string {
	var b strings.Builder
	for _, e := range codes {
		b.WriteString(" | " + str(e.Code))
	}
	return b.String()
}

func (g *generator) genEventErrorCodes() string {
	var b strings.Builder
	b.WriteString(doc("", "EventErrorCodes maps each client event to the codes it may fail with: the runtime's and those the schema declares for it.", ""))
	b.WriteString("export interface EventErrorCodes {\n")
	for _, ev := range g.m.Client {
		conflict := ""
		if ev.Idempotent { // the runtime's codes for a key reused with another payload
			conflict = idempotentCodes()
		}
		b.WriteString("  " + str(ev.Name) + ": RuntimeErrorCode" + conflict + codeUnion(ev.Errors) + ";\n")
	}
	b.WriteString("}")
	return b.String()
}

// genEnvelopes renders the shapes of the wire contract that do not depend on the schema.
func genEnvelopes() string {
	return `/** AckError is the error of an ack answered with {ok: false}. */
export interface AckError<C extends string = ErrorCode> {
  code: C;
  /** Human text, safe to show to the user. */
  message: string;
  /** The payload field at fault, e.g. "username"; absent when the error is not about one field. */
  path?: string;
}

/**
 * AckResponse is the server's answer to a client event sent with an ack callback:
 * {ok: true} with the reply in data for events that have one, or {ok: false, error}.
 */
export type AckResponse<T = undefined, C extends string = ErrorCode> =
  | ([T] extends [undefined] ? { ok: true; data?: undefined } : { ok: true; data: T })
  | { ok: false; error: AckError<C> };

/**
 * ClientEvent is the type of a client event in ClientToServerEvents: sent with Args,
 * optionally followed by an ack that receives AckResponse<R, C>. The union of argument
 * lists keeps socket.timeout(ms).emit and emitWithAck typed.
 */
export type ClientEvent<Args extends unknown[], R, C extends string> = (
  ...args: Args | [...Args, ack: (response: AckResponse<R, C>) => void]
) => void;

/** RequestError is the payload of "request-error": a client event sent without ack failed. */
export interface RequestError {
  /** The client event that failed. */
  event: string;
  code: ErrorCode;
  /** Human text, safe to show to the user. */
  message: string;
  /** The payload field at fault, e.g. "username"; absent when the error is not about one field. */
  path?: string;
}`
}

// genServerEvents renders the events the client listens to, as socket.io-client types them:
//
//	export interface ServerToClientEvents {
//	  /** The photo was saved. */
//	  "profile-image-saved": () => void;
//	}
func (g *generator) genServerEvents() string {
	var b strings.Builder
	b.WriteString(doc("", "ServerToClientEvents lists the events the server sends, for Socket<ServerToClientEvents, ClientToServerEvents>.", ""))
	b.WriteString("export interface ServerToClientEvents {\n")
	for _, ev := range g.m.Server {
		b.WriteString(doc("  ", ev.Doc, ev.Deprecated))
		var params []string
		if ev.HasPayload() {
			params = []string{"payload: " + ev.Payload.TSName}
		}
		b.WriteString(signature("  ", str(ev.Name)+": ", params, " => void;") + "\n")
	}
	b.WriteString("  /** A client event sent without ack failed. */\n")
	b.WriteString("  " + str(schema.RequestErrorEvent) + ": (error: RequestError) => void;\n")
	b.WriteString("}")
	return b.String()
}

// genClientEvents renders the events the client sends, each with its optional ack:
//
//	export interface ClientToServerEvents {
//	  "get-profile": ClientEvent<[], Profile, EventErrorCodes["get-profile"]>;
//	}
func (g *generator) genClientEvents() string {
	var b strings.Builder
	b.WriteString(doc("", "ClientToServerEvents lists the events the client sends: the payload, if the event has fields, then an optional ack callback.", ""))
	b.WriteString("export interface ClientToServerEvents {\n")
	for _, ev := range g.m.Client {
		b.WriteString(doc("  ", ev.Doc, ev.Deprecated))
		args := "[]"
		if ev.HasPayload() {
			args = "[payload: " + ev.Payload.TSName + "]"
		}
		reply := "undefined"
		if ev.Reply != nil {
			reply = ev.Reply.TSName
		}
		b.WriteString(fmt.Sprintf("  %s: ClientEvent<%s, %s, EventErrorCodes[%s]>;\n", str(ev.Name), args, reply, str(ev.Name)))
	}
	b.WriteString("}")
	return b.String()
}
