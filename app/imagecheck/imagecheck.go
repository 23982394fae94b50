// Package imagecheck validates the profile photos that clients upload as
// base64 text, before the app stores them or sends them to anyone else.
//
// An upload is a data URL ("data:image/png;base64,...") or, as React Native's
// readAsStringAsync returns it, raw base64 without the prefix. Check runs the
// cheap checks first and never allocates more than the limits allow:
//
//  1. the length of the encoded string is capped before anything is decoded;
//  2. the data URL prefix must name PNG, JPEG, WebP or GIF, with no parameters;
//  3. the base64 must be strict: standard alphabet, padded, no whitespace;
//     its decoded size is computed, and capped, before the buffer is allocated;
//  4. the real format is sniffed from magic bytes and must match the declared one;
//  5. the header's dimensions (image.DecodeConfig) are checked against the limits,
//     so a small file that claims 100000x100000 pixels never allocates them;
//  6. only then is the image decoded in full, to refuse truncated or corrupt files.
//
// A GIF is decoded with all its frames, so a broken animation is refused too;
// before that, a walk over its block structure refuses more than 100 frames,
// or frames whose pixels add up to more than 4×MaxPixels (as much memory as
// one RGBA image of MaxPixels). A JPEG may have at most 100 scans, since each
// scan costs a pass over every block but can take only a few bytes. Animated
// WebP is refused: golang.org/x/image/webp decodes still images only.
package imagecheck

import (
	"encoding/base64"
	"fmt"
	"math"
)

// Default limits, used where a Limits field is zero.
const (
	DefaultMaxBytes  = 256 << 10 // 256 KiB decoded
	DefaultMaxWidth  = 2048
	DefaultMaxHeight = 2048
)

// Limits bounds what an upload may be. Zero (or negative) values mean the defaults.
type Limits struct {
	MaxBytes  int // decoded size cap, default 256 KiB
	MaxWidth  int // default 2048
	MaxHeight int // default 2048
	MaxPixels int // default MaxWidth*MaxHeight; refuses decompression bombs
}

// withDefaults returns lim with every unset field replaced by its default.
func (lim Limits) withDefaults() Limits {
	if lim.MaxBytes <= 0 {
		lim.MaxBytes = DefaultMaxBytes
	}
	if lim.MaxWidth <= 0 {
		lim.MaxWidth = DefaultMaxWidth
	}
	if lim.MaxHeight <= 0 {
		lim.MaxHeight = DefaultMaxHeight
	}
	if lim.MaxPixels <= 0 {
		lim.MaxPixels = saturatingMul(lim.MaxWidth, lim.MaxHeight)
	}
	return lim
}

// saturatingMul returns a*b for positive a and b, or math.MaxInt if that overflows.
func saturatingMul(a, b int) int {
	if a > math.MaxInt/b {
		return math.MaxInt
	}
	return a * b
}

// Image is a validated upload.
type Image struct {
	MIME          string // "image/png", "image/jpeg", "image/webp", "image/gif"
	Data          []byte // decoded bytes
	Width, Height int
}

// Error explains why an upload was refused. Reason is short human text safe
// to send to the client; Error() adds the decoder's own message, for logs.
type Error struct {
	Reason string
	err    error // the underlying decoder error, if any
}

func (e *Error) Error() string {
	if e.err != nil {
		return "image refused: " + e.Reason + ": " + e.err.Error()
	}
	return "image refused: " + e.Reason
}

// Unwrap returns the decoder error behind the refusal, if there is one.
func (e *Error) Unwrap() error { return e.err }

// refuse returns an *Error whose Reason is the formatted text.
func refuse(format string, args ...any) *Error {
	return &Error{Reason: fmt.Sprintf(format, args...)}
}

// Check validates s and returns the decoded image, or an *Error.
func Check(s string, lim Limits) (Image, error) {
	lim = lim.withDefaults()
	if s == "" {
		return Image{}, refuse("image is empty")
	}
	if len(s) > MaxEncodedLen(lim) {
		return Image{}, tooLarge(lim)
	}
	declared, payload, err := splitDataURL(s)
	if err != nil {
		return Image{}, err
	}
	data, err := decodeBase64(payload, lim)
	if err != nil {
		return Image{}, err
	}
	f, err := sniff(data)
	if err != nil {
		return Image{}, err
	}
	if declared != nil && declared != f {
		return Image{}, refuse("image is declared as %s but its content is %s", declared.mime, f.mime)
	}
	width, height, err := f.checkConfig(data, lim)
	if err != nil {
		return Image{}, err
	}
	if err := f.checkDecode(data, lim); err != nil {
		return Image{}, err
	}
	return Image{MIME: f.mime, Data: data, Width: width, Height: height}, nil
}

// tooLarge is the refusal for an upload over lim.MaxBytes, found either from
// its encoded length or from its decoded size.
func tooLarge(lim Limits) *Error {
	if lim.MaxBytes%1024 == 0 {
		return refuse("image is too large (the limit is %d KiB)", lim.MaxBytes/1024)
	}
	return refuse("image is too large (the limit is %d bytes)", lim.MaxBytes)
}

// DataURL renders an image back as a data URL (used to restore the photo to the client).
func DataURL(mime string, data []byte) string {
	prefix := "data:" + mime + ";base64,"
	buf := make([]byte, len(prefix)+base64.StdEncoding.EncodedLen(len(data)))
	copy(buf, prefix)
	base64.StdEncoding.Encode(buf[len(prefix):], data)
	return string(buf)
}

// MaxEncodedLen is the longest string Check can accept for lim (data URL
// prefix + base64 of MaxBytes); the server uses it to size Socket.IO's
// maxHttpBufferSize, which must also leave room for the packet around it.
// For the default limits it is 349551: len("data:image/jpeg;base64,") = 23
// plus 349528 characters of base64 for 256 KiB.
func MaxEncodedLen(lim Limits) int {
	lim = lim.withDefaults()
	return longestPrefix + base64.StdEncoding.EncodedLen(lim.MaxBytes)
}
