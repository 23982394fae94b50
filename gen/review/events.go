package review

import (
	"fmt"
	"slices"
	"strings"

	"github.com/karl-app/karl/schema"
)

// events matches the events of OLD and NEW by name (and renames by payload shape)
// and compares each pair.
func (d *differ) events() {
	renames := d.renames()
	renamedTo := map[string]bool{}
	for _, o := range slices.Concat(d.old.s.Client, d.old.s.Server) {
		n := d.new.events[o.Name]
		switch {
		case n == nil && renames[o.Name] != nil:
			n = renames[o.Name]
			renamedTo[n.Name] = true
			d.renamed(o, n)
			d.event(o, n)
		case n == nil && o.Room != "":
			// a presence event: the kind's presence-removed or room-removed says it
		case n == nil:
			d.removed(o)
		case n.Dir != o.Dir:
			d.directionChanged(o, n)
		default:
			d.event(o, n)
		}
	}
	for _, n := range slices.Concat(d.new.s.Client, d.new.s.Server) {
		if d.old.events[n.Name] == nil && !renamedTo[n.Name] && n.Room == "" { // presence events: presence-added, room-added
			d.added(n)
		}
	}
}

// renames pairs each removed event with the one added event of the same direction
// whose payload and reply have the same wire shape, when the pairing is unique.
func (d *differ) renames() map[string]*schema.Event {
	shape := func(x *index, ev *schema.Event) string {
		return string(ev.Dir) + "|" + x.shape(ev.Payload) + "|" + x.shape(ev.Reply)
	}
	removed, added := map[string][]*schema.Event{}, map[string][]*schema.Event{}
	for _, o := range slices.Concat(d.old.s.Client, d.old.s.Server) {
		if d.new.events[o.Name] == nil && o.Room == "" {
			removed[shape(d.old, o)] = append(removed[shape(d.old, o)], o)
		}
	}
	for _, n := range slices.Concat(d.new.s.Client, d.new.s.Server) {
		if d.old.events[n.Name] == nil && n.Room == "" {
			added[shape(d.new, n)] = append(added[shape(d.new, n)], n)
		}
	}
	out := map[string]*schema.Event{}
	for s, os := range removed {
		if ns := added[s]; len(os) == 1 && len(ns) == 1 {
			out[os[0].Name] = ns[0]
		}
	}
	return out
}

func eventSubject(ev *schema.Event) string { return fmt.Sprintf("%s event %q", ev.Dir, ev.Name) }

func eventFlow(ev *schema.Event) Flow {
	if ev.Dir == schema.ClientToServer {
		return Input
	}
	return Output
}

func (d *differ) renamed(o, n *schema.Event) {
	f := &Finding{Rule: "event-renamed", Subject: eventSubject(o), Change: fmt.Sprintf("renamed to %q (same payload)", n.Name), Pos: n.Pos, OldPos: o.Pos, Gone: true}
	if o.Dir == schema.ClientToServer {
		f.Effects = []Effect{
			{Flow: Input, Breaks: OldClients, Why: fmt.Sprintf("old clients emit %q; the new server answers unknown-event", o.Name)},
			{Flow: Input, Breaks: OldServers, Why: fmt.Sprintf("new clients emit %q; old servers answer unknown-event", n.Name)},
		}
	} else {
		f.Effects = []Effect{
			{Flow: Output, Breaks: OldClients, Why: fmt.Sprintf("old clients listen for %q, which the new server no longer sends", o.Name)},
			{Flow: Output, Breaks: OldServers, Why: fmt.Sprintf("old servers send %q, which new clients no longer listen for", o.Name)},
		}
	}
	d.add(f)
}

func (d *differ) removed(o *schema.Event) {
	f := &Finding{Rule: "event-removed", Subject: eventSubject(o), Change: "removed", Pos: d.removedEventPos(o), OldPos: o.Pos, Gone: true}
	why := "old clients that emit it get unknown-event"
	if o.Dir == schema.ServerToClient {
		why = "old clients that wait for it never receive it"
	}
	f.Effects = []Effect{{Flow: eventFlow(o), Breaks: OldClients, Why: why}}
	d.add(f)
}

// removedEventPos points at the event of NEW that now stands where o was.
func (d *differ) removedEventPos(o *schema.Event) schema.Pos {
	section, key := d.old.s.Client, "client"
	if o.Dir == schema.ServerToClient {
		section, key = d.old.s.Server, "server"
	}
	i := slices.Index(section, o)
	for _, ev := range slices.Concat(section[i+1:], reversed(section[:i])) {
		if n := d.new.events[ev.Name]; n != nil && n.Dir == o.Dir {
			return n.Pos
		}
	}
	return topPos(d.new.s, key)
}

func (d *differ) added(n *schema.Event) {
	f := &Finding{Rule: "event-added", Subject: eventSubject(n), Change: "added", Pos: n.Pos}
	why := "old clients ignore it"
	if n.Dir == schema.ClientToServer {
		why = "old clients do not emit it; old servers answer unknown-event to new clients until they are deployed"
	}
	f.Effects = []Effect{{Flow: eventFlow(n), Why: why}}
	d.add(f)
}

func (d *differ) directionChanged(o, n *schema.Event) {
	d.add(&Finding{Rule: "direction-changed", Subject: fmt.Sprintf("event %q", n.Name), Change: fmt.Sprintf("moved from %s to %s", o.Dir, n.Dir),
		Pos: n.Pos, OldPos: o.Pos,
		Effects: []Effect{
			{Flow: eventFlow(o), Breaks: OldClients, Why: "old clients and the new server both expect the other side to send it"},
			{Flow: eventFlow(n), Breaks: OldServers, Why: "new clients and old servers both expect the other side to send it"},
		}})
}

// event compares two versions of one event (or of a renamed one).
func (d *differ) event(o, n *schema.Event) {
	subject := eventSubject(n)
	if o.Deprecated != n.Deprecated {
		f := &Finding{Rule: "deprecated", Subject: subject, Pos: eventKeyPos(n, "deprecated"), OldPos: eventKeyPos(o, "deprecated")}
		d.add(deprecation(f, o.Deprecated, n.Deprecated))
	}
	if o.Doc != n.Doc {
		d.add(&Finding{Rule: "doc-changed", Subject: subject, Change: "doc changed", Pos: eventKeyPos(n, "doc"), OldPos: eventKeyPos(o, "doc")})
	}
	if n.Dir == schema.ClientToServer {
		d.timeout(o, n)
		d.idempotent(o, n)
		d.offline(o, n)
		d.reply(o, n)
		d.errorCodes(o, n)
		d.clientPayload(o, n)
		return
	}
	d.targets(o, n)
	d.volatile(o, n)
	d.payload(o, n)
}

// idempotent compares whether the server records the answers of a client event.
func (d *differ) idempotent(o, n *schema.Event) {
	switch {
	case !o.Idempotent && n.Idempotent:
		d.add(&Finding{Rule: "idempotent", Subject: eventSubject(n), Change: "idempotent added", Pos: eventKeyPos(n, "idempotent"), OldPos: o.Pos,
			Effects: []Effect{
				{Use: n.Name, Flow: Input, Why: "old clients send no idempotency key: the event runs as before"},
				{Use: n.Name, Flow: Input, Breaks: OldServers, Why: "new clients send request metadata after the payload, which old servers refuse with invalid-payload"},
			}})
	case o.Idempotent && !n.Idempotent:
		d.add(&Finding{Rule: "idempotent", Subject: eventSubject(n), Change: "idempotent removed", Pos: n.Pos, OldPos: eventKeyPos(o, "idempotent"),
			Effects: []Effect{{Use: n.Name, Flow: Input, Breaks: OldClients, Why: "old clients retry with their key; the new server runs each retry again"}}})
	}
}

// offline compares what the generated client does with a call made offline: the
// client's own behaviour, safe on the wire either way.
func (d *differ) offline(o, n *schema.Event) {
	if op, np := o.OfflinePolicy(), n.OfflinePolicy(); op != np {
		d.add(&Finding{Rule: "offline", Subject: eventSubject(n), Change: "offline " + op + " -> " + np, Pos: eventKeyPos(n, "offline"), OldPos: eventKeyPos(o, "offline"),
			Effects: []Effect{{Use: n.Name, Flow: Input, Why: "what a client does with a call made while disconnected; nothing changes on the wire"}}})
	}
}

// volatile compares whether a server event may be dropped for a busy client.
func (d *differ) volatile(o, n *schema.Event) {
	switch {
	case !o.Volatile && n.Volatile:
		d.add(&Finding{Rule: "volatile", Subject: eventSubject(n), Change: "volatile added", Pos: eventKeyPos(n, "volatile"), OldPos: o.Pos,
			Effects: []Effect{{Use: n.Name, Flow: Output, Breaks: OldClients, Why: "old clients may miss it now when they cannot take it at once"}}})
	case o.Volatile && !n.Volatile:
		d.add(&Finding{Rule: "volatile", Subject: eventSubject(n), Change: "volatile removed", Pos: n.Pos, OldPos: eventKeyPos(o, "volatile"),
			Effects: []Effect{{Use: n.Name, Flow: Output, Why: "every client now gets it"}}})
	}
}

func eventKeyPos(ev *schema.Event, key string) schema.Pos {
	if p, ok := ev.KeyPos[key]; ok {
		return p
	}
	return ev.Pos
}

func payloadUse(ev *schema.Event) use {
	return use{name: ev.Name + " payload", subject: eventSubject(ev) + " payload", flow: eventFlow(ev), refused: "the event fails with invalid-payload"}
}

func (d *differ) payload(o, n *schema.Event) {
	d.value(at{use: payloadUse(n)}, d.old.resolve(o.Payload), d.new.resolve(n.Payload))
}

// clientPayload handles what Socket.IO adds to field rules: a client may emit an
// event without fields with no argument at all, which a server that decodes a
// payload refuses whatever its fields.
func (d *differ) clientPayload(o, n *schema.Event) {
	of, nf := d.old.resolve(o.Payload).last().spec.Fields, d.new.resolve(n.Payload).last().spec.Fields
	switch {
	case len(of) == 0 && len(nf) > 0:
		d.add(&Finding{Rule: "payload-added", Subject: eventSubject(n), Change: "payload added: " + fieldNames(nf), Pos: eventKeyPos(n, "payload"), OldPos: o.Pos,
			Effects: []Effect{{Use: n.Name + " payload", Flow: Input, Breaks: OldClients,
				Why: "old clients may emit it without an argument; the new server decodes an object and answers invalid-payload"}}})
	case len(of) > 0 && len(nf) == 0:
		d.add(&Finding{Rule: "payload-removed", Subject: eventSubject(n), Change: "payload removed: " + fieldNames(of), Pos: n.Pos, OldPos: eventKeyPos(o, "payload"), Gone: true,
			Effects: []Effect{{Use: n.Name + " payload", Flow: Input, Breaks: OldServers,
				Why: "new clients may emit it without an argument; old servers decode an object and answer invalid-payload"}}})
	default:
		d.payload(o, n)
	}
}

func fieldNames(fields []*schema.Field) string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return list(names)
}

// reply compares the data of the ack. Every client event may be acked; a reply
// adds "data" to the {"ok":true} envelope.
func (d *differ) reply(o, n *schema.Event) {
	switch {
	case o.Reply == nil && n.Reply == nil:
	case o.Reply == nil:
		d.add(&Finding{Rule: "reply-added", Subject: eventSubject(n), Change: "reply added", Pos: eventKeyPos(n, "reply"), OldPos: o.Pos,
			Effects: []Effect{
				{Use: n.Name + " reply", Flow: Output, Why: "old clients ignore the data in the ack"},
				{Use: n.Name + " reply", Flow: Output, Breaks: OldServers, Why: `new clients expect data in the ack; old servers answer {"ok":true} without it`},
			}})
	case n.Reply == nil:
		d.add(&Finding{Rule: "reply-removed", Subject: eventSubject(n), Change: "reply removed", Pos: n.Pos, OldPos: eventKeyPos(o, "reply"), Gone: true,
			Effects: []Effect{{Use: n.Name + " reply", Flow: Output, Breaks: OldClients, Why: `old clients expect data in the ack; the new server answers {"ok":true} without it`}}})
	default:
		u := use{name: n.Name + " reply", subject: eventSubject(n) + " reply", flow: Output}
		d.value(at{use: u}, d.old.resolve(o.Reply), d.new.resolve(n.Reply))
	}
}

// errorCodes compares the codes an event may fail with.
func (d *differ) errorCodes(o, n *schema.Event) {
	d.codes(eventSubject(n), o.Errors, n.Errors, eventKeyPos(n, "errors"), "")
}

// codes compares the error codes an event or the handshake may fail with. The
// runtime answers a code that is not declared there with "internal", so a removed
// code stops reaching the clients that handle it. pos is where NEW lists them;
// via says how clients receive a code, e.g. "in connect_error" ("" for the ack).
func (d *differ) codes(subject string, o, n []schema.ErrorRef, pos schema.Pos, via string) {
	has := func(refs []schema.ErrorRef, code string) bool {
		return slices.ContainsFunc(refs, func(x schema.ErrorRef) bool { return x.Code == code })
	}
	if via != "" {
		via = " " + via
	}
	for _, r := range o {
		if !has(n, r.Code) {
			d.add(&Finding{Rule: "error-code-removed", Subject: subject, Change: fmt.Sprintf("error code %q removed", r.Code),
				Pos: pos, OldPos: r.Pos, Gone: true,
				Effects: []Effect{{Flow: Output, Breaks: OldClients,
					Why: fmt.Sprintf("old clients that handle %q%s no longer get it: the new server answers internal where a handler still returns it", r.Code, via)}}})
		}
	}
	for _, r := range n {
		if !has(o, r.Code) {
			d.add(&Finding{Rule: "error-code-added", Subject: subject, Change: fmt.Sprintf("error code %q added", r.Code), Pos: r.Pos,
				Effects: []Effect{{Flow: Output, Why: "old clients get a code they do not know" + via + ", with its message, as they get runtime codes"}}})
		}
	}
}

func (d *differ) timeout(o, n *schema.Event) {
	if o.Timeout != n.Timeout {
		d.add(&Finding{Rule: "timeout-changed", Subject: eventSubject(n), Change: "timeout " + duration(o) + " -> " + duration(n),
			Pos: eventKeyPos(n, "timeout"), OldPos: eventKeyPos(o, "timeout")})
	}
}

func duration(ev *schema.Event) string {
	if ev.Timeout == 0 {
		return "default"
	}
	return ev.Timeout.String()
}

// targetText says where a target delivers an event, for old clients' point of view.
var targetText = map[string]string{
	schema.ToSocket: "on the socket whose event or connection the server is handling",
	schema.ToAll:    "on every socket",
	schema.ToRoom:   "in the rooms they joined",
	schema.ToOthers: "when another socket caused it",
}

// target describes a target of ev in x: a room kind's rooms, or targetText.
func (x *index) targetText(t string) string {
	if r, others := x.roomTarget(t); r != nil {
		if others {
			return fmt.Sprintf("in the %s rooms they joined when another member caused it", r.Name)
		}
		return fmt.Sprintf("in the %s rooms they joined", r.Name)
	}
	return targetText[t]
}

// roomTarget returns the kind a target names ("chat", "chat.others") and whether it is the others form.
func (x *index) roomTarget(t string) (*schema.Room, bool) {
	name, others := strings.CutSuffix(t, schema.OthersSuffix)
	if r := x.rooms[name]; r != nil {
		return r, others
	}
	return nil, false
}

// targets compares where a server event is sent: a removed target means some
// clients no longer receive it. For a client a room kind's room is a room: "room"
// replaced by a kind ("chat"), "others" by a kind's others ("chat.others"), and
// back, change the server's code, not what clients receive.
func (d *differ) targets(o, n *schema.Event) {
	pos, oldPos := eventKeyPos(n, "to"), eventKeyPos(o, "to")
	removed := slices.DeleteFunc(slices.Clone(o.To), func(t string) bool { return slices.Contains(n.To, t) })
	added := slices.DeleteFunc(slices.Clone(n.To), func(t string) bool { return slices.Contains(o.To, t) })
	// free is "room" or "others"; kind reports whether a target is a kind in x of that form.
	kindOf := func(x *index, free string) func(string) bool {
		return func(t string) bool {
			r, others := x.roomTarget(t)
			return r != nil && others == (free == schema.ToOthers)
		}
	}
	paired := map[string]bool{}
	moved := func(from, to string) {
		paired[from], paired[to] = true, true
		why := "a room kind's rooms are rooms on the wire: clients get it in the same rooms as before; only the server's code changes"
		if from != schema.ToRoom && from != schema.ToOthers && to != schema.ToRoom && to != schema.ToOthers {
			why = "the kind is renamed (OLD's is gone, NEW's is new); its rooms are rooms on the wire: clients get it in the same rooms as before"
		}
		if from == schema.ToOthers || to == schema.ToOthers {
			why = "a kind's others are others within one of its rooms, as a room event reaches the members but the sender: " +
				"the wire is the same; only the server's code changes"
		}
		d.add(&Finding{Rule: "to-room-kind", Subject: eventSubject(n), Change: fmt.Sprintf("target %q -> %q", from, to), Pos: pos, OldPos: oldPos,
			Effects: []Effect{{Flow: Output, Why: why}}})
	}
	for _, free := range []string{schema.ToRoom, schema.ToOthers} {
		switch {
		case slices.Contains(removed, free):
			for _, t := range added {
				if kindOf(d.new, free)(t) {
					moved(free, t)
				}
			}
		case slices.Contains(added, free):
			for _, t := range removed {
				if kindOf(d.old, free)(t) {
					moved(t, free)
				}
			}
		}
	}
	// A kind renamed: a target of a kind OLD has and NEW lacks, replaced by one of a kind NEW adds.
	for _, t := range removed {
		r, others := d.old.roomTarget(t)
		if r == nil || d.new.rooms[r.Name] != nil || paired[t] {
			continue
		}
		for _, u := range added {
			if nr, nothers := d.new.roomTarget(u); nr != nil && nothers == others && d.old.rooms[nr.Name] == nil && !paired[u] {
				moved(t, u)
				break
			}
		}
	}
	for _, t := range removed {
		if paired[t] {
			continue
		}
		if r, others := d.old.roomTarget(t); r != nil {
			e := Effect{Flow: Output, Breaks: OldClients, Why: "old clients no longer get it " + d.old.targetText(t)}
			if others && slices.Contains(n.To, r.Name) && d.new.rooms[r.Name] != nil {
				e = Effect{Flow: Output, Why: fmt.Sprintf("it is still sent to every member of its %s rooms (%q), the sender included", r.Name, r.Name)}
			}
			d.add(&Finding{Rule: "room-event-removed", Subject: eventSubject(n), Change: fmt.Sprintf("target %q removed", t), Pos: pos, OldPos: oldPos,
				Effects: []Effect{e}})
			continue
		}
		d.add(&Finding{Rule: "to-narrowed", Subject: eventSubject(n), Change: fmt.Sprintf("target %q removed", t), Pos: pos, OldPos: oldPos,
			Effects: []Effect{{Flow: Output, Breaks: OldClients, Why: "old clients that expect it " + targetText[t] + " no longer get it"}}})
	}
	for _, t := range added {
		if paired[t] {
			continue
		}
		rule := "to-widened"
		if r, _ := d.new.roomTarget(t); r != nil {
			rule = "room-event-added"
		}
		d.add(&Finding{Rule: rule, Subject: eventSubject(n), Change: fmt.Sprintf("target %q added", t), Pos: pos, OldPos: oldPos,
			Effects: []Effect{{Flow: Output, Why: "old clients now also get it " + d.new.targetText(t) + "; check they do not assume otherwise"}}})
	}
}
