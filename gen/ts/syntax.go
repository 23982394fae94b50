package ts

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/karl-app/karl/gen/model"
)

// docWidth is where doc comments wrap.
const docWidth = 100

// doc renders a JSDoc comment at indent, on one line when it fits:
//
//	/** Username: A display name. */
//
// Longer text wraps at docWidth; deprecated adds a @deprecated tag. Empty text and no
// deprecation render nothing.
func doc(indent, text, deprecated string) string {
	text = strings.TrimSpace(strings.ReplaceAll(text, "*/", "*\\/"))
	var lines []string
	if text != "" {
		lines = wrap(text, docWidth-len(indent)-3)
	}
	if deprecated != "" {
		lines = append(lines, "@deprecated "+strings.ReplaceAll(deprecated, "*/", "*\\/"))
	}
	switch {
	case len(lines) == 0:
		return ""
	case len(lines) == 1 && len(indent)+len(lines[0])+7 <= docWidth:
		return indent + "/** " + lines[0] + " */\n"
	}
	var b strings.Builder
	b.WriteString(indent + "/**\n")
	for _, l := range lines {
		b.WriteString(strings.TrimRight(indent+" * "+l, " ") + "\n")
	}
	b.WriteString(indent + " */\n")
	return b.String()
}

// wrap splits text into lines of at most width bytes, breaking at spaces; it keeps the
// text's own line breaks.
func wrap(text string, width int) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			switch {
			case line == "":
				line = w
			case len(line)+1+len(w) > width:
				out = append(out, line)
				line = w
			default:
				line += " " + w
			}
		}
		out = append(out, line)
	}
	return out
}

// str renders s as a TypeScript string literal: "set-username".
func str(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// regexLiteral renders a schema pattern as a JavaScript regular expression literal with
// the "u" flag, which means the same as new RegExp(pattern, "u"): every unescaped "/"
// is escaped, and line terminators become escapes.
func regexLiteral(pattern string) string {
	var b strings.Builder
	b.WriteByte('/')
	escaped := false
	for _, r := range pattern {
		switch {
		case escaped:
			b.WriteRune(r)
			escaped = false
		case r == '\\':
			b.WriteRune(r)
			escaped = true
		case r == '/':
			b.WriteString(`\/`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\u2028' || r == '\u2029':
			b.WriteString(`\u` + strconv.FormatInt(int64(r), 16))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteString("/u")
	return b.String()
}

// number renders a schema bound as a JavaScript number: 0, 2.5, 1e+21.
func number(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// tsType renders the TypeScript type of a value: string, number, a union of string
// literals for enums, T[] or a type name.
func tsType(t *model.Type) string {
	if t.Named != nil {
		return t.Named.TSName
	}
	switch t.Kind {
	case model.String:
		if len(t.Enum) > 0 {
			return union(t.Enum)
		}
		return "string"
	case model.Integer, model.Number, model.Timestamp:
		return "number"
	case model.Boolean:
		return "boolean"
	case model.Array:
		elem := tsType(t.Elem)
		if strings.Contains(elem, " | ") {
			elem = "(" + elem + ")"
		}
		return elem + "[]"
	}
	return t.Struct.TSName
}

// union renders string literal types joined with " | ": "a" | "b".
func union(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = str(v)
	}
	return strings.Join(quoted, " | ")
}

// signature renders head(params)tail on one line when it fits in docWidth, else with
// one parameter a line, as Prettier does:
//
//	"set-username": (
//	  payload: SetUsername,
//	  ack?: (response: AckResponse<undefined, EventErrorCodes["set-username"]>) => void,
//	) => void;
func signature(indent, head string, params []string, tail string) string {
	line := indent + head + "(" + strings.Join(params, ", ") + ")" + tail
	if len(line) <= docWidth || len(params) == 0 {
		return line
	}
	var b strings.Builder
	b.WriteString(indent + head + "(\n")
	for _, p := range params {
		b.WriteString(indent + "  " + p + ",\n")
	}
	b.WriteString(indent + ")" + tail)
	return b.String()
}

// join joins non-empty code blocks with a blank line between them.
func join(blocks ...string) string {
	var kept []string
	for _, b := range blocks {
		if b = strings.TrimRight(b, "\n"); b != "" {
			kept = append(kept, b)
		}
	}
	return strings.Join(kept, "\n\n") + "\n"
}
