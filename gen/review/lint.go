package review

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/karl-app/karl/gen/model"
	"github.com/karl-app/karl/schema"
)

// Severity says whether a lint problem fails the lint.
type Severity int

const (
	Error   Severity = iota // fails the lint
	Warning                 // reported; the lint still passes
)

// Problem is one lint finding, at a position.
type Problem struct {
	Pos      schema.Pos
	Severity Severity
	Rule     string // e.g. "event-name"; see LintRules
	Msg      string // what is wrong, with names quoted
	Hint     string // how to fix it; may be empty
}

// String prints the problem the way the loader prints schema errors.
func (p *Problem) String() string {
	s := fmt.Sprintf("%s:%d:%d: ", p.Pos.File, p.Pos.Line, p.Pos.Col)
	if p.Severity == Warning {
		s += "warning: "
	}
	s += p.Msg
	if p.Hint != "" {
		s += " (" + p.Hint + ")"
	}
	return s + " [" + p.Rule + "]"
}

// LintRules lists the lint rules, in the order the README documents them.
var LintRules = []Rule{
	{"event-name", "event names are kebab-case, e.g. set-username"},
	{"field-name", "field names are camelCase, e.g. profileImage (auth, payloads, replies, types)"},
	{"event-doc", "every event has a doc"},
	{"unused-error", "every declared error code is listed by some event or by the auth"},
	{"unused-type", "every named type is used by an event or the auth, directly or through other types"},
	{"to-all", "warning: a server event sent to all and to another target (all already reaches every socket)"},
	{"deprecated-reason", "warning: deprecated: true without saying what to use instead"},
	{"room-doc", "every room kind has a doc"},
	{"unused-room", "every room kind carries a server event (to: [chat] or [chat.others]) or has presence"},
	{"empty-presence", "warning: presence without fields: members show only their id"},
	{"free-room-target", "warning: a server event sent to room or others in a schema that declares room kinds (name the kind: chat, chat.others)"},
}

var (
	reKebab = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	reCamel = regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)
	reDash  = regexp.MustCompile(`-+`)
)

// Lint checks the conventions of a loaded schema; the loader has checked its validity.
func Lint(s *schema.Schema) []*Problem {
	l := &linter{s: s, x: newIndex(s)}
	for _, ev := range slices.Concat(s.Client, s.Server) {
		l.event(ev)
	}
	l.fields(s.Auth, "auth")
	for _, r := range s.Rooms {
		l.room(r)
	}
	for _, t := range s.Types {
		if t.Room != "" { // its fields are the kind's, checked with it
			continue
		}
		l.spec(t.Spec, fmt.Sprintf("type %q", t.Name))
		l.deprecated(t.Spec.Deprecated, t.Spec, t.Pos, fmt.Sprintf("type %q", t.Name))
	}
	l.unusedErrors()
	l.unusedTypes()
	slices.SortStableFunc(l.problems, func(a, b *Problem) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
	return l.problems
}

type linter struct {
	s        *schema.Schema
	x        *index
	problems []*Problem
}

func (l *linter) report(sev Severity, p schema.Pos, rule, hint, format string, args ...any) {
	l.problems = append(l.problems, &Problem{Pos: p, Severity: sev, Rule: rule, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

func (l *linter) event(ev *schema.Event) {
	what := fmt.Sprintf("event %q", ev.Name)
	if !reKebab.MatchString(ev.Name) {
		l.report(Error, ev.Pos, "event-name", fmt.Sprintf("write %q", kebab(ev.Name)), "%s: name is not kebab-case", what)
	}
	if strings.TrimSpace(ev.Doc) == "" {
		l.report(Error, ev.Pos, "event-doc", "add doc: with what it means and when it is sent", "%s: not documented", what)
	}
	if slices.Contains(ev.To, schema.ToAll) && len(ev.To) > 1 {
		others := slices.DeleteFunc(slices.Clone(ev.To), func(t string) bool { return t == schema.ToAll })
		l.report(Warning, eventKeyPos(ev, "to"), "to-all", `keep "all", or split the event if the two mean different things`,
			"%s: sent to %q and to %s, which %q already reaches", what, schema.ToAll, strings.Join(quoteAll(others), ", "), schema.ToAll)
	}
	l.freeRoomTarget(ev, what)
	l.deprecatedEvent(ev, what)
	l.spec(ev.Payload, what+": payload")
	if ev.Reply != nil {
		l.spec(ev.Reply, what+": reply")
	}
}

func quoteAll(values []string) []string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = fmt.Sprintf("%q", v)
	}
	return q
}

// spec checks the fields written in sp, inline objects and array items included.
func (l *linter) spec(sp *schema.Spec, what string) {
	if sp == nil {
		return
	}
	l.fields(sp.Fields, what)
	if sp.Items != nil {
		l.spec(sp.Items, what+": items")
	}
}

func (l *linter) fields(fields []*schema.Field, what string) {
	for _, f := range fields {
		fwhat := fmt.Sprintf("%s: field %q", what, f.Name)
		if !reCamel.MatchString(f.Name) {
			l.report(Error, f.Pos, "field-name", fmt.Sprintf("write %q", model.LowerName(f.Name)), "%s: name is not camelCase", fwhat)
		}
		l.deprecated(f.Spec.Deprecated, f.Spec, f.Pos, fwhat)
		l.spec(f.Spec, fwhat)
	}
}

// deprecated warns about `deprecated: true`, which the loader reads as the text "deprecated".
func (l *linter) deprecated(text string, sp *schema.Spec, pos schema.Pos, what string) {
	if text == "deprecated" {
		l.report(Warning, keyPos(sp, "deprecated", pos), "deprecated-reason", `write e.g. deprecated: "use set-profile"`,
			"%s: deprecated without saying what to use instead", what)
	}
}

func (l *linter) deprecatedEvent(ev *schema.Event, what string) {
	if ev.Deprecated == "deprecated" {
		l.report(Warning, eventKeyPos(ev, "deprecated"), "deprecated-reason", `write e.g. deprecated: "use set-profile"`,
			"%s: deprecated without saying what to use instead", what)
	}
}

func (l *linter) unusedErrors() {
	used := map[string]bool{}
	for _, r := range l.s.AuthErrors {
		used[r.Code] = true
	}
	for _, ev := range l.s.Client {
		for _, r := range ev.Errors {
			used[r.Code] = true
		}
	}
	for _, e := range l.s.Errors {
		if !used[e.Code] {
			l.report(Error, e.Pos, "unused-error", "list it in the errors of an event or of the auth, or remove it",
				"error %q: not used by any event or the auth", e.Code)
		}
	}
}

// unusedTypes reports the named types no event or auth field reaches.
func (l *linter) unusedTypes() {
	reached := map[string]bool{}
	var visit func(sp *schema.Spec)
	visit = func(sp *schema.Spec) {
		if sp == nil {
			return
		}
		if t := l.x.types[sp.Type]; t != nil && !reached[t.Name] {
			reached[t.Name] = true
			visit(t.Spec)
		}
		visit(sp.Items)
		for _, f := range sp.Fields {
			visit(f.Spec)
		}
	}
	for _, ev := range slices.Concat(l.s.Client, l.s.Server) {
		visit(ev.Payload)
		visit(ev.Reply)
	}
	for _, f := range l.s.Auth {
		visit(f.Spec)
	}
	for _, r := range l.s.Rooms {
		for _, f := range slices.Concat(r.Params, r.Presence) {
			visit(f.Spec)
		}
	}
	for _, t := range l.s.Types {
		if !reached[t.Name] && t.Room == "" { // a room kind's own types are its API: not reported
			l.report(Error, t.Pos, "unused-type", "use it in a payload, a reply or the auth, or remove it",
				"type %q: not used by any event", t.Name)
		}
	}
}

// kebab suggests a kebab-case spelling: "setUsername" and "set_username" -> "set-username".
func kebab(name string) string {
	var b strings.Builder
	r := []rune(name)
	for i, c := range r {
		switch {
		case c == '_' || c == '.' || c == ':' || c == ' ' || c == '-':
			b.WriteByte('-')
		case unicode.IsUpper(c):
			if i > 0 && (unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1]) || (i+1 < len(r) && unicode.IsLower(r[i+1]) && unicode.IsUpper(r[i-1]))) {
				b.WriteByte('-')
			}
			b.WriteRune(unicode.ToLower(c))
		default:
			b.WriteRune(c)
		}
	}
	return strings.Trim(reDash.ReplaceAllString(b.String(), "-"), "-")
}

// room checks a room kind: documented, used, its parameters and presence fields named like fields.
func (l *linter) room(r *schema.Room) {
	what := fmt.Sprintf("room kind %q", r.Name)
	if strings.TrimSpace(r.Doc) == "" {
		l.report(Error, r.Pos, "room-doc", "add doc: with what a room of this kind is", "%s: not documented", what)
	}
	l.fields(r.Params, what+": params")
	l.fields(r.Presence, what+": presence")
	if r.HasPresence && len(r.Presence) == 0 {
		l.report(Warning, roomKeyPos(r, "presence"), "empty-presence", "add the fields a member shows the others, e.g. username: Username",
			"%s: presence without fields: members show only their id", what)
	}
	used := false
	for _, ev := range l.s.Server {
		all, others := l.s.RoomTargets(ev)
		if ev.Room == "" && (slices.Contains(all, r) || slices.Contains(others, r)) {
			used = true
		}
	}
	if !used && !r.HasPresence {
		l.report(Error, r.Pos, "unused-room", fmt.Sprintf("send a server event to it with to: [%s], give it presence, or remove it", r.Name),
			"%s: no server event is sent to it and it has no presence", what)
	}
}

// freeRoomTarget warns about "room" and "others" in a schema with room kinds:
// a kind names the rooms an event travels in, checks their parameters and gives
// the server typed emitters.
func (l *linter) freeRoomTarget(ev *schema.Event, what string) {
	if len(l.s.Rooms) == 0 {
		return
	}
	for _, t := range ev.To {
		if t != schema.ToRoom && t != schema.ToOthers {
			continue
		}
		var kinds []string
		for _, r := range l.s.Rooms {
			k := r.Name
			if t == schema.ToOthers {
				k += schema.OthersSuffix
			}
			kinds = append(kinds, fmt.Sprintf("%q", k))
		}
		hint := "write " + kinds[0]
		if len(kinds) > 1 {
			hint = "name the kind: " + strings.Join(kinds, " or ")
		}
		if t == schema.ToOthers {
			hint += `, unless it goes to every socket but the sender outside rooms`
		}
		l.report(Warning, eventKeyPos(ev, "to"), "free-room-target", hint,
			"%s: sent to %q, which names no room kind, in a schema that declares room kinds", what, t)
	}
}
