package golang

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/karl-app/karl/gen/model"
)

const strconvPkg = "strconv"

// genRooms renders, for each room kind, the key helper, the Socket methods that
// join, leave and address a room, the Server method, and the emitter types
// whose methods are the events the kind carries:
//
//	func (s *Socket) JoinChat(ctx context.Context, room string, p ChatPresence) error
//	func (srv *Server) Chat(room string) ChatRoom
//	func (r ChatRoom) EmitNewMessage(p NewMessage) error
//	func (o ChatOthers) EmitUserTyping(p UserTyping) error
func (g *generator) genRooms() jen.Code {
	var code []jen.Code
	for _, r := range g.m.Rooms {
		code = append(code, g.genRoomKey(r), g.genRoomSocket(r), g.genRoomTypes(r))
	}
	return joinLines(code)
}

// paramList renders the room's parameters as Go parameters: room string, ...
func paramList(r *model.Room) []jen.Code {
	var out []jen.Code
	for i, f := range r.Params.Fields {
		out = append(out, jen.Id(r.ParamVars[i]).Add(goType(f.Type)))
	}
	return out
}

func paramArgs(r *model.Room) []jen.Code {
	var out []jen.Code
	for _, v := range r.ParamVars {
		out = append(out, jen.Id(v))
	}
	return out
}

// keyPart renders a parameter as the text of the room key.
func keyPart(f *model.Field, v string) jen.Code {
	switch {
	case f.Type.GoEnum != nil:
		return jen.String().Call(jen.Id(v))
	case f.Type.Kind == model.Integer:
		return jen.Qual(strconvPkg, "FormatInt").Call(jen.Id(v), jen.Lit(10))
	case f.Type.Kind == model.Boolean:
		return jen.Qual(strconvPkg, "FormatBool").Call(jen.Id(v))
	}
	return jen.Id(v)
}

// genRoomKey renders the helper that checks a room's parameters and builds its key.
func (g *generator) genRoomKey(r *model.Room) jen.Code {
	fields := jen.Dict{}
	parts := []jen.Code{jen.Lit(r.Name)}
	for i, f := range r.Params.Fields {
		fields[jen.Id(f.GoName)] = jen.Id(r.ParamVars[i])
		parts = append(parts, keyPart(f, r.ParamVars[i]))
	}
	return jen.Add(
		jen.Comment(fmt.Sprintf("%s checks the parameters of a %q room and returns its key.", r.GoKey, r.Name)).Line(),
		jen.Func().Id(r.GoKey).Params(paramList(r)...).Params(jen.String(), jen.Id(r.Params.GoName), jen.Error()).Block(
			jen.Id("params").Op(":=").Id(r.Params.GoName).Values(fields),
			jen.If(jen.Err().Op(":=").Id("params").Dot("Validate").Call(), jen.Err().Op("!=").Nil()).Block(
				jen.Return(jen.Lit(""), jen.Id("params"), rt("InvalidRoom").Call(jen.Lit(r.Name), jen.Err())),
			),
			jen.Return(rt("RoomKey").Call(parts...), jen.Id("params"), jen.Nil()),
		).Line(),
	)
}

// genRoomSocket renders the Socket and Server methods of a room kind.
func (g *generator) genRoomSocket(r *model.Room) jen.Code {
	s := func() *jen.Statement { return jen.Func().Params(jen.Id("s").Op("*").Id("Socket")) }
	ctx := jen.Id("ctx").Qual(contextPkg, "Context")
	key := func(params string) jen.Code {
		return jen.Id("key").Op(",").Id(params).Op(",").Err().Op(":=").Id(r.GoKey).Call(paramArgs(r)...)
	}
	ifErr := jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err()))
	var join []jen.Code
	joinParams := append([]jen.Code{ctx}, paramList(r)...)
	shows := jen.Nil()
	doc := fmt.Sprintf("%s adds the socket to the %q room of these parameters.", r.GoJoin, r.Name)
	if r.Presence != nil {
		joinParams = append(joinParams, jen.Id("p").Id(r.Presence.GoName))
		shows = jen.Id("p")
		doc += fmt.Sprintf(" It becomes a member showing p:\nit receives %q with every member, and the other members %q with its join.\nJoining again updates what it shows.", r.State.Name, r.Diff.Name)
		join = append(join, jen.If(jen.Err().Op(":=").Id("p").Dot("Validate").Call(), jen.Err().Op("!=").Nil()).Block(
			jen.Return(rt("InvalidEmit").Call(jen.Lit(r.State.Name), jen.Err()))))
	}
	join = append([]jen.Code{key("params"), ifErr}, join...)
	join = append(join, jen.Return(jen.Id("s").Dot("rt").Dot("JoinKind").Call(jen.Id("ctx"), jen.Lit(r.Name), jen.Id("key"), jen.Id("params"), shows)))
	leaveDoc := fmt.Sprintf("%s takes the socket out of the %q room of these parameters.", r.GoLeave, r.Name)
	if r.Presence != nil {
		leaveDoc += fmt.Sprintf(" The other members receive\n%q with its leave (as when the socket disconnects).", r.Diff.Name)
	}
	roomValue := func(from jen.Code, rtOf jen.Code) jen.Code {
		return jen.Return(jen.Id(r.GoRoom).Values(jen.Dict{jen.Id("rt"): rtOf, jen.Id("from"): from, jen.Id("key"): jen.Id("key"), jen.Id("err"): jen.Err()}))
	}
	var update jen.Code = jen.Null()
	if r.Presence != nil {
		update = jen.Add(
			commentLines(fmt.Sprintf("%s changes what the socket shows in every %q room it is a member of (its ids and\nplaces kept): their other members receive %q with the old entry as a leave and the new as a join.", r.GoUpdate, r.Name, r.Diff.Name)),
			s().Id(r.GoUpdate).Params(ctx, jen.Id("p").Id(r.Presence.GoName)).Error().Block(
				jen.If(jen.Err().Op(":=").Id("p").Dot("Validate").Call(), jen.Err().Op("!=").Nil()).Block(
					jen.Return(rt("InvalidEmit").Call(jen.Lit(r.Diff.Name), jen.Err()))),
				jen.Return(jen.Id("s").Dot("rt").Dot("UpdateKind").Call(jen.Id("ctx"), jen.Lit(r.Name), jen.Id("p"))),
			))
	}
	return joinLines([]jen.Code{
		jen.Add(commentLines(doc), s().Id(r.GoJoin).Params(joinParams...).Error().Block(join...)),
		update,
		jen.Add(commentLines(leaveDoc), s().Id(r.GoLeave).Params(append([]jen.Code{ctx}, paramList(r)...)...).Error().Block(
			key("_"), ifErr, jen.Return(jen.Id("s").Dot("rt").Dot("LeaveKind").Call(jen.Id("ctx"), jen.Id("key"))))),
		jen.Comment(fmt.Sprintf("%s reports whether the socket is in the %q room of these parameters.", r.GoIn, r.Name)),
		s().Id(r.GoIn).Params(paramList(r)...).Bool().Block(
			key("_"), jen.Return(jen.Err().Op("==").Nil().Op("&&").Id("s").Dot("rt").Dot("InRoom").Call(jen.Id("key")))),
		jen.Comment(fmt.Sprintf("%s addresses the %q room of these parameters; its Others leave this socket out.", r.GoName, r.Name)),
		s().Id(r.GoName).Params(paramList(r)...).Id(r.GoRoom).Block(
			key("_"), roomValue(jen.Id("s").Dot("rt"), jen.Id("s").Dot("srv").Dot("rt"))),
		jen.Comment(fmt.Sprintf("%s addresses the %q room of these parameters.", r.GoName, r.Name)),
		jen.Func().Params(jen.Id("srv").Op("*").Id("Server")).Id(r.GoName).Params(paramList(r)...).Id(r.GoRoom).Block(
			key("_"), roomValue(jen.Nil(), jen.Id("srv").Dot("rt"))),
	})
}

// genRoomTypes renders the emitter types of a room kind and their methods.
func (g *generator) genRoomTypes(r *model.Room) jen.Code {
	doc := fmt.Sprintf("%s sends the events a %q room carries to its members.", r.GoRoom, r.Name)
	if r.Doc != "" {
		doc += " " + r.Doc
	}
	code := []jen.Code{
		jen.Add(commentLines(doc), jen.Type().Id(r.GoRoom).Struct(
			jen.Id("rt").Op("*").Add(rt("Server")),
			jen.Id("from").Op("*").Add(rt("Socket")).Comment("the socket it was addressed from; nil from the Server"),
			jen.Id("key").String(),
			jen.Id("err").Error().Comment("parameters that failed their checks"),
		)),
	}
	roomErr := func(recv string) jen.Code {
		return jen.If(jen.Id(recv).Dot("err").Op("!=").Nil()).Block(jen.Return(jen.Id(recv).Dot("err")))
	}
	for _, ev := range r.Events {
		code = append(code, g.genRoomEmitter(ev, "r", r.GoRoom, "to the members of the room", roomErr("r"), func(payload jen.Code) jen.Code {
			return jen.Return(jen.Id("r").Dot("rt").Dot("EmitTyped").Call(jen.Id("Namespace"), jen.Id("r").Dot("key"), jen.Lit(ev.Name), payload, jen.Lit(ev.Volatile)))
		}))
	}
	if r.Member != nil {
		code = append(code,
			jen.Comment(fmt.Sprintf("Members returns the members of the room, on every node, in the order they joined.")),
			jen.Func().Params(jen.Id("r").Id(r.GoRoom)).Id("Members").Params(jen.Id("ctx").Qual(contextPkg, "Context")).Params(jen.Index().Id(r.Member.GoName), jen.Error()).Block(
				jen.If(jen.Id("r").Dot("err").Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Id("r").Dot("err"))),
				jen.Return(rt("Members").Call(jen.Id("ctx"), jen.Id("r").Dot("rt"), jen.Id("r").Dot("key"), jen.Id(r.Member.GoDecode))),
			))
	}
	if len(r.OthersEvents) > 0 {
		code = append(code,
			jen.Comment(fmt.Sprintf("Others addresses the members of the room but the socket it was addressed from (all of them from the Server).")),
			jen.Func().Params(jen.Id("r").Id(r.GoRoom)).Id("Others").Params().Id(r.GoOthers).Block(jen.Return(jen.Id(r.GoOthers).Call(jen.Id("r")))),
			jen.Comment(fmt.Sprintf("%s sends the events a %q room carries to its members but the sender.", r.GoOthers, r.Name)),
			jen.Type().Id(r.GoOthers).Id(r.GoRoom),
		)
		for _, ev := range r.OthersEvents {
			send := func(payload jen.Code) jen.Code {
				return jen.If(jen.Id("o").Dot("from").Op("==").Nil()).Block(
					jen.Return(jen.Id("o").Dot("rt").Dot("EmitTyped").Call(jen.Id("Namespace"), jen.Id("o").Dot("key"), jen.Lit(ev.Name), payload, jen.Lit(ev.Volatile))),
				).Line().Return(jen.Id("o").Dot("from").Dot("BroadcastTyped").Call(jen.Id("o").Dot("key"), jen.Lit(ev.Name), payload, jen.Lit(ev.Volatile)))
			}
			code = append(code, g.genRoomEmitter(ev, "o", r.GoOthers, "to the members of the room but the sender", roomErr("o"), send))
		}
	}
	return joinLines(code)
}

// genRoomEmitter renders one emitter of a room type; send renders the return of the send.
func (g *generator) genRoomEmitter(ev *model.Event, recv, recvType, where string, check jen.Code, send func(payload jen.Code) jen.Code) jen.Code {
	doc, params, body, payload := emitterParts(ev, where)
	body = append(append([]jen.Code{check}, body...), send(payload))
	return jen.Add(commentLines(doc), jen.Func().Params(jen.Id(recv).Id(recvType)).Id(ev.GoEmit).Params(params...).Error().Block(body...))
}
