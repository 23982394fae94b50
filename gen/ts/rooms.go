package ts

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/karl-app/karl/gen/model"
)

// presenceRooms returns the room kinds with presence, in schema order.
func (g *generator) presenceRooms() []*model.Room {
	var out []*model.Room
	for _, r := range g.m.Rooms {
		if r.Presence != nil && r.Member != nil && r.State != nil && r.Diff != nil {
			out = append(out, r)
		}
	}
	return out
}

// identifier matches a property name that needs no quotes.
var identifier = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// propKey renders a property name, quoted unless it is an identifier.
func propKey(name string) string {
	if identifier.MatchString(name) {
		return name
	}
	return str(name)
}

// genRooms renders rooms.ts, for schemas with at least one room kind with presence:
// the types of each kind (PresenceRooms, PresenceKind, PresenceParams, PresenceMember)
// and the rooms descriptor that usePresence and the presence reducer read.
//
//	export const rooms = {
//	  chat: { state: "chat-presence", diff: "chat-presence-diff", params: ["room"] },
//	} as const;
func (g *generator) genRooms() string {
	kinds := g.presenceRooms()
	types := map[string]bool{}
	for _, r := range kinds {
		for _, st := range []*model.Struct{r.Params, r.Member, r.State.Payload, r.Diff.Payload} {
			types[st.TSName] = true
		}
	}
	var iface, desc strings.Builder
	iface.WriteString(doc("", "PresenceRooms maps each room kind with presence to its types: the parameters that name one room, "+
		"a member (its id and presence), and the payloads of its state and diff events.", ""))
	iface.WriteString("export interface PresenceRooms {\n")
	desc.WriteString(doc("", "rooms describes each room kind with presence: the server event that gives a member the state of a room "+
		"(every member, itself included, on join and after a connection recovery), the one that gives the diffs "+
		"(joins and leaves, to the other members), and the names of the parameters, which the payloads of both carry.", ""))
	desc.WriteString("export const rooms = {\n")
	for _, r := range kinds {
		text := r.Doc
		if text == "" {
			text = fmt.Sprintf("The room kind %q.", r.Name)
		}
		iface.WriteString(doc("  ", text, ""))
		line := fmt.Sprintf("  %s: { params: %s; member: %s; state: %s; diff: %s };",
			propKey(r.TSName), r.Params.TSName, r.Member.TSName, r.State.Payload.TSName, r.Diff.Payload.TSName)
		if len(line) > docWidth {
			line = fmt.Sprintf("  %s: {\n    params: %s;\n    member: %s;\n    state: %s;\n    diff: %s;\n  };",
				propKey(r.TSName), r.Params.TSName, r.Member.TSName, r.State.Payload.TSName, r.Diff.Payload.TSName)
		}
		iface.WriteString(line + "\n")
		params := make([]string, len(r.Params.Fields))
		for i, f := range r.Params.Fields {
			params[i] = str(f.Name)
		}
		line = fmt.Sprintf("  %s: { state: %s, diff: %s, params: [%s] },",
			propKey(r.TSName), str(r.State.Name), str(r.Diff.Name), strings.Join(params, ", "))
		if len(line) > docWidth {
			line = fmt.Sprintf("  %s: {\n    state: %s,\n    diff: %s,\n    params: [%s],\n  },",
				propKey(r.TSName), str(r.State.Name), str(r.Diff.Name), strings.Join(params, ", "))
		}
		desc.WriteString(line + "\n")
	}
	iface.WriteString("}")
	desc.WriteString("} as const;")
	return join(
		importLine(sortedKeys(types), g.module("types"), true),
		iface.String(),
		doc("", "PresenceKind is the name of a room kind with presence, e.g. for usePresence(kind, params).", "")+
			"export type PresenceKind = keyof PresenceRooms;",
		doc("", "PresenceParams are the parameters that name one room of kind K.", "")+
			"export type PresenceParams<K extends PresenceKind> = PresenceRooms[K][\"params\"];",
		doc("", "PresenceMember is a member of a room of kind K: its id (one per socket and room) and its presence.", "")+
			"export type PresenceMember<K extends PresenceKind> = PresenceRooms[K][\"member\"];",
		desc.String(),
	)
}
