package schema

import (
	"fmt"
	"regexp"
	"strings"
)

// CheckPattern reports whether p compiles in Go (RE2) and means the same there as in
// a JavaScript RegExp with the "u" flag, which is how the TypeScript client runs it.
//
// The portable subset: literals, classes, groups (?:...), alternation, quantifiers,
// anchors ^ and $, \d \D \w \W \b \B, \n \r \t \f \v, \xHH, and Unicode general
// categories \p{L} \p{Lu} ... Escaped punctuation must be a regexp syntax character
// (or "-" inside a class), because JavaScript's unicode mode refuses other escapes.
// \s is refused: Go's matches ASCII space only, JavaScript's every Unicode space.
func CheckPattern(p string) error {
	if _, err := regexp.Compile(p); err != nil {
		return fmt.Errorf("does not compile: %w", err)
	}
	inClass := false
	for i := 0; i < len(p); i++ {
		switch ch := p[i]; {
		case ch == '[' && !inClass:
			inClass = true
			if strings.HasPrefix(p[i:], "[[:") || strings.HasPrefix(p[i:], "[^[:") {
				return fmt.Errorf("POSIX classes like [[:alpha:]] are not portable to JavaScript")
			}
		case ch == '[' && inClass && strings.HasPrefix(p[i:], "[:"):
			return fmt.Errorf("POSIX classes like [[:alpha:]] are not portable to JavaScript")
		case ch == ']' && inClass:
			inClass = false
		case ch == '(' && !inClass && strings.HasPrefix(p[i:], "(?") && !strings.HasPrefix(p[i:], "(?:"):
			return fmt.Errorf("only (?:...) groups are portable: flags and named groups differ between Go and JavaScript")
		case ch == '\\':
			if i+1 >= len(p) {
				return fmt.Errorf("trailing backslash")
			}
			n, err := checkEscape(p[i+1:], inClass)
			if err != nil {
				return err
			}
			i += n
		}
	}
	return nil
}

var reCategory = regexp.MustCompile(`^\{[A-Z][a-z]?\}`)

// checkEscape checks the escape after a backslash and returns how many bytes it spans.
func checkEscape(rest string, inClass bool) (int, error) {
	c := rest[0]
	switch {
	case strings.IndexByte("dDwWnrtfv", c) >= 0:
		return 1, nil
	case c == 'b' || c == 'B':
		if inClass {
			return 0, fmt.Errorf(`\%c inside a class means different things in Go and JavaScript`, c)
		}
		return 1, nil
	case c == 's' || c == 'S':
		return 0, fmt.Errorf(`\%c differs: Go matches ASCII spaces only, JavaScript all Unicode spaces; write [ \t] instead`, c)
	case c == 'p' || c == 'P':
		m := reCategory.FindString(rest[1:])
		if m == "" {
			return 0, fmt.Errorf(`\%c must name a Unicode general category in braces, e.g. \p{L}`, c)
		}
		return 1 + len(m), nil
	case c == 'x':
		if len(rest) >= 3 && isHex(rest[1]) && isHex(rest[2]) {
			return 3, nil
		}
		return 0, fmt.Errorf(`\x must be followed by two hex digits`)
	case strings.IndexByte(`^$\.*+?()[]{}|/`, c) >= 0 || (c == '-' && inClass):
		return 1, nil
	}
	return 0, fmt.Errorf(`escape \%c is not portable between Go and JavaScript`, c)
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}
