package golang

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/karl-app/karl/gen/model"
)

const karltestPkg = "github.com/karl-app/karl/runtime/karltest"

// genTestClient renders testclient.go: a TestServer that runs a Handler on an
// in-memory runtime server, and a TestClient with a typed method per client event
// (its answer decoded, failures as *runtime.Error) and per server event (Next...).
// Unused, the linker drops it from binaries.
func (g *generator) genTestClient() jen.Code {
	code := []jen.Code{g.genTestServer()}
	for _, ev := range g.m.Client {
		code = append(code, g.genTestCall(ev))
	}
	for _, ev := range g.m.Server {
		code = append(code, g.genTestNext(ev))
	}
	return joinLines(code)
}

// genTestServer renders TestServer, NewTestServer and TestClient.
func (g *generator) genTestServer() jen.Code {
	ts := func() *jen.Statement { return jen.Func().Params(jen.Id("ts").Op("*").Id("TestServer")) }
	return joinLines([]jen.Code{
		jen.Comment("TestServer runs a Handler on a runtime server in memory, for the application's tests:"),
		jen.Comment("TestClients speak Socket.IO to it (handshake, checks, acks, rooms, broadcasts) without"),
		jen.Comment("a port or a network."),
		jen.Type().Id("TestServer").Struct(
			jen.Id("rt").Op("*").Add(rt("Server")),
			jen.Id("srv").Op("*").Id("Server"),
			jen.Id("mem").Op("*").Qual(karltestPkg, "Server"),
		),
		jen.Comment("NewTestServer registers h on a new runtime server with opts and serves it in memory."),
		jen.Comment("Close it at the end of the test."),
		jen.Func().Id("NewTestServer").Params(jen.Id("h").Id("Handler"), jen.Id("opts").Add(rt("Options"))).Op("*").Id("TestServer").Block(
			jen.Return(jen.Id("NewTestServerFunc").Call(jen.Id("opts"), jen.Func().Params(jen.Id("rt").Op("*").Add(rt("Server"))).Block(
				jen.Id("Register").Call(jen.Id("rt"), jen.Id("h")),
			))),
		),
		jen.Comment("NewTestServerFunc is NewTestServer for applications that register themselves (and keep"),
		jen.Comment("the *Server Register returns): register is called with the new runtime server."),
		jen.Func().Id("NewTestServerFunc").Params(jen.Id("opts").Add(rt("Options")), jen.Id("register").Func().Params(jen.Op("*").Add(rt("Server")))).Op("*").Id("TestServer").Block(
			jen.Id("rt").Op(":=").Add(rt("NewServer")).Call(jen.Id("opts")),
			jen.Id("register").Call(jen.Id("rt")),
			jen.Return(jen.Op("&").Id("TestServer").Values(jen.Dict{
				jen.Id("rt"): jen.Id("rt"), jen.Id("srv"): jen.Op("&").Id("Server").Values(jen.Dict{jen.Id("rt"): jen.Id("rt")}),
				jen.Id("mem"): jen.Qual(karltestPkg, "Serve").Call(jen.Id("rt").Dot("Handler").Call()),
			})),
		),
		jen.Comment("Server returns the typed server, for broadcasts made by the test itself."),
		ts().Id("Server").Params().Op("*").Id("Server").Block(jen.Return(jen.Id("ts").Dot("srv"))),
		jen.Comment("Close disconnects every client and stops the server."),
		ts().Id("Close").Params().Error().Block(
			jen.Id("err").Op(":=").Id("ts").Dot("rt").Dot("Shutdown").Call(jen.Qual(contextPkg, "Background").Call()),
			jen.Return(jen.Qual("errors", "Join").Call(jen.Id("err"), jen.Id("ts").Dot("mem").Dot("Close").Call())),
		),
		jen.Comment("Connect opens a client with auth. A refused handshake returns the *runtime.Error the"),
		jen.Comment("client received in connect_error: errors.Is matches it with the schema's Err values."),
		ts().Id("Connect").Params(jen.Id("auth").Id(g.m.Auth.GoName)).Params(jen.Op("*").Id("TestClient"), jen.Error()).Block(
			jen.List(jen.Id("c"), jen.Err()).Op(":=").Id("ts").Dot("mem").Dot("Connect").Call(jen.Id("Namespace"), jen.Id("auth")),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
			jen.Return(jen.Op("&").Id("TestClient").Values(jen.Dict{jen.Id("c"): jen.Id("c")}), jen.Nil()),
		),
		jen.Comment("TestClient is one client of a TestServer: a method per client event sends it with an"),
		jen.Comment("ack and returns the answer, a Next method per server event returns the oldest one it"),
		jen.Comment("received (waiting for one until ctx ends, or 5 s)."),
		jen.Type().Id("TestClient").Struct(jen.Id("c").Op("*").Qual(karltestPkg, "Client")),
		jen.Comment("Disconnect closes the client's connection."),
		jen.Func().Params(jen.Id("c").Op("*").Id("TestClient")).Id("Disconnect").Params().Error().Block(
			jen.Return(jen.Id("c").Dot("c").Dot("Close").Call()),
		),
	})
}

// genTestCall renders the TestClient method of a client event:
//
//	func (c *TestClient) GetProfile(ctx context.Context) (Profile, error) {
//		data, err := c.c.Call(ctx, "get-profile", nil)
//		if err != nil {
//			return Profile{}, err
//		}
//		return decodeReply(data, decodeProfile)
//	}
func (g *generator) genTestCall(ev *model.Event) jen.Code {
	params := []jen.Code{jen.Id("ctx").Qual(contextPkg, "Context")}
	payload := jen.Nil()
	if ev.TakesPayload() {
		params = append(params, jen.Id("in").Id(ev.Payload.GoName))
		payload = jen.Id("in")
	}
	call := jen.Id("c").Dot("c").Dot("Call").Call(jen.Id("ctx"), jen.Lit(ev.Name), payload)
	doc := fmt.Sprintf("%s sends %q with an ack and waits for the answer; a failure is the *runtime.Error the server answered.", ev.GoName, ev.Name)
	recv := jen.Func().Params(jen.Id("c").Op("*").Id("TestClient"))
	if ev.Reply == nil {
		return jen.Add(jen.Comment(doc).Line(), recv.Id(ev.GoName).Params(params...).Error().Block(
			jen.List(jen.Id("_"), jen.Err()).Op(":=").Add(call),
			jen.Return(jen.Err()),
		))
	}
	reply := ev.Reply.GoName
	return jen.Add(jen.Comment(doc).Line(), recv.Id(ev.GoName).Params(params...).Params(jen.Id(reply), jen.Error()).Block(
		jen.List(jen.Id("data"), jen.Err()).Op(":=").Add(call),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Id(reply).Values(), jen.Err())),
		jen.Return(jen.Qual(karltestPkg, "DecodeWith").Call(jen.Id("data"), jen.Id(ev.Reply.GoDecode))),
	))
}

// genTestNext renders the TestClient method that waits for a server event:
//
//	func (c *TestClient) NextUsernameSaved(ctx context.Context) (UsernameSaved, error) {
//		args, err := c.c.Next(ctx, "username-saved")
//		if err != nil {
//			return UsernameSaved{}, err
//		}
//		return karltest.DecodeArg(args, decodeUsernameSaved)
//	}
func (g *generator) genTestNext(ev *model.Event) jen.Code {
	ctx := jen.Id("ctx").Qual(contextPkg, "Context")
	next := jen.Id("c").Dot("c").Dot("Next").Call(jen.Id("ctx"), jen.Lit(ev.Name))
	recv := jen.Func().Params(jen.Id("c").Op("*").Id("TestClient"))
	doc := fmt.Sprintf("%s returns the oldest %q this client received and has not taken, waiting for one.", ev.GoNext, ev.Name)
	if !ev.TakesPayload() {
		return jen.Add(jen.Comment(doc).Line(), recv.Id(ev.GoNext).Params(ctx).Error().Block(
			jen.List(jen.Id("_"), jen.Err()).Op(":=").Add(next),
			jen.Return(jen.Err()),
		))
	}
	p := ev.Payload.GoName
	return jen.Add(jen.Comment(doc+" The payload is checked against the schema.").Line(), recv.Id(ev.GoNext).Params(ctx).Params(jen.Id(p), jen.Error()).Block(
		jen.List(jen.Id("args"), jen.Err()).Op(":=").Add(next),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Id(p).Values(), jen.Err())),
		jen.Return(jen.Qual(karltestPkg, "DecodeArg").Call(jen.Id("args"), jen.Id(ev.Payload.GoDecode))),
	))
}
