package model

import (
	"strings"
	"unicode"
)

// initialisms are written in capitals in Go names, as golint and protoc-gen-go do.
var initialisms = map[string]bool{
	"api": true, "ascii": true, "cpu": true, "css": true, "dns": true, "eof": true, "html": true, "http": true,
	"https": true, "id": true, "ip": true, "json": true, "ms": false, "os": true, "sql": true, "ssh": true,
	"tcp": true, "tls": true, "ttl": true, "udp": true, "ui": true, "uid": true, "uri": true, "url": true,
	"utf8": true, "uuid": true, "xml": true,
}

// GoName converts a schema name to an exported Go identifier:
// "set-username" -> "SetUsername", "user_id" -> "UserID", "imageBase64" -> "ImageBase64".
func GoName(s string) string {
	var b strings.Builder
	for _, w := range words(s) {
		if initialisms[strings.ToLower(w)] {
			b.WriteString(strings.ToUpper(w))
			continue
		}
		r := []rune(w)
		b.WriteString(string(unicode.ToUpper(r[0])) + string(r[1:]))
	}
	out := b.String()
	if out == "" || !unicode.IsLetter([]rune(out)[0]) {
		out = "X" + out
	}
	return out
}

// LowerName is GoName with its first word in lower case: "set-username" -> "setUsername",
// "id" -> "id", "URLPath" -> "urlPath".
func LowerName(s string) string {
	ws := words(s)
	if len(ws) == 0 {
		return "x"
	}
	first := strings.ToLower(ws[0])
	if len(ws) == 1 {
		return first
	}
	return first + GoName(strings.Join(ws[1:], "-"))
}

// words splits on dashes, underscores, dots, spaces and lower-to-upper case changes,
// keeping runs of capitals together ("HTTPServer" -> "HTTP", "Server").
func words(s string) []string {
	var out []string
	r := []rune(s)
	start := 0
	flush := func(end int) {
		if end > start {
			out = append(out, string(r[start:end]))
		}
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if c == '-' || c == '_' || c == '.' || c == ' ' || c == ':' {
			flush(i)
			start = i + 1
			continue
		}
		if i > start && unicode.IsUpper(c) {
			prev := r[i-1]
			nextLower := i+1 < len(r) && unicode.IsLower(r[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush(i)
				start = i
			}
		}
	}
	flush(len(r))
	return out
}
