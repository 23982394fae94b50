package impl

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/karl-app/karl/runtime"
)

// The decoders below read the values that the Socket.IO parser produced from JSON
// (map[string]any, []any, string, float64, bool, nil) without reflection.
// Their errors carry runtime.CodeInvalidPayload and a path that At and AtIndex extend
// as the error travels up to the payload.

// Invalid returns an invalid-payload error with a message.
func Invalid(format string, args ...any) *runtime.Error {
	return &runtime.Error{Code: runtime.CodeInvalidPayload, Message: fmt.Sprintf(format, args...)}
}

// At prefixes the path of an invalid-payload error with a field name.
func At(field string, err error) error {
	e, ok := err.(*runtime.Error)
	if !ok {
		return err
	}
	c := *e
	switch {
	case c.Path == "":
		c.Path = field
	case c.Path[0] == '[':
		c.Path = field + c.Path
	default:
		c.Path = field + "." + c.Path
	}
	return &c
}

// AtIndex prefixes the path of an invalid-payload error with an array index.
func AtIndex(i int, err error) error {
	e, ok := err.(*runtime.Error)
	if !ok {
		return err
	}
	c := *e
	idx := "[" + strconv.Itoa(i) + "]"
	if c.Path == "" || c.Path[0] == '[' {
		c.Path = idx + c.Path
	} else {
		c.Path = idx + "." + c.Path
	}
	return &c
}

// describe names the JSON kind of v for error messages.
func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "binary data"
}

// Object reads a JSON object.
func Object(v any) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, Invalid("expected an object, got %s", describe(v))
	}
	return m, nil
}

// Required reads the field key of m with as; a missing or null field is an error.
func Required[T any](m map[string]any, key string, as func(any) (T, error)) (T, error) {
	v, ok := m[key]
	if !ok || v == nil {
		var zero T
		return zero, &runtime.Error{Code: runtime.CodeInvalidPayload, Message: "required", Path: key}
	}
	out, err := as(v)
	if err != nil {
		return out, At(key, err)
	}
	return out, nil
}

// Optional reads the field key of m with as; a missing or null field gives nil.
func Optional[T any](m map[string]any, key string, as func(any) (T, error)) (*T, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return nil, nil
	}
	out, err := as(v)
	if err != nil {
		return nil, At(key, err)
	}
	return &out, nil
}

// AsString reads a JSON string.
func AsString(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", Invalid("expected a string, got %s", describe(v))
	}
	return s, nil
}

// AsTrimmedString reads a JSON string without its leading and trailing white space.
func AsTrimmedString(v any) (string, error) {
	s, err := AsString(v)
	return strings.TrimSpace(s), err
}

// AsNFCString reads a JSON string in Unicode Normalization Form C, so that "café"
// written with a combining accent and with a precomposed one is the same value.
func AsNFCString(v any) (string, error) {
	s, err := AsString(v)
	return norm.NFC.String(s), err
}

// AsTrimmedNFCString reads a JSON string without its surrounding white space, in NFC.
func AsTrimmedNFCString(v any) (string, error) {
	s, err := AsTrimmedString(v)
	return norm.NFC.String(s), err
}

// maxSafeInteger is the largest integer a JavaScript number holds exactly (2^53-1).
const maxSafeInteger = 1<<53 - 1

// AsInt reads a JSON number without fraction, within JavaScript's safe integers.
func AsInt(v any) (int64, error) {
	f, ok := v.(float64)
	if !ok {
		return 0, Invalid("expected an integer, got %s", describe(v))
	}
	if f != math.Trunc(f) || math.Abs(f) > maxSafeInteger {
		return 0, Invalid("expected an integer, got %v", f)
	}
	return int64(f), nil
}

// AsNumber reads a JSON number.
func AsNumber(v any) (float64, error) {
	f, ok := v.(float64)
	if !ok {
		return 0, Invalid("expected a number, got %s", describe(v))
	}
	return f, nil
}

// AsBool reads a JSON boolean.
func AsBool(v any) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, Invalid("expected a boolean, got %s", describe(v))
	}
	return b, nil
}

// AsTime reads a timestamp: an integer of Unix milliseconds.
func AsTime(v any) (time.Time, error) {
	ms, err := AsInt(v)
	if err != nil {
		return time.Time{}, Invalid("expected a timestamp in Unix milliseconds, got %s", describe(v))
	}
	return time.UnixMilli(ms).UTC(), nil
}

// ArrayOf returns a reader of JSON arrays whose items are read with as.
func ArrayOf[T any](as func(any) (T, error)) func(any) ([]T, error) {
	return func(v any) ([]T, error) {
		items, ok := v.([]any)
		if !ok {
			return nil, Invalid("expected an array, got %s", describe(v))
		}
		out := make([]T, len(items))
		for i, item := range items {
			x, err := as(item)
			if err != nil {
				return nil, AtIndex(i, err)
			}
			out[i] = x
		}
		return out, nil
	}
}

// Checks of constraints, shared by decoders (what clients send) and Validate
// methods (what the server sends). Lengths count Unicode code points, as the
// TypeScript validators do.

// MinLength checks that s has at least n characters.
func MinLength(s string, n int) error {
	if len(s) >= n*utf8.UTFMax || utf8.RuneCountInString(s) >= n { // n characters take at most n*4 bytes
		return nil
	}
	return Invalid("shorter than %d %s", n, plural(n, "character"))
}

// MaxLength checks that s has at most n characters.
func MaxLength(s string, n int) error {
	if len(s) <= n || utf8.RuneCountInString(s) <= n { // n bytes hold at most n characters
		return nil
	}
	return Invalid("longer than %d %s", n, plural(n, "character"))
}

// Pattern checks that s matches re.
func Pattern(s string, re *regexp.Regexp) error {
	if !re.MatchString(s) {
		return Invalid("does not match the pattern %s", re.String())
	}
	return nil
}

// OneOf checks that s is one of the allowed values.
func OneOf(s string, allowed []string) error {
	for _, a := range allowed {
		if s == a {
			return nil
		}
	}
	return Invalid("must be one of %s", strings.Join(quoteAll(allowed), ", "))
}

// Min checks that x >= n.
func Min(x, n float64) error {
	if x < n {
		return Invalid("less than %v", n)
	}
	return nil
}

// Max checks that x <= n.
func Max(x, n float64) error {
	if x > n {
		return Invalid("greater than %v", n)
	}
	return nil
}

// Finite checks that x is a number JSON can carry (not NaN or infinite).
func Finite(x float64) error {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return Invalid("not a finite number")
	}
	return nil
}

// MinItems checks that an array has at least n items.
func MinItems(length, n int) error {
	if length < n {
		return Invalid("fewer than %d %s", n, plural(n, "item"))
	}
	return nil
}

// MaxItems checks that an array has at most n items.
func MaxItems(length, n int) error {
	if length > n {
		return Invalid("more than %d %s", n, plural(n, "item"))
	}
	return nil
}

// Format checks a string against a named format of the schema language.
func Format(s, format string) error {
	switch format {
	case "image-data-url":
		return imageDataURL(s)
	}
	return Invalid("unknown format %q", format)
}

// imageDataURL checks the shape of data:image/<png|jpeg|webp|gif>;base64,<base64>
// without decoding it.
func imageDataURL(s string) error {
	rest, ok := strings.CutPrefix(s, "data:image/")
	if ok {
		for _, t := range []string{"png", "jpeg", "webp", "gif"} {
			if r, ok := strings.CutPrefix(rest, t+";base64,"); ok {
				if isBase64(r) {
					return nil
				}
				break
			}
		}
	}
	return Invalid("expected a data URL data:image/<png|jpeg|webp|gif>;base64,...")
}

func isBase64(s string) bool {
	if len(s) == 0 || len(s)%4 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '+' || c == '/' ||
			(c == '=' && i >= len(s)-2)
		if !ok {
			return false
		}
	}
	return true
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

// OptionalSlice reads an optional array field; a missing or null field gives nil.
func OptionalSlice[T any](m map[string]any, key string, as func(any) ([]T, error)) ([]T, error) {
	p, err := Optional(m, key, as)
	if p == nil {
		return nil, err
	}
	return *p, nil
}
