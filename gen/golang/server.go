package golang

import (
	"fmt"
	"strings"
	"time"

	"github.com/dave/jennifer/jen"

	"github.com/karl-app/karl/gen/model"
	"github.com/karl-app/karl/schema"
)

// eventDoc renders an event's doc comment lines, starting with prefix.
func eventDoc(prefix string, ev *model.Event) string {
	doc := prefix
	if ev.Doc != "" {
		doc += ": " + ev.Doc
	}
	if ev.Deprecated != "" {
		doc += "\n\nDeprecated: " + ev.Deprecated
	}
	return doc
}

// handlerParams renders the parameters of a client event's handler method.
func handlerParams(ev *model.Event) []jen.Code {
	params := []jen.Code{jen.Id("ctx").Qual(contextPkg, "Context"), jen.Id("s").Op("*").Id("Socket")}
	if ev.TakesPayload() {
		params = append(params, jen.Id("in").Id(ev.Payload.GoName))
	}
	return params
}

func handlerResults(ev *model.Event) jen.Code {
	if ev.Reply != nil {
		return jen.Params(jen.Id(ev.Reply.GoName), jen.Error())
	}
	return jen.Error()
}

// genHandler renders the interface the application implements: one method per client event.
func (g *generator) genHandler() jen.Code {
	methods := []jen.Code{
		jen.Comment("Connect runs for each new connection, before the client is connected, with the"),
		jen.Comment("handshake auth already checked. An error refuses the connection: the client gets"),
		jen.Comment("connect_error with {code, message}. Emits made here reach the client once connected."),
		jen.Comment(connectCodesDoc(g.m.AuthErrors)),
		jen.Id("Connect").Params(jen.Id("ctx").Qual(contextPkg, "Context"), jen.Id("s").Op("*").Id("Socket"), jen.Id("auth").Id(g.m.Auth.GoName)).Error(),
	}
	for _, ev := range g.m.Client {
		methods = append(methods, jen.Line())
		for _, line := range strings.Split(eventDoc(fmt.Sprintf("%s handles %q", ev.GoName, ev.Name), ev), "\n") {
			methods = append(methods, jen.Comment(line))
		}
		if ev.Idempotent {
			methods = append(methods, jen.Comment("It is idempotent: a request retried with the same idempotency key gets the first"),
				jen.Comment("answer (and the events this method emitted to s) without running it again."))
		}
		if len(ev.Errors) > 0 {
			var codes []string
			for _, e := range ev.Errors {
				codes = append(codes, e.GoName)
			}
			methods = append(methods, jen.Comment("It may fail with "+strings.Join(codes, ", ")+"."))
		}
		methods = append(methods, jen.Id(ev.GoName).Params(handlerParams(ev)...).Add(handlerResults(ev)))
	}
	methods = append(methods, jen.Line(),
		jen.Comment("Disconnect runs when the socket is gone; reason is Socket.IO's, e.g. \"transport close\"."),
		jen.Id("Disconnect").Params(jen.Id("s").Op("*").Id("Socket"), jen.Id("reason").String()),
	)
	return jen.Add(
		jen.Comment(fmt.Sprintf("Handler handles the client events of the %q schema. The application implements it;", g.m.Name)).Line(),
		jen.Comment("every payload it receives has passed the schema's checks.").Line(),
		jen.Type().Id("Handler").Interface(methods...).Line(),
	)
}

// genRegister renders Register, which plugs a Handler into the runtime:
//
//	func Register(rt *runtime.Server, h Handler) *Server {
//		srv := &Server{rt: rt}
//		rt.Serve(runtime.Service{ ... Events: map[string]runtime.Event{ ... } })
//		return srv
//	}
func (g *generator) genRegister() jen.Code {
	events := jen.Dict{}
	for _, ev := range g.m.Client {
		events[jen.Lit(ev.Name)] = g.genEventEntry(ev)
	}
	rs := jen.Id("rs").Op("*").Add(rt("Socket"))
	fields := jen.Dict{
		jen.Id("Namespace"): jen.Id("Namespace"),
		jen.Id("Wrap"): jen.Func().Params(rs.Clone()).Any().Block(
			jen.Return(jen.Op("&").Id("Socket").Values(jen.Dict{jen.Id("rt"): jen.Id("rs"), jen.Id("srv"): jen.Id("srv")})),
		),
		jen.Id("Connect"): jen.Func().Params(jen.Id("ctx").Qual(contextPkg, "Context"), rs.Clone(), jen.Id("v").Any()).Error().Block(
			jen.List(jen.Id("auth"), jen.Err()).Op(":=").Id("decode"+g.m.Auth.GoName).Call(jen.Id("v")),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
			jen.Return(jen.Id("h").Dot("Connect").Call(jen.Id("ctx"), jen.Id("socketOf").Call(jen.Id("rs")), jen.Id("auth"))),
		),
		jen.Id("Disconnect"): jen.Func().Params(rs.Clone(), jen.Id("reason").String()).Block(
			jen.Id("h").Dot("Disconnect").Call(jen.Id("socketOf").Call(jen.Id("rs")), jen.Id("reason")),
		),
		jen.Id("Events"): jen.Map(jen.String()).Add(rt("Event")).Values(events),
	}
	if len(g.m.AuthErrors) > 0 {
		fields[jen.Id("ConnectCodes")] = codeList(g.m.AuthErrors)
	}
	if len(g.m.Rooms) > 0 {
		var kinds []jen.Code
		for _, r := range g.m.Rooms {
			kinds = append(kinds, jen.Lit(r.Name))
		}
		fields[jen.Id("Rooms")] = jen.Index().String().Values(kinds...)
	}
	service := rt("Service").Values(fields)
	return jen.Add(
		jen.Comment("Register serves h on rt for the schema's namespace and returns the typed server.").Line(),
		jen.Func().Id("Register").Params(jen.Id("rt").Op("*").Add(rt("Server")), jen.Id("h").Id("Handler")).Op("*").Id("Server").Block(
			jen.Id("srv").Op(":=").Op("&").Id("Server").Values(jen.Dict{jen.Id("rt"): jen.Id("rt")}),
			jen.Id("rt").Dot("Serve").Call(service),
			jen.Return(jen.Id("srv")),
		).Line(),
		jen.Comment("socketOf returns the typed socket the runtime keeps for rs.").Line(),
		jen.Func().Id("socketOf").Params(jen.Id("rs").Op("*").Add(rt("Socket"))).Op("*").Id("Socket").Block(
			jen.Return(jen.Id("rs").Dot("Ext").Call().Assert(jen.Op("*").Id("Socket"))),
		).Line(),
	)
}

// genEventEntry renders the runtime.Event of one client event.
func (g *generator) genEventEntry(ev *model.Event) jen.Code {
	dict := jen.Dict{}
	if ev.Timeout > 0 {
		dict[jen.Id("Timeout")] = durationLit(ev.Timeout)
	}
	if len(ev.Errors) > 0 {
		dict[jen.Id("Codes")] = codeList(ev.Errors)
	}
	if ev.Idempotent {
		dict[jen.Id("Idempotent")] = jen.True()
	}
	args := []jen.Code{jen.Id("ctx"), jen.Id("socketOf").Call(jen.Id("rs"))}
	var body []jen.Code
	if ev.TakesPayload() {
		body = append(body,
			jen.List(jen.Id("in"), jen.Err()).Op(":=").Id("decode"+ev.Payload.GoName).Call(jen.Id("v")),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		)
		args = append(args, jen.Id("in"))
	}
	call := jen.Id("h").Dot(ev.GoName).Call(args...)
	if ev.Reply != nil {
		body = append(body,
			jen.List(jen.Id("out"), jen.Err()).Op(":=").Add(call),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
			jen.Return(jen.Id("out"), jen.Nil()),
		)
	} else {
		body = append(body, jen.Return(jen.Nil(), call))
	}
	vParam := jen.Id("v")
	if !ev.TakesPayload() {
		vParam = jen.Id("_")
	}
	dict[jen.Id("Handle")] = jen.Func().Params(
		jen.Id("ctx").Qual(contextPkg, "Context"), jen.Id("rs").Op("*").Add(rt("Socket")), vParam.Any(),
	).Params(rt("Message"), jen.Error()).Block(body...)
	return jen.Values(dict)
}

// codeList renders []runtime.Code{CodeA, CodeB}.
func codeList(errs []*model.ErrorCode) jen.Code {
	var codes []jen.Code
	for _, e := range errs {
		codes = append(codes, jen.Id(e.GoName))
	}
	return jen.Index().Add(rt("Code")).Values(codes...)
}

func durationLit(d time.Duration) jen.Code {
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{time.Hour, "Hour"}, {time.Minute, "Minute"}, {time.Second, "Second"}, {time.Millisecond, "Millisecond"}} {
		if d%u.unit == 0 {
			return jen.Lit(int(d/u.unit)).Op("*").Qual(timePkg, u.name)
		}
	}
	return jen.Qual(timePkg, "Duration").Call(jen.Lit(int64(d)))
}

// genSocket renders the typed socket and its methods; its emitters are those of
// the "socket" target.
func (g *generator) genSocket() jen.Code {
	s := func() *jen.Statement { return jen.Func().Params(jen.Id("s").Op("*").Id("Socket")) }
	code := []jen.Code{
		jen.Comment("Socket is one client connection. Its Emit methods send the events the schema lets"),
		jen.Comment("the server send to a single socket."),
		jen.Type().Id("Socket").Struct(
			jen.Id("rt").Op("*").Add(rt("Socket")),
			jen.Id("srv").Op("*").Id("Server"),
		),
		jen.Comment("ID returns the Socket.IO id of the socket."),
		s().Id("ID").Params().String().Block(jen.Return(jen.Id("s").Dot("rt").Dot("ID").Call())),
		jen.Comment("RemoteAddr returns the client's address."),
		s().Id("RemoteAddr").Params().String().Block(jen.Return(jen.Id("s").Dot("rt").Dot("RemoteAddr").Call())),
		jen.Comment("Server returns the typed server, for broadcasts."),
		s().Id("Server").Params().Op("*").Id("Server").Block(jen.Return(jen.Id("s").Dot("srv"))),
		jen.Comment("Data returns the value the application attached with SetData."),
		s().Id("Data").Params().Any().Block(jen.Return(jen.Id("s").Dot("rt").Dot("Data").Call())),
		jen.Comment("SetData attaches an application value to the socket."),
		s().Id("SetData").Params(jen.Id("v").Any()).Block(jen.Id("s").Dot("rt").Dot("SetData").Call(jen.Id("v"))),
		jen.Comment("Join adds the socket to rooms."),
		s().Id("Join").Params(jen.Id("rooms").Op("...").String()).Block(jen.Id("s").Dot("rt").Dot("Join").Call(jen.Id("rooms").Op("..."))),
		jen.Comment("Leave removes the socket from a room."),
		s().Id("Leave").Params(jen.Id("room").String()).Block(jen.Id("s").Dot("rt").Dot("Leave").Call(jen.Id("room"))),
		jen.Comment("InRoom reports whether the socket is in room."),
		s().Id("InRoom").Params(jen.Id("room").String()).Bool().Block(jen.Return(jen.Id("s").Dot("rt").Dot("InRoom").Call(jen.Id("room")))),
		jen.Comment("Disconnect closes the connection."),
		s().Id("Disconnect").Params().Block(jen.Id("s").Dot("rt").Dot("Disconnect").Call()),
	}
	if g.anyTarget(schema.ToOthers) {
		code = append(code,
			jen.Comment("Others addresses every other socket of the namespace or, with rooms, the other"),
			jen.Comment("sockets in those rooms (socket.broadcast and socket.to(room) in Socket.IO)."),
			s().Id("Others").Params(jen.Id("rooms").Op("...").String()).Id("Others").Block(
				jen.Return(jen.Id("Others").Values(jen.Dict{jen.Id("rt"): jen.Id("s").Dot("rt"), jen.Id("rooms"): jen.Id("rooms")})),
			),
		)
	}
	return joinLines(code)
}

// genServer renders the typed server; its emitters are those of the "all" target.
func (g *generator) genServer() jen.Code {
	code := []jen.Code{
		jen.Comment("Server sends the events the schema lets the server broadcast."),
		jen.Type().Id("Server").Struct(jen.Id("rt").Op("*").Add(rt("Server"))),
	}
	if g.anyTarget(schema.ToRoom) {
		code = append(code,
			jen.Comment("ToRoom addresses the sockets in any of rooms."),
			jen.Func().Params(jen.Id("srv").Op("*").Id("Server")).Id("ToRoom").Params(jen.Id("rooms").Op("...").String()).Id("RoomEmitter").Block(
				jen.Return(jen.Id("RoomEmitter").Values(jen.Dict{jen.Id("rt"): jen.Id("srv").Dot("rt"), jen.Id("rooms"): jen.Id("rooms")})),
			),
		)
	}
	return joinLines(code)
}

// emitTarget is one receiver of emitters: the target of the schema it serves, its
// type, and how it sends.
type emitTarget struct {
	target   string // e.g. schema.ToRoom
	recv     string // the receiver variable, e.g. "r"
	recvType string // e.g. "RoomEmitter"
	where    string // for doc comments: "to the rooms"
	pointer  bool   // the receiver is a pointer
	always   bool   // the type is declared even when no event has the target
	decl     func(g *generator) jen.Code
	send     func(ev *model.Event, payload jen.Code) jen.Code
}

// valueEmitter declares a small value type that addresses rooms.
func valueEmitter(doc, name string, fields ...jen.Code) func(g *generator) jen.Code {
	return func(*generator) jen.Code {
		return jen.Comment(doc).Line().Type().Id(name).Struct(fields...).Line()
	}
}

// emitTargets lists every receiver of emitters, in the order they are rendered.
var emitTargets = []emitTarget{
	{target: schema.ToSocket, recv: "s", recvType: "Socket", where: "to this socket", pointer: true, always: true,
		decl: (*generator).genSocket,
		send: func(ev *model.Event, payload jen.Code) jen.Code {
			return jen.Id("s").Dot("rt").Dot(volatile(ev, "Emit")).Call(jen.Lit(ev.Name), payload)
		}},
	{target: schema.ToAll, recv: "srv", recvType: "Server", where: "to every socket", pointer: true, always: true,
		decl: (*generator).genServer,
		send: func(ev *model.Event, payload jen.Code) jen.Code {
			return jen.Id("srv").Dot("rt").Dot(volatile(ev, "EmitAll")).Call(jen.Id("Namespace"), jen.Lit(ev.Name), payload)
		}},
	{target: schema.ToRoom, recv: "r", recvType: "RoomEmitter", where: "to the rooms",
		decl: valueEmitter("RoomEmitter sends the events the schema lets the server send to rooms.", "RoomEmitter",
			jen.Id("rt").Op("*").Add(rt("Server")), jen.Id("rooms").Index().String()),
		send: func(ev *model.Event, payload jen.Code) jen.Code {
			return jen.Id("r").Dot("rt").Dot(volatile(ev, "EmitRooms")).Call(jen.Id("Namespace"), jen.Id("r").Dot("rooms"), jen.Lit(ev.Name), payload)
		}},
	{target: schema.ToOthers, recv: "o", recvType: "Others", where: "to every socket but the sender",
		decl: valueEmitter("Others sends the events the schema lets the server send to every socket but the sender.", "Others",
			jen.Id("rt").Op("*").Add(rt("Socket")), jen.Id("rooms").Index().String()),
		send: func(ev *model.Event, payload jen.Code) jen.Code {
			return jen.Id("o").Dot("rt").Dot(volatile(ev, "Broadcast")).Call(jen.Lit(ev.Name), payload, jen.Id("o").Dot("rooms").Op("..."))
		}},
}

// volatile returns the runtime method that sends a server event: method, or its
// Volatile variant for a volatile event.
func volatile(ev *model.Event, method string) string {
	if ev.Volatile {
		return method + "Volatile"
	}
	return method
}

// genTarget renders t's type and the emitters of every server event the schema
// lets the server send to t's target.
func (g *generator) genTarget(t emitTarget) jen.Code {
	if !t.always && !g.anyTarget(t.target) {
		return jen.Null()
	}
	code := []jen.Code{t.decl(g)}
	for _, ev := range g.m.Server {
		if ev.Sendable(t.target) {
			code = append(code, g.genEmitter(ev, t))
		}
	}
	return joinLines(code)
}

// genEmitter renders one typed emitter:
//
//	func (s *Socket) EmitUsernameSaved(p UsernameSaved) error {
//		if err := p.Validate(); err != nil {
//			return runtime.InvalidEmit("username-saved", err)
//		}
//		return s.rt.Emit("username-saved", p)
//	}
func (g *generator) genEmitter(ev *model.Event, t emitTarget) jen.Code {
	doc, params, body, payload := emitterParts(ev, t.where)
	body = append(body, jen.Return(t.send(ev, payload)))
	recvDecl := jen.Id(t.recv).Id(t.recvType)
	if t.pointer {
		recvDecl = jen.Id(t.recv).Op("*").Id(t.recvType)
	}
	return jen.Add(commentLines(doc), jen.Func().Params(recvDecl).Id(ev.GoEmit).Params(params...).Error().Block(body...))
}

// emitterParts returns what every emitter of ev has: its doc, its parameter
// (the payload, if it takes one), the payload's check, and what it sends.
func emitterParts(ev *model.Event, where string) (doc string, params, body []jen.Code, payload jen.Code) {
	doc = eventDoc(fmt.Sprintf("%s sends %q %s", ev.GoEmit, ev.Name, where), ev)
	if ev.Volatile {
		doc += "\n\nThe event is volatile: a client that cannot take it now (not connected, or still writing) misses it."
	}
	payload = rt("Empty")
	if ev.TakesPayload() {
		params = append(params, jen.Id("p").Id(ev.Payload.GoName))
		payload = jen.Id("p")
		body = append(body, ifErr(jen.Id("p").Dot("Validate").Call(), rt("InvalidEmit").Call(jen.Lit(ev.Name), jen.Err())))
	}
	return doc, params, body, payload
}

func (g *generator) anyTarget(target string) bool {
	for _, ev := range g.m.Server {
		if ev.Sendable(target) {
			return true
		}
	}
	return false
}

// joinLines puts each declaration (or comment line) on a line of its own.
func joinLines(code []jen.Code) jen.Code {
	s := jen.Null()
	for _, c := range code {
		s.Add(c).Line()
	}
	return s
}

func commentLines(doc string) jen.Code {
	s := jen.Null()
	for _, line := range strings.Split(doc, "\n") {
		if line == "" {
			s.Comment("").Line()
			continue
		}
		s.Comment(line).Line()
	}
	return s
}

// connectCodesDoc says which codes Connect may refuse a handshake with.
func connectCodesDoc(errs []*model.ErrorCode) string {
	if len(errs) == 0 {
		return "The schema declares no handshake error: a refusal reaches the client as \"internal\"."
	}
	var codes []string
	for _, e := range errs {
		codes = append(codes, e.GoName)
	}
	return "It may refuse with " + strings.Join(codes, ", ") + "; other codes reach the client as \"internal\"."
}
