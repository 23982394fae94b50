package review

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/karl-app/karl/schema"
)

// A value is compared at a use (an event payload, a reply, the auth), with the
// flow of that use: the same change narrows what a server accepts on input and
// what a client accepts on output, and so breaks different peers.

// use is where a value travels.
type use struct {
	name    string // e.g. "set-username payload"
	subject string // e.g. `client event "set-username" payload`
	flow    Flow
	refused string // what happens to an input the server refuses, e.g. "the event fails with invalid-payload"
}

// at is a value's place: its use, its path from the use and, when it is written in
// a named type, the path from that type, which names the finding.
type at struct {
	use     use
	path    string // from the use, e.g. "profile.username"
	owner   string // the named type the value is written in; "" when written at the use
	inOwner string // path from owner
}

func (a at) usePath() string { return dot(a.use.name, a.path) }

// subject names the value where it is written: `type "Profile": username`, or
// `client event "set-username" payload.username` for a value written at its use.
func (a at) subject() string {
	if a.owner == "" {
		return dot(a.use.subject, a.path)
	}
	s := fmt.Sprintf("type %q", a.owner)
	if a.inOwner != "" {
		s += ": " + a.inOwner
	}
	return s
}

func (a at) field(name string) at {
	a.path = dot(a.path, name)
	a.inOwner = dot(a.inOwner, name)
	return a
}

func (a at) items() at {
	a.path += "[]"
	a.inOwner += "[]"
	return a
}

// into enters a named type that both sides use at this place.
func (a at) into(name string) at {
	a.owner, a.inOwner = name, ""
	return a
}

// dot appends a field name to a path: "payload" + "username" -> "payload.username".
func dot(path, name string) string {
	switch {
	case path == "":
		return name
	case name == "":
		return path
	}
	return path + "." + name
}

// compat is how the set of values NEW accepts relates to the one OLD accepts.
type compat int

const (
	neutral  compat = iota // the same values
	narrowed               // NEW accepts fewer values
	widened                // NEW accepts more values
	changed                // neither contains the other
)

// effects says whom a change of compatibility c breaks at a, and why.
func (a at) effects(c compat) []Effect {
	in := a.use.flow == Input
	switch {
	case c == narrowed && in:
		return []Effect{a.breaks(OldClients, "old clients may send values the new server refuses; "+a.use.refused)}
	case c == widened && in:
		return []Effect{a.breaks(OldServers, "new clients may send values old servers refuse; "+a.use.refused)}
	case c == widened:
		return []Effect{a.breaks(OldClients, "the new server may send values old clients refuse")}
	case c == narrowed:
		return []Effect{a.breaks(OldServers, "old servers may send values new clients refuse")}
	case c == changed:
		return slices.Concat(a.effects(narrowed), a.effects(widened))
	}
	return []Effect{a.breaks(0, "")}
}

func (a at) breaks(i Impact, why string) Effect {
	return Effect{Use: a.usePath(), Flow: a.use.flow, Breaks: i, Why: why}
}

// link is one step from a use to a builtin type: the spec written at the use,
// then the body of each named type it refers to.
type link struct {
	spec *schema.Spec
	typ  *schema.TypeDef // nil for the spec written at the use
}

type chain []link

// resolve follows named types from sp down to a builtin. The loader refuses cycles.
func (x *index) resolve(sp *schema.Spec) chain {
	c := chain{{spec: sp}}
	for range len(x.types) {
		t := x.types[c[len(c)-1].spec.Type]
		if t == nil {
			break
		}
		c = append(c, link{spec: t.Spec, typ: t})
	}
	return c
}

// kind is the builtin type at the end of the chain.
func (c chain) kind() string { return c.last().spec.Type }

func (c chain) last() link { return c[len(c)-1] }

// named is the first named type the use refers to; "" for a value written inline.
func (c chain) named() string {
	if len(c) > 1 {
		return c[1].typ.Name
	}
	return ""
}

// where returns the outermost link that writes key: a constraint written on a
// named type applies unless a type referring to it writes its own.
func (c chain) where(key string) (link, bool) {
	for _, l := range c {
		if _, ok := l.spec.KeyPos[key]; ok {
			return l, true
		}
	}
	return link{}, false
}

func (c chain) has(typeName string) bool {
	return slices.ContainsFunc(c, func(l link) bool { return l.typ != nil && l.typ.Name == typeName })
}

// items is the element spec of an array.
func (c chain) items() *schema.Spec {
	for _, l := range c {
		if l.spec.Items != nil {
			return l.spec.Items
		}
	}
	return nil
}

// value compares the value at a in OLD (o) with the one in NEW (n).
func (d *differ) value(a at, o, n chain) {
	if o.named() != n.named() {
		d.add(&Finding{Rule: "type-reference", Subject: a.subject(), Change: "refers to " + typeLabel(o) + " -> " + typeLabel(n),
			Pos: n[0].spec.Pos, OldPos: o[0].spec.Pos})
	}
	if !d.kind(a, o, n) {
		return
	}
	for _, b := range bounds {
		d.bound(a, o, n, b)
	}
	d.text(a, o, n, "pattern", func(sp *schema.Spec) string { return sp.Pattern })
	d.text(a, o, n, "format", func(sp *schema.Spec) string { return sp.Format })
	d.enum(a, o, n)
	d.preprocess(a, o, n, "trim", func(sp *schema.Spec) bool { return sp.Trim })
	d.preprocess(a, o, n, "normalize", func(sp *schema.Spec) bool { return sp.Normalize != "" })
	switch n.kind() {
	case schema.Array:
		if oi, ni := o.items(), n.items(); oi != nil && ni != nil {
			d.value(a.items(), d.old.resolve(oi), d.new.resolve(ni))
		}
	case schema.Object:
		if ol, nl := o.last(), n.last(); ol.typ != nil && nl.typ != nil && ol.typ.Name == nl.typ.Name {
			a = a.into(nl.typ.Name)
		}
		d.fields(a, o.last().spec.Fields, n.last().spec.Fields, n.last().spec.Pos)
	}
}

func typeLabel(c chain) string {
	if name := c.named(); name != "" {
		return "type " + strconv.Quote(name)
	}
	return "an inline " + c.kind()
}

// kind reports a change of builtin type and whether the constraints can still be compared.
func (d *differ) kind(a at, o, n chain) bool {
	ok, nk := o.kind(), n.kind()
	if ok == nk {
		return true
	}
	c := kindCompat(ok, nk)
	f := d.placed(a, "type-changed", o, n, o.last(), n.last(), "type")
	f.Change = fmt.Sprintf("type %s -> %s", ok, nk)
	f.Effects = a.effects(c)
	if c == neutral {
		f.Effects[0].Why = "both are integers on the wire; only their meaning changed"
	}
	d.add(f)
	return c != changed
}

// kindCompat relates builtin types: integers are numbers, timestamps are integers on the wire.
func kindCompat(o, n string) compat {
	integer := func(k string) bool { return k == schema.Integer || k == schema.Timestamp }
	switch {
	case integer(o) && integer(n):
		return neutral
	case integer(o) && n == schema.Number:
		return widened
	case o == schema.Number && integer(n):
		return narrowed
	}
	return changed
}

// placed starts a finding about a key of a value written in ol (OLD) and nl (NEW):
// it is named after the type that writes it when both sides use that type, else
// after the use, and points at the key in NEW, or at the spec that lost it.
func (d *differ) placed(a at, rule string, o, n chain, ol, nl link, key string) *Finding {
	f := &Finding{Rule: rule, Subject: a.subject(), Pos: n[0].spec.Pos, OldPos: o[0].spec.Pos}
	writer := nl
	if writer.spec == nil {
		writer = ol
	}
	if t := writer.typ; t != nil && o.has(t.Name) && n.has(t.Name) {
		f.Subject = fmt.Sprintf("type %q", t.Name)
		f.Pos = d.new.types[t.Name].Pos
		f.OldPos = d.old.types[t.Name].Pos
	}
	if nl.spec != nil {
		f.Pos = keyPos(nl.spec, key, nl.spec.Pos)
	}
	if ol.spec != nil {
		f.OldPos = keyPos(ol.spec, key, ol.spec.Pos)
	}
	return f
}

// bound is a constraint that limits values from below or from above.
type bound struct {
	key   string
	rule  string
	upper bool
	get   func(*schema.Spec) (float64, bool)
}

var bounds = []bound{
	{"minLength", "min-length", false, intBound(func(sp *schema.Spec) *int { return sp.MinLength })},
	{"maxLength", "max-length", true, intBound(func(sp *schema.Spec) *int { return sp.MaxLength })},
	{"min", "min", false, floatBound(func(sp *schema.Spec) *float64 { return sp.Min })},
	{"max", "max", true, floatBound(func(sp *schema.Spec) *float64 { return sp.Max })},
	{"minItems", "min-items", false, intBound(func(sp *schema.Spec) *int { return sp.MinItems })},
	{"maxItems", "max-items", true, intBound(func(sp *schema.Spec) *int { return sp.MaxItems })},
}

func intBound(f func(*schema.Spec) *int) func(*schema.Spec) (float64, bool) {
	return func(sp *schema.Spec) (float64, bool) {
		if p := f(sp); p != nil {
			return float64(*p), true
		}
		return 0, false
	}
}

func floatBound(f func(*schema.Spec) *float64) func(*schema.Spec) (float64, bool) {
	return func(sp *schema.Spec) (float64, bool) {
		if p := f(sp); p != nil {
			return *p, true
		}
		return 0, false
	}
}

func (d *differ) bound(a at, o, n chain, b bound) {
	ol, oHas := o.where(b.key)
	nl, nHas := n.where(b.key)
	var ov, nv float64
	if oHas {
		ov, oHas = b.get(ol.spec)
	}
	if nHas {
		nv, nHas = b.get(nl.spec)
	}
	zeroIsNone := strings.HasPrefix(b.key, "min") && b.key != "min" // minLength: 0 limits nothing
	if zeroIsNone {
		oHas, nHas = oHas && ov > 0, nHas && nv > 0
	}
	var c compat
	var change string
	switch {
	case !oHas && !nHas, oHas && nHas && ov == nv:
		return
	case !oHas:
		c, change = narrowed, fmt.Sprintf("%s %s added", b.key, num(nv))
	case !nHas:
		c, change = widened, fmt.Sprintf("%s %s removed", b.key, num(ov))
	default:
		c, change = widened, fmt.Sprintf("%s %s -> %s", b.key, num(ov), num(nv))
		if (nv < ov) == b.upper {
			c = narrowed
		}
	}
	f := d.placed(a, b.rule, o, n, ol, nl, b.key)
	f.Change = change
	f.Effects = a.effects(c)
	d.add(f)
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// text compares a constraint written as text (pattern, format): adding one narrows,
// removing one widens, and changing one is both, since neither contains the other.
func (d *differ) text(a at, o, n chain, key string, get func(*schema.Spec) string) {
	ol, oHas := o.where(key)
	nl, nHas := n.where(key)
	var ov, nv string
	if oHas {
		ov = get(ol.spec)
	}
	if nHas {
		nv = get(nl.spec)
	}
	if ov == nv {
		return
	}
	var c compat
	var change string
	switch {
	case ov == "":
		c, change = narrowed, fmt.Sprintf("%s %q added", key, nv)
	case nv == "":
		c, change = widened, fmt.Sprintf("%s %q removed", key, ov)
	default:
		c, change = changed, fmt.Sprintf("%s %q -> %q", key, ov, nv)
	}
	f := d.placed(a, key, o, n, ol, nl, key)
	f.Change = change
	f.Effects = a.effects(c)
	d.add(f)
}

// enum reports removed values (narrowed) and added values (widened) separately:
// each breaks a different peer.
func (d *differ) enum(a at, o, n chain) {
	ol, oHas := o.where("enum")
	nl, nHas := n.where("enum")
	switch {
	case !oHas && !nHas:
		return
	case !oHas:
		d.enumChange(a, o, n, ol, nl, narrowed, fmt.Sprintf("enum %s added", list(nl.spec.Enum)))
		return
	case !nHas:
		d.enumChange(a, o, n, ol, nl, widened, fmt.Sprintf("enum %s removed", list(ol.spec.Enum)))
		return
	}
	if gone := minus(ol.spec.Enum, nl.spec.Enum); len(gone) > 0 {
		d.enumChange(a, o, n, ol, nl, narrowed, "enum values removed: "+list(gone))
	}
	if added := minus(nl.spec.Enum, ol.spec.Enum); len(added) > 0 {
		d.enumChange(a, o, n, ol, nl, widened, "enum values added: "+list(added))
	}
}

func (d *differ) enumChange(a at, o, n chain, ol, nl link, c compat, change string) {
	f := d.placed(a, "enum", o, n, ol, nl, "enum")
	f.Change = change
	f.Effects = a.effects(c)
	d.add(f)
}

// minus lists the values of a missing from b, in a's order.
func minus(a, b []string) []string {
	var out []string
	for _, v := range a {
		if !slices.Contains(b, v) {
			out = append(out, v)
		}
	}
	return out
}

func list(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = strconv.Quote(v)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// preprocess compares trim and normalize, which matter on input only: the server
// trims and normalizes what it receives before checking it.
func (d *differ) preprocess(a at, o, n chain, key string, on func(*schema.Spec) bool) {
	ol, oHas := o.where(key)
	nl, nHas := n.where(key)
	ot, nt := oHas && on(ol.spec), nHas && on(nl.spec)
	if ot == nt {
		return
	}
	f := d.placed(a, key, o, n, ol, nl, key)
	c := widened // the server now trims (normalizes), so it accepts more values as one
	f.Change = key + " added"
	if ot {
		c, f.Change = narrowed, key+" removed"
	}
	why := key + " applies to what the server receives"
	if a.use.flow == Output {
		c = neutral
	}
	if key == "normalize" { // no spelling is refused either way; which spellings are one value changes
		c, why = neutral, "normalization changes which spellings are the same value, not which are accepted"
	}
	f.Effects = a.effects(c)
	if c == neutral {
		f.Effects[0].Why = why
	}
	d.add(f)
}

// fields compares the fields of an object. parent is where the object is written in NEW.
func (d *differ) fields(a at, o, n []*schema.Field, parent schema.Pos) {
	for i, of := range o {
		nf := findField(n, of.Name)
		if nf == nil {
			d.fieldRemoved(a, of, removedPos(o, n, i, parent))
			continue
		}
		d.field(a.field(of.Name), of, nf)
	}
	for _, nf := range n {
		if findField(o, nf.Name) == nil {
			d.fieldAdded(a, nf)
		}
	}
}

func findField(fields []*schema.Field, name string) *schema.Field {
	for _, f := range fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// removedPos points at the field that now stands where o[i] was removed (the
// next one kept, else the previous one), so an annotation lands on the diff hunk.
func removedPos(o, n []*schema.Field, i int, parent schema.Pos) schema.Pos {
	for _, f := range slices.Concat(o[i+1:], reversed(o[:i])) {
		if nf := findField(n, f.Name); nf != nil {
			return nf.Pos
		}
	}
	return parent
}

func reversed[T any](s []T) []T {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}

func (d *differ) field(a at, o, n *schema.Field) {
	if o.Optional != n.Optional {
		rule, change := "field-required", "optional -> required"
		if n.Optional {
			rule, change = "field-optional", "required -> optional"
		}
		f := &Finding{Rule: rule, Subject: a.subject(), Change: change, Pos: keyPos(n.Spec, "optional", n.Pos), OldPos: keyPos(o.Spec, "optional", o.Pos)}
		f.Effects = []Effect{presence(a, rule)}
		d.add(f)
	}
	d.annotations(a.subject(), o.Spec, n.Spec, n.Pos, o.Pos)
	d.value(a, d.old.resolve(o.Spec), d.new.resolve(n.Spec))
}

func (d *differ) fieldAdded(a at, n *schema.Field) {
	rule, req := "field-added", "optional"
	if !n.Optional {
		req = "required"
	}
	f := &Finding{Rule: rule, Subject: a.subject(), Change: fmt.Sprintf("%s field %q added", req, n.Name), Pos: n.Pos}
	f.Effects = []Effect{presence(a.field(n.Name), rule+"-"+req)}
	d.add(f)
}

func (d *differ) fieldRemoved(a at, o *schema.Field, pos schema.Pos) {
	rule, req := "field-removed", "optional"
	if !o.Optional {
		req = "required"
	}
	f := &Finding{Rule: rule, Subject: a.subject(), Change: fmt.Sprintf("%s field %q removed", req, o.Name), Pos: pos, OldPos: o.Pos, Gone: true}
	f.Effects = []Effect{presence(a.field(o.Name), rule+"-"+req)}
	d.add(f)
}

// presenceEffects says, for a change of whether a field is sent, whom it breaks on
// input and on output, and why. The input texts end with what the server does.
var presenceEffects = map[string][2]struct {
	breaks Impact
	why    string
}{
	"field-added-required":   {{OldClients, "old clients do not send it; the new server requires it"}, {OldServers, "old servers do not send it; new clients require it"}},
	"field-added-optional":   {{0, "old clients do not send it; old servers ignore it"}, {0, "old clients ignore it"}},
	"field-removed-required": {{OldServers, "new clients no longer send it; old servers require it"}, {OldClients, "old clients require it; the new server no longer sends it"}},
	"field-removed-optional": {{0, "the new server ignores it when old clients still send it"}, {0, "old clients already handle its absence"}},
	"field-required":         {{OldClients, "old clients may omit it; the new server requires it"}, {OldServers, "old servers may omit it; new clients require it"}},
	"field-optional":         {{OldServers, "new clients may omit it; old servers require it"}, {OldClients, "the new server may omit it; old clients require it"}},
}

func presence(a at, rule string) Effect {
	p := presenceEffects[rule][a.use.flow]
	why := p.why
	if p.breaks != 0 && a.use.flow == Input {
		why += "; " + a.use.refused
	}
	return a.breaks(p.breaks, why)
}

// shape is a canonical text of the wire form of a value: kinds, constraints and
// fields, without docs or type names. Two events with the same shape are a rename.
func (x *index) shape(sp *schema.Spec) string {
	if sp == nil {
		return "-"
	}
	c := x.resolve(sp)
	var b strings.Builder
	b.WriteString(c.kind())
	for _, key := range []string{"minLength", "maxLength", "pattern", "enum", "format", "trim", "normalize", "min", "max", "minItems", "maxItems"} {
		if l, ok := c.where(key); ok {
			fmt.Fprintf(&b, " %s=%v", key, constraintValue(l.spec, key))
		}
	}
	if items := c.items(); items != nil {
		b.WriteString(" items(" + x.shape(items) + ")")
	}
	fields := slices.Clone(c.last().spec.Fields)
	slices.SortFunc(fields, func(a, b *schema.Field) int { return strings.Compare(a.Name, b.Name) })
	for _, f := range fields {
		fmt.Fprintf(&b, " %s%s(%s)", f.Name, map[bool]string{true: "?", false: ""}[f.Optional], x.shape(f.Spec))
	}
	return b.String()
}

func constraintValue(sp *schema.Spec, key string) any {
	switch key {
	case "minLength":
		return *sp.MinLength
	case "maxLength":
		return *sp.MaxLength
	case "pattern":
		return sp.Pattern
	case "enum":
		return sp.Enum
	case "format":
		return sp.Format
	case "trim":
		return sp.Trim
	case "normalize":
		return sp.Normalize
	case "min":
		return *sp.Min
	case "max":
		return *sp.Max
	case "minItems":
		return *sp.MinItems
	}
	return *sp.MaxItems
}
