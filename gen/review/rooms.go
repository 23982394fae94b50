package review

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/karl-app/karl/schema"
)

// A room kind is, for a client, a room: a server event sent to "chat" reaches the
// sockets in a room as one sent to "room" does, and "chat.others" is "others"
// within a room; the wire is the same. What a kind adds on the wire are its
// presence events, chat-presence and chat-presence-diff, whose payloads carry the
// kind's parameters and, for each member, its presence fields. Their payloads are
// compared like those of other server events, and findings inside the types the
// loader declares for them (ChatPresenceState, ChatMember...) name the room kind.

func roomSubject(r *schema.Room) string { return fmt.Sprintf("room kind %q", r.Name) }

// presenceEvents names a kind's presence events, for messages.
func presenceEvents(r *schema.Room) string {
	return strconv.Quote(r.StateEvent) + " and " + strconv.Quote(r.DiffEvent)
}

// rooms compares the room kinds of OLD and NEW by name.
func (d *differ) rooms() {
	for i, o := range d.old.s.Rooms {
		n := d.new.rooms[o.Name]
		if n == nil {
			d.roomRemoved(o, d.removedRoomPos(i))
			continue
		}
		d.room(o, n)
	}
	for _, n := range d.new.s.Rooms {
		if d.old.rooms[n.Name] == nil {
			d.roomAdded(n)
		}
	}
}

// removedRoomPos points at the kind of NEW that now stands where OLD's i-th kind was.
func (d *differ) removedRoomPos(i int) schema.Pos {
	rooms := d.old.s.Rooms
	for _, r := range slices.Concat(rooms[i+1:], reversed(rooms[:i])) {
		if n := d.new.rooms[r.Name]; n != nil {
			return n.Pos
		}
	}
	return topPos(d.new.s, "rooms")
}

func (d *differ) roomAdded(n *schema.Room) {
	why := "old clients do not know the kind: for them its rooms are rooms, and the events it carries are compared with each event's targets"
	if n.HasPresence {
		why += "; they ignore its presence events " + presenceEvents(n)
	}
	d.add(&Finding{Rule: "room-added", Subject: roomSubject(n), Change: "added", Pos: n.Pos,
		Effects: []Effect{{Flow: Output, Why: why}}})
}

func (d *differ) roomRemoved(o *schema.Room, pos schema.Pos) {
	f := &Finding{Rule: "room-removed", Subject: roomSubject(o), Change: "removed", Pos: pos, OldPos: o.Pos, Gone: true}
	if o.HasPresence {
		f.Change = "removed, with its presence"
		f.Effects = []Effect{{Flow: Output, Breaks: OldClients,
			Why: "old clients that show who is in its rooms no longer receive " + presenceEvents(o) +
				"; the events it carried are compared with each event's targets"}}
	} else {
		f.Effects = []Effect{{Flow: Output,
			Why: "its rooms are rooms for clients: the events it carried are compared with each event's targets; the server's code loses its methods"}}
	}
	d.add(f)
}

// room compares two versions of one kind: its doc, its parameters and its presence.
func (d *differ) room(o, n *schema.Room) {
	subject := roomSubject(n)
	if o.Doc != n.Doc {
		d.add(&Finding{Rule: "doc-changed", Subject: subject, Change: "doc changed", Pos: roomKeyPos(n, "doc"), OldPos: roomKeyPos(o, "doc")})
	}
	switch {
	case !o.HasPresence && n.HasPresence:
		d.add(&Finding{Rule: "presence-added", Subject: subject, Change: "presence added: " + fieldNames(n.Presence), Pos: roomKeyPos(n, "presence"), OldPos: o.Pos,
			Effects: []Effect{{Use: n.StateEvent + ", " + n.DiffEvent, Flow: Output,
				Why: "old clients ignore the new presence events; new clients get no presence from old servers until they are deployed"}}})
	case o.HasPresence && !n.HasPresence:
		d.add(&Finding{Rule: "presence-removed", Subject: subject, Change: "presence removed", Pos: n.Pos, OldPos: roomKeyPos(o, "presence"), Gone: true,
			Effects: []Effect{{Use: o.StateEvent + ", " + o.DiffEvent, Flow: Output, Breaks: OldClients,
				Why: "old clients that show who is in its rooms no longer receive " + presenceEvents(o)}}})
	}
	if o.HasPresence && n.HasPresence {
		// The parameters travel in the presence events' payloads, which events()
		// compares; findings there are named after the kind (see roomSubject).
		return
	}
	// Without presence in OLD or NEW no event carries the parameters: they name a
	// room for the server's code (JoinChat's arguments) and in its room keys.
	why := "no event carries the parameters of its rooms without presence: the server's code changes (its join, leave and emit methods), not the wire"
	for i, of := range o.Params {
		if findField(n.Params, of.Name) == nil {
			d.add(&Finding{Rule: "room-param-removed", Subject: subject, Change: fmt.Sprintf("parameter %q removed", of.Name),
				Pos: removedPos(o.Params, n.Params, i, roomKeyPos(n, "params")), OldPos: of.Pos, Gone: true,
				Effects: []Effect{{Flow: Output, Why: why}}})
		}
	}
	for _, nf := range n.Params {
		if of := findField(o.Params, nf.Name); of != nil && d.old.shape(of.Spec) != d.new.shape(nf.Spec) {
			d.add(&Finding{Rule: "room-param-changed", Subject: subject, Change: fmt.Sprintf("parameter %q: type or constraints changed", nf.Name),
				Pos: nf.Spec.Pos, OldPos: of.Spec.Pos, Effects: []Effect{{Flow: Output, Why: why}}})
		}
	}
	for _, nf := range n.Params {
		if findField(o.Params, nf.Name) == nil {
			d.add(&Finding{Rule: "room-param-added", Subject: subject, Change: fmt.Sprintf("parameter %q added", nf.Name), Pos: nf.Pos,
				Effects: []Effect{{Flow: Output, Why: why}}})
		}
	}
}

func roomKeyPos(r *schema.Room, key string) schema.Pos {
	if p, ok := r.KeyPos[key]; ok {
		return p
	}
	return r.Pos
}

// roomType returns the kind that declares the type, in NEW or else in OLD.
func (d *differ) roomType(name string) *schema.Room {
	for _, x := range []*index{d.new, d.old} {
		if t := x.types[name]; t != nil {
			return x.rooms[t.Room] // nil for a type of the file
		}
	}
	return nil
}

// roomFinding renames a finding made inside a type the loader declares for a
// room kind after the kind: `type "ChatMember": username` becomes `room kind
// "chat": presence field "username"`, a field added to the presence events'
// payload a parameter added (room-param-added).
func (d *differ) roomFinding(f *Finding) {
	rest, ok := strings.CutPrefix(f.Subject, "type ")
	if !ok {
		return
	}
	name, path, _ := strings.Cut(rest, ": ")
	name, err := strconv.Unquote(name)
	if err != nil {
		return
	}
	r := d.roomType(name)
	if r == nil {
		return
	}
	subject := roomSubject(r)
	field, inner, _ := strings.Cut(path, ".")
	param := func(name string) bool {
		return slices.ContainsFunc([]*index{d.new, d.old}, func(x *index) bool {
			xr := x.rooms[r.Name]
			return xr != nil && findField(xr.Params, name) != nil
		})
	}
	switch name {
	case r.StateType, r.DiffType, r.ParamsType:
		switch {
		case path == "" && (f.Rule == "field-added" || f.Rule == "field-removed"):
			f.Subject = subject
			if f.Rule == "field-added" {
				f.Rule = "room-param-added"
			} else {
				f.Rule = "room-param-removed"
			}
			f.Change = strings.Replace(strings.TrimPrefix(strings.TrimPrefix(f.Change, "required "), "optional "), "field ", "parameter ", 1)
		case path == "":
			f.Subject = subject + " presence events"
		case param(field):
			f.Subject = dot(fmt.Sprintf("%s: parameter %q", subject, field), inner)
		default:
			f.Subject = subject + " presence events: " + path
		}
	case r.MemberType, r.PresenceType:
		switch {
		case path == "":
			f.Subject = subject + ": presence"
		case field == schema.MemberID:
			f.Subject = dot(subject+": member id", inner)
		default:
			f.Subject = dot(fmt.Sprintf("%s: presence field %q", subject, field), inner)
		}
	}
}
