package impl

import (
	"math"
	"strconv"
	"time"

	"github.com/karl-app/karl/runtime"
	"github.com/karl-app/karl/runtime/internal/jsontext"
)

// AppendString appends s as a JSON string, escaped as encoding/json does
// (control characters, quotes, backslashes, U+2028 and U+2029; invalid UTF-8
// becomes U+FFFD).
func AppendString(b []byte, s string) []byte { return jsontext.AppendString(b, s) }

// AppendInt appends an integer.
func AppendInt(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

// AppendNumber appends a finite number as encoding/json would; NaN and infinities,
// which Validate refuses, become null.
func AppendNumber(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return strconv.AppendFloat(b, f, 'e', -1, 64)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// AppendBool appends true or false.
func AppendBool(b []byte, v bool) []byte { return strconv.AppendBool(b, v) }

// AppendTime appends a timestamp as Unix milliseconds.
func AppendTime(b []byte, t time.Time) []byte { return strconv.AppendInt(b, t.UnixMilli(), 10) }

// AppendArray appends items as a JSON array, each with appendItem.
func AppendArray[T any](b []byte, items []T, appendItem func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendItem(b, it)
	}
	return append(b, ']')
}

// AppendMessage appends a nested message; it matches the appendItem signature of AppendArray.
func AppendMessage[T runtime.Message](b []byte, m T) []byte { return m.AppendJSON(b) }

// CloseObject finishes an object whose fields were appended after start, each
// with a leading comma: the first comma becomes "{". Generated AppendJSON methods
// use it so optional fields need no comma bookkeeping.
func CloseObject(b []byte, start int) []byte {
	if len(b) == start {
		return append(b, "{}"...)
	}
	b[start] = '{'
	return append(b, '}')
}
