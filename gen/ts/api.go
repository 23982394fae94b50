package ts

import (
	"fmt"
	"strings"

	"github.com/karl-app/karl/gen/model"
)

// defaultTimeout is how long a call waits for its answer when neither the schema nor
// the caller sets a timeout, in milliseconds: the server's default handler deadline.
const defaultTimeout = 5000

// genAPI renders api.ts: the Api interface, one method per client event, and createApi.
func (g *generator) genAPI() string {
	types := map[string]bool{}
	for _, ev := range g.m.Client {
		if ev.HasPayload() {
			types[ev.Payload.TSName] = true
		}
		if ev.Reply != nil {
			types[ev.Reply.TSName] = true
		}
	}
	if len(g.m.Client) == 0 { // nothing to send: the Api is empty
		return join("import type { KarlSocket } from "+str(g.module("socket"))+";", genAPIOptions(), g.genAPIInterface(), g.genCreateAPI())
	}
	imports := "import { request, type KarlSocket } from " + str(g.module("socket")) + ";\n"
	if len(types) > 0 {
		imports += importLine(sortedKeys(types), g.module("types"), true) + "\n"
	}
	imports += "import { clientEvents } from " + str(g.module("validate")) + ";"
	return join(imports, genAPIOptions(), g.genAPIInterface(), g.genCreateAPI())
}

func genAPIOptions() string {
	return doc("", "DEFAULT_TIMEOUT is how long a call waits for its answer, in ms, when neither the schema nor ApiOptions sets a timeout.", "") +
		fmt.Sprintf("export const DEFAULT_TIMEOUT = %d;\n\n", defaultTimeout) +
		doc("", "ApiOptions configure createApi.", "") +
		"export interface ApiOptions {\n" +
		doc("  ", "How long a call waits for its answer, in ms, when the schema sets no timeout for its event [DEFAULT_TIMEOUT].", "") +
		"  timeout?: number;\n" +
		doc("  ", "How many times an idempotent call is sent again, with its key, after a timeout or a lost connection [2].", "") +
		"  retries?: number;\n" +
		doc("  ", "How long a call queued while disconnected waits for the connection, in ms [30000].", "") +
		"  offlineTimeout?: number;\n" +
		doc("  ", "Makes idempotency keys [newIdempotencyKey].", "") +
		"  newIdempotencyKey?: () => string;\n" +
		doc("  ", "Returns the W3C traceparent sent with each call, for the server's traces; undefined sends none.", "") +
		"  traceparent?: () => string | undefined;\n}"
}

// genAPIInterface renders the Api interface:
//
//	export interface Api {
//	  /** getProfile sends "get-profile": Ask for the profile. It may fail with "no-session". */
//	  getProfile(): Promise<Profile>;
//	}
func (g *generator) genAPIInterface() string {
	var b strings.Builder
	b.WriteString(doc("", fmt.Sprintf("Api sends the client events of the %q schema and waits for their answers. "+
		"A call checks its payload first (a refused payload rejects with KarlError \"invalid-payload\" and nothing is sent), "+
		"resolves on {ok: true} with the reply, and rejects with a KarlError on {ok: false}, on \"timeout\" and on \"invalid-response\"; "+
		"isKarlError(err, event) narrows its code.", g.m.Name), ""))
	b.WriteString("export interface Api {\n")
	for _, ev := range g.m.Client {
		b.WriteString(doc("  ", methodDoc(ev), ev.Deprecated))
		params := ""
		if ev.HasPayload() {
			params = "payload: " + ev.Payload.TSName
		}
		b.WriteString("  " + ev.TSMember + "(" + params + "): Promise<" + replyType(ev) + ">;\n")
	}
	b.WriteString("}")
	return b.String()
}

func methodDoc(ev *model.Event) string {
	text := fmt.Sprintf("%s sends %q", ev.TSName, ev.Name)
	if ev.Doc != "" {
		text += ": " + ev.Doc
	} else {
		text += "."
	}
	if len(ev.Errors) > 0 {
		codes := make([]string, len(ev.Errors))
		for i, e := range ev.Errors {
			codes[i] = str(e.Code)
		}
		text += " It may fail with " + strings.Join(codes, ", ") + "."
	}
	if ev.Timeout > 0 {
		text += fmt.Sprintf(" It waits %d ms for the answer.", ev.Timeout.Milliseconds())
	}
	return text
}

func replyType(ev *model.Event) string {
	if ev.Reply == nil {
		return "void"
	}
	return ev.Reply.TSName
}

// genCreateAPI renders createApi, which binds each method to its event, readers and timeout:
//
//	getProfile: () => request(socket, "get-profile", clientEvents["get-profile"], undefined, timeout),
func (g *generator) genCreateAPI() string {
	var b strings.Builder
	b.WriteString(doc("", "createApi returns the Api that sends on socket.", ""))
	usesDefault := false
	var methods []string
	for _, ev := range g.m.Client {
		timeout := "timeout"
		if ev.Timeout > 0 {
			timeout = fmt.Sprint(ev.Timeout.Milliseconds())
		} else {
			usesDefault = true
		}
		param, payload := "", "undefined"
		if ev.HasPayload() {
			param, payload = "payload", "payload"
		}
		call := fmt.Sprintf("request(socket, %s, clientEvents[%s], %s, %s, options)", str(ev.Name), str(ev.Name), payload, timeout)
		line := fmt.Sprintf("    %s: (%s) => %s,", ev.TSName, param, call)
		if len(line) > docWidth {
			line = fmt.Sprintf("    %s: (%s) =>\n      %s,", ev.TSName, param, call)
		}
		methods = append(methods, line)
	}
	if usesDefault {
		b.WriteString("export function createApi(socket: KarlSocket, options: ApiOptions = {}): Api {\n")
		b.WriteString("  const timeout = options.timeout ?? DEFAULT_TIMEOUT;\n")
	} else { // every event has its own timeout
		b.WriteString("export function createApi(socket: KarlSocket, options: ApiOptions = {}): Api {\n")
	}
	b.WriteString("  return {\n")
	for _, m := range methods {
		b.WriteString(m + "\n")
	}
	b.WriteString("  };\n}")
	return b.String()
}
