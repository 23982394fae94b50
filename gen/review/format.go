package review

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/karl-app/karl/schema"
)

// Formats lists the output formats of a report.
var Formats = []string{"text", "markdown", "github"}

// Write renders the report in format (one of Formats).
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case "text":
		return r.Text(w)
	case "markdown":
		return r.Markdown(w)
	case "github":
		return r.GitHub(w)
	}
	return fmt.Errorf("unknown format %q (text, markdown or github)", format)
}

func (i Impact) String() string {
	switch i {
	case 0:
		return "safe"
	case OldClients:
		return "breaks old clients"
	case OldServers:
		return "breaks old servers"
	}
	return "breaks old clients and old servers"
}

// Verdict is the report's conclusion in one sentence.
func (r *Report) Verdict() string {
	n := r.Breaking()
	switch {
	case len(r.Findings) == 0:
		return "no changes that clients or servers can see"
	case n == 0:
		return fmt.Sprintf("no breaking changes (%s)", count(len(r.Findings), "safe change"))
	case r.MajorBump():
		return fmt.Sprintf("%s, allowed by the major version bump %s -> %s", count(n, "breaking change"), r.OldVersion, r.NewVersion)
	}
	return fmt.Sprintf("%s without a major version bump (%s -> %s): make them compatible, or raise version to %d.0.0",
		count(n, "breaking change"), r.OldVersion, r.NewVersion, max(major(r.OldVersion), 0)+1)
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// Text renders the report for a terminal, compiler style: each finding at its
// position in NEW, then one indented line per effect.
func (r *Report) Text(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "karlgen diff %s (%s) -> %s (%s)\n", r.OldFile, r.OldVersion, r.NewFile, r.NewVersion)
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%s: %s: %s: %s%s [%s]\n", pos(f.Pos), f.Impact(), f.Subject, f.Change, was(f), f.Rule)
		for _, line := range f.effectLines() {
			fmt.Fprintf(&b, "\t%s\n", line)
		}
	}
	prefix := ""
	if r.Failed() {
		prefix = "error: "
	}
	fmt.Fprintf(&b, "%s%s\n", prefix, r.Verdict())
	_, err := io.WriteString(w, b.String())
	return err
}

func pos(p schema.Pos) string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// was names where a removed element stood in OLD.
func was(f *Finding) string {
	if !f.Gone {
		return ""
	}
	return " (was " + pos(f.OldPos) + ")"
}

// effectLines says what the finding does, one line per consequence: the uses
// that share a flow and a consequence are listed together.
func (f *Finding) effectLines() []string {
	type group struct {
		e    Effect
		uses []string
	}
	var groups []*group
	for _, e := range f.Effects {
		key := Effect{Flow: e.Flow, Breaks: e.Breaks, Why: e.Why}
		i := slices.IndexFunc(groups, func(g *group) bool { return g.e == key })
		if i < 0 {
			groups = append(groups, &group{e: key})
			i = len(groups) - 1
		}
		if e.Use != "" {
			groups[i].uses = append(groups[i].uses, e.Use)
		}
	}
	lines := make([]string, len(groups))
	for i, g := range groups {
		s := g.e.Flow.String()
		if len(g.uses) > 0 {
			s += ", " + strings.Join(g.uses, ", ")
		}
		if g.e.Breaks == 0 {
			s += ": safe"
		}
		if g.e.Why != "" {
			s += ": " + g.e.Why
		}
		lines[i] = s
	}
	return lines
}

// Markdown renders the report as a pull-request comment: a verdict and a table.
func (r *Report) Markdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("<!-- karlgen diff -->\n")
	fmt.Fprintf(&b, "### Schema changes: `%s` %s → `%s` %s\n\n", r.OldFile, r.OldVersion, r.NewFile, r.NewVersion)
	icon := ":white_check_mark:"
	if r.Failed() {
		icon = ":x:"
	} else if r.Breaking() > 0 {
		icon = ":warning:"
	}
	fmt.Fprintf(&b, "%s %s.\n", icon, cell(capitalize(r.Verdict())))
	if len(r.Findings) > 0 {
		b.WriteString("\n| | Change | Impact | Details | Line |\n|---|---|---|---|---|\n")
		for _, f := range r.Findings {
			b.WriteString(f.markdownRow())
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (f *Finding) markdownRow() string {
	icon := ":white_check_mark:"
	if f.Impact() != 0 {
		icon = ":x:"
	}
	var details []string
	for _, line := range f.effectLines() {
		details = append(details, cell(line))
	}
	line := fmt.Sprintf("%d", f.Pos.Line)
	if f.Gone {
		line = fmt.Sprintf("%d (was %d)", f.Pos.Line, f.OldPos.Line)
	}
	return fmt.Sprintf("| %s | %s: %s | %s | %s | %s |\n", icon, cell(f.Subject), cell(f.Change), f.Impact(), strings.Join(details, "<br>"), line)
}

// cell escapes text for a markdown table cell.
func cell(s string) string {
	return strings.NewReplacer(" -> ", " → ", "|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;", "`", "\\`").Replace(s)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// GitHub renders workflow commands that annotate NEW in the pull request: errors
// for breaking changes (warnings when a major version bump allows them), notices
// for safe ones.
func (r *Report) GitHub(w io.Writer) error {
	var b strings.Builder
	for _, f := range r.Findings {
		level, title := "notice", "Safe schema change"
		if i := f.Impact(); i != 0 {
			level, title = "error", "Breaking schema change: "+i.String()
			if r.MajorBump() {
				level = "warning"
			}
		}
		msg := []string{f.Subject + ": " + f.Change + was(f)}
		msg = append(msg, f.effectLines()...)
		fmt.Fprintf(&b, "::%s file=%s,line=%d,col=%d,title=%s::%s\n", level, property(f.Pos.File), f.Pos.Line, f.Pos.Col,
			property(title), data(strings.Join(msg, "\n")))
	}
	if r.Failed() {
		fmt.Fprintf(&b, "::error title=%s::%s\n", property("karlgen diff"), data(r.Verdict()))
	} else {
		fmt.Fprintf(&b, "karlgen diff: %s\n", r.Verdict())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// data escapes the message of a workflow command.
func data(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// property escapes a property value of a workflow command.
func property(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
