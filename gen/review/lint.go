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
	for _, t := range s.Types {
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
