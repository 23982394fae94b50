// Package review tells a reviewer what a schema change does and what a schema
// should fix, without reading generated code.
//
// Diff compares two checked schemas and classifies every change by whom it
// breaks: clients already installed on phones (built from OLD) talking to the
// new server, or clients built from NEW talking to servers still running OLD
// (a rolling deploy, a rollback). Lint reports naming, documentation and
// consistency problems in one schema. Both read the schema AST, whose
// positions let every finding point at a line.
package review

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/karl-app/karl/schema"
)

// Impact says whom a change breaks; zero is safe.
type Impact uint8

const (
	OldClients Impact = 1 << iota // clients built from OLD talking to a server built from NEW
	OldServers                    // clients built from NEW talking to a server still built from OLD
)

// Flow is the way a value travels. Named types are used both ways: each use has its own flow.
type Flow int

const (
	Input  Flow = iota // client -> server: client event payloads, the handshake auth
	Output             // server -> client: server event payloads, replies, error codes
)

func (f Flow) String() string {
	if f == Input {
		return "client -> server"
	}
	return "server -> client"
}

// Finding is one change between OLD and NEW.
type Finding struct {
	Rule    string     // the kind of change, e.g. "max-length"; the golden corpus has a case per rule
	Subject string     // what changed, e.g. `type "Username"`, `client event "logout"`
	Change  string     // how it changed, e.g. "maxLength 32 -> 24"
	Effects []Effect   // what the change does where the value travels; empty for doc changes
	Pos     schema.Pos // in NEW: the element, or where it was when it was removed
	OldPos  schema.Pos // in OLD: the element, when it existed there
	Gone    bool       // the element is not in NEW (removed or renamed): Pos is where it stood
}

// Effect is what a finding does at one use of the changed element.
type Effect struct {
	Use    string // where the value travels, e.g. "set-username payload.username"; empty: the subject itself
	Flow   Flow
	Breaks Impact
	Why    string // the consequence, e.g. "old clients may send values the new server refuses"
}

// Impact is the union of the finding's effects.
func (f *Finding) Impact() Impact {
	var i Impact
	for _, e := range f.Effects {
		i |= e.Breaks
	}
	return i
}

// Report is the outcome of Diff.
type Report struct {
	OldFile, NewFile       string // as the schemas name them in positions
	OldVersion, NewVersion string
	Findings               []*Finding // breaking first, then by position in NEW
}

// Breaking counts the findings that break someone.
func (r *Report) Breaking() int {
	n := 0
	for _, f := range r.Findings {
		if f.Impact() != 0 {
			n++
		}
	}
	return n
}

// MajorBump reports whether NEW raised the major version of OLD, which allows breaking changes.
func (r *Report) MajorBump() bool {
	return major(r.NewVersion) > major(r.OldVersion)
}

// Failed reports whether the change breaks someone without a major version bump.
func (r *Report) Failed() bool { return r.Breaking() > 0 && !r.MajorBump() }

func major(version string) int {
	n, err := strconv.Atoi(strings.SplitN(version, ".", 2)[0])
	if err != nil {
		return -1
	}
	return n
}

// Diff compares two checked schemas.
func Diff(oldSchema, newSchema *schema.Schema) *Report {
	d := &differ{old: newIndex(oldSchema), new: newIndex(newSchema), merged: map[string]*Finding{}}
	d.header()
	d.auth()
	d.events()
	d.rooms()
	d.errorMessages()
	d.typeDecls()
	r := &Report{OldFile: oldSchema.File, NewFile: newSchema.File, OldVersion: oldSchema.Version, NewVersion: newSchema.Version}
	r.Findings = d.findings
	slices.SortStableFunc(r.Findings, compareFindings)
	return r
}

func compareFindings(a, b *Finding) int {
	if ba, bb := a.Impact() != 0, b.Impact() != 0; ba != bb {
		if ba {
			return -1
		}
		return 1
	}
	return cmp.Or(
		cmp.Compare(a.Pos.Line, b.Pos.Line),
		cmp.Compare(a.Pos.Col, b.Pos.Col),
		cmp.Compare(a.OldPos.Line, b.OldPos.Line),
		cmp.Compare(a.Subject, b.Subject),
		cmp.Compare(a.Change, b.Change),
	)
}

// differ collects findings. A change inside a named type is found once per use;
// add merges those into one finding whose effects list every use.
type differ struct {
	old, new *index
	findings []*Finding
	merged   map[string]*Finding // by subject, change and position
}

func (d *differ) add(f *Finding) {
	if f.Pos.Line == 0 { // a removed section: point at the schema
		f.Pos = d.new.s.Pos
	}
	d.roomFinding(f)
	key := f.Rule + "\x00" + f.Subject + "\x00" + f.Change + "\x00" + posKey(f.Pos) + "\x00" + posKey(f.OldPos)
	if prev, ok := d.merged[key]; ok {
		for _, e := range f.Effects {
			if !slices.Contains(prev.Effects, e) {
				prev.Effects = append(prev.Effects, e)
			}
		}
		return
	}
	d.merged[key] = f
	d.findings = append(d.findings, f)
}

func posKey(p schema.Pos) string {
	return p.File + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
}

// index gives names to the parts of one schema.
type index struct {
	s      *schema.Schema
	types  map[string]*schema.TypeDef
	events map[string]*schema.Event
	codes  map[string]*schema.ErrorDef
	rooms  map[string]*schema.Room
}

func newIndex(s *schema.Schema) *index {
	x := &index{s: s, types: map[string]*schema.TypeDef{}, events: map[string]*schema.Event{}, codes: map[string]*schema.ErrorDef{}, rooms: map[string]*schema.Room{}}
	for _, t := range s.Types {
		x.types[t.Name] = t
	}
	for _, ev := range slices.Concat(s.Client, s.Server) {
		x.events[ev.Name] = ev
	}
	for _, e := range s.Errors {
		x.codes[e.Code] = e
	}
	for _, r := range s.Rooms {
		x.rooms[r.Name] = r
	}
	return x
}

// header compares what applies to the whole schema: its name and its namespace.
func (d *differ) header() {
	o, n := d.old.s, d.new.s
	if o.Namespace != n.Namespace {
		d.add(&Finding{Rule: "namespace-changed", Subject: "namespace", Change: quoteChange(o.Namespace, n.Namespace),
			Pos: topPos(n, "namespace"), OldPos: topPos(o, "namespace"),
			Effects: []Effect{
				{Flow: Input, Breaks: OldClients, Why: "old clients connect to " + strconv.Quote(o.Namespace) + ", which the new server does not serve"},
				{Flow: Input, Breaks: OldServers, Why: "new clients connect to " + strconv.Quote(n.Namespace) + ", which old servers do not serve"},
			}})
	}
	if o.Name != n.Name {
		d.add(&Finding{Rule: "doc-changed", Subject: "schema", Change: "name " + quoteChange(o.Name, n.Name), Pos: topPos(n, "schema"), OldPos: topPos(o, "schema")})
	}
	if o.Doc != n.Doc {
		d.add(&Finding{Rule: "doc-changed", Subject: "schema", Change: "doc changed", Pos: topPos(n, "doc"), OldPos: topPos(o, "doc")})
	}
}

// topPos is the position of a top-level value, or of the document when the key is not written.
func topPos(s *schema.Schema, key string) schema.Pos {
	if p, ok := s.KeyPos[key]; ok {
		return p
	}
	return s.Pos
}

// auth compares the handshake auth: an input the server reads before any event,
// and the codes a refused handshake may carry, an output like events' codes.
func (d *differ) auth() {
	o, n := d.old.s, d.new.s
	u := use{name: "auth", subject: "auth", flow: Input, refused: "the handshake fails with connect_error"}
	d.fields(at{use: u}, o.Auth, n.Auth, n.AuthPos)
	d.codes("auth", o.AuthErrors, n.AuthErrors, authKeyPos(n, "errors"), "in connect_error")
	if o.AuthDoc != n.AuthDoc {
		d.add(&Finding{Rule: "doc-changed", Subject: "auth", Change: "doc changed", Pos: authKeyPos(n, "doc"), OldPos: authKeyPos(o, "doc")})
	}
}

// authKeyPos is the position of a key of auth's long form, else of auth, else of the document.
func authKeyPos(s *schema.Schema, key string) schema.Pos {
	if p, ok := s.AuthKeyPos[key]; ok {
		return p
	}
	return topPos(s, "auth")
}

// errorMessages reports changed default messages of declared error codes.
// Codes added to or removed from events are compared with the events.
func (d *differ) errorMessages() {
	for _, n := range d.new.s.Errors {
		if o := d.old.codes[n.Code]; o != nil && o.Message != n.Message {
			d.add(&Finding{Rule: "doc-changed", Subject: "error " + strconv.Quote(n.Code), Change: "message changed", Pos: n.Pos, OldPos: o.Pos})
		}
	}
}

// typeDecls reports the doc and deprecation changes of named types; what their
// constraints and fields do is found at each use, with its flow.
func (d *differ) typeDecls() {
	for _, n := range d.new.s.Types {
		o := d.old.types[n.Name]
		if o == nil {
			continue
		}
		subject := "type " + strconv.Quote(n.Name)
		d.annotations(subject, o.Spec, n.Spec, n.Pos, o.Pos)
	}
}

// annotations reports doc and deprecation changes, which are always safe.
func (d *differ) annotations(subject string, o, n *schema.Spec, pos, oldPos schema.Pos) {
	if o.Deprecated != n.Deprecated {
		f := &Finding{Rule: "deprecated", Subject: subject, Pos: keyPos(n, "deprecated", pos), OldPos: keyPos(o, "deprecated", oldPos)}
		d.add(deprecation(f, o.Deprecated, n.Deprecated))
	}
	if o.Doc != n.Doc {
		d.add(&Finding{Rule: "doc-changed", Subject: subject, Change: "doc changed", Pos: keyPos(n, "doc", pos), OldPos: keyPos(o, "doc", oldPos)})
	}
}

func deprecation(f *Finding, o, n string) *Finding {
	switch {
	case o == "":
		f.Change = "deprecated: " + n
	case n == "":
		f.Change = "no longer deprecated"
	default:
		f.Change = "deprecation note changed"
	}
	return f
}

// keyPos is the position of key in sp, or def when sp does not write it.
func keyPos(sp *schema.Spec, key string, def schema.Pos) schema.Pos {
	if p, ok := sp.KeyPos[key]; ok {
		return p
	}
	return def
}

func quoteChange(o, n string) string { return strconv.Quote(o) + " -> " + strconv.Quote(n) }
