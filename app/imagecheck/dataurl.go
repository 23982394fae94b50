package imagecheck

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// strictBase64 refuses non-canonical trailing bits as well as bad characters.
// It still skips '\r' and '\n' like every encoding/base64 decoder, so
// decodeBase64 refuses those itself.
var strictBase64 = base64.StdEncoding.Strict()

// splitDataURL separates s into the format its data URL declares and the base64
// payload. A string that does not start with "data:" is raw base64, as React
// Native sends it; it declares nothing and returns a nil format.
//
// Only "data:<type>;base64," is accepted, <type> being one of the formats;
// the scheme and type are matched case-insensitively (RFC 2397, RFC 2045).
func splitDataURL(s string) (declared *format, payload string, err error) {
	const scheme = "data:"
	if len(s) < len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) {
		return nil, s, nil
	}
	header, payload, ok := strings.Cut(s[len(scheme):], ",")
	if !ok {
		return nil, "", refuse("data URL has no comma before its data")
	}
	mediaType, params, _ := strings.Cut(header, ";")
	declared = formatByMIME(mediaType)
	switch {
	case mediaType == "":
		return nil, "", refuse("data URL has no media type; use data:image/png;base64, or another image type")
	case declared == nil:
		return nil, "", refuse("image type %s is not accepted; use %s", quote(mediaType), acceptedMIMEs())
	case params == "":
		return nil, "", refuse("data URL must be base64-encoded: data:%s;base64,", declared.mime)
	case !strings.EqualFold(params, "base64"):
		return nil, "", refuse("data URL parameters such as %s are not accepted; use data:%s;base64,", quote(params), declared.mime)
	}
	return declared, payload, nil
}

// decodeBase64 decodes strict, padded, standard base64 without whitespace,
// refusing payloads that decode to more than lim.MaxBytes before it allocates.
func decodeBase64(payload string, lim Limits) ([]byte, error) {
	if payload == "" {
		return nil, refuse("image is empty")
	}
	// The decoder would skip line breaks silently; refusing them here also
	// keeps the size arithmetic below exact.
	if i := strings.IndexAny(payload, "\r\n"); i >= 0 {
		return nil, badBase64(payload, i)
	}
	if len(payload)%4 != 0 {
		if i := firstNonBase64(payload); i >= 0 {
			return nil, badBase64(payload, i)
		}
		return nil, refuse(`base64 is not padded: its length must be a multiple of 4, ending in "=" if needed`)
	}
	padding := 2 - len(strings.TrimRight(payload[len(payload)-2:], "="))
	size := len(payload)/4*3 - padding
	if size > lim.MaxBytes {
		return nil, tooLarge(lim)
	}
	// DecodedLen is size plus the padding, at most lim.MaxBytes+2. The
	// []byte(payload) is not copied, as Decode neither keeps nor changes it:
	// BenchmarkCheck50KB allocates only the decoded buffer here.
	data := make([]byte, base64.StdEncoding.DecodedLen(len(payload)))
	n, err := strictBase64.Decode(data, []byte(payload))
	if err != nil {
		if i := firstNonBase64(payload); i >= 0 {
			return nil, badBase64(payload, i)
		}
		return nil, &Error{Reason: "base64 is malformed: misplaced \"=\" or a non-canonical last character", err: err}
	}
	return data[:n], nil
}

// firstNonBase64 returns the index of the first byte of s outside the standard
// base64 alphabet and '=', or -1.
func firstNonBase64(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '=') {
			return i
		}
	}
	return -1
}

// badBase64 explains the character at payload[i], which is not standard base64.
func badBase64(payload string, i int) *Error {
	switch c := payload[i]; c {
	case ' ', '\t', '\r', '\n', '\f', '\v':
		return refuse("base64 contains whitespace or a line break (at character %d); send it as one unbroken line", i)
	case '-', '_':
		return refuse(`base64 uses the URL-safe alphabet ("-" and "_"); use standard base64 with "+" and "/"`)
	default:
		return refuse("base64 contains the invalid character %q (at character %d)", c, i)
	}
}

// quote renders user input for a Reason: quoted, and cut short so a refusal
// never echoes a whole upload back.
func quote(s string) string {
	const max = 40
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strconv.Quote(s)
}
