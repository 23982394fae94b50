package imagecheck

import (
	"bytes"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"strings"

	"golang.org/x/image/webp"
)

// format is one accepted image format: how to recognise it and how to decode
// it. Check uses the format-specific decoders, not image.Decode, so what is
// decoded is always what was sniffed.
type format struct {
	mime  string
	magic func(data []byte) bool
	// config reads only the header: the dimensions, never the pixels.
	config func(r io.Reader) (image.Config, error)
	// beforeDecode, if set, runs once config has passed. It refuses what the
	// dimensions alone do not bound (GIF frames, JPEG scans), or what decode
	// would refuse with a less helpful reason (animated WebP).
	beforeDecode func(data []byte, lim Limits) error
	// decode reads the whole image, to find corrupt or truncated files.
	decode func(r io.Reader) error
}

var (
	pngFormat = format{
		mime:   "image/png",
		magic:  func(b []byte) bool { return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) },
		config: png.DecodeConfig,
		decode: func(r io.Reader) error { _, err := png.Decode(r); return err },
	}
	jpegFormat = format{
		mime:         "image/jpeg",
		magic:        func(b []byte) bool { return bytes.HasPrefix(b, []byte("\xff\xd8\xff")) },
		config:       jpeg.DecodeConfig,
		beforeDecode: checkJPEGScans,
		decode:       func(r io.Reader) error { _, err := jpeg.Decode(r); return err },
	}
	webpFormat = format{
		mime: "image/webp",
		// "RIFF", the RIFF length, "WEBP", then the first chunk: "VP8 ", "VP8L" or "VP8X".
		magic: func(b []byte) bool {
			return len(b) >= 16 && string(b[:4]) == "RIFF" && string(b[8:15]) == "WEBPVP8"
		},
		config:       webp.DecodeConfig,
		beforeDecode: checkWebPStill,
		decode:       func(r io.Reader) error { _, err := webp.Decode(r); return err },
	}
	gifFormat = format{
		mime: "image/gif",
		magic: func(b []byte) bool {
			return bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a"))
		},
		config:       gif.DecodeConfig,
		beforeDecode: checkGIFFrames,
		decode:       func(r io.Reader) error { _, err := gif.DecodeAll(r); return err },
	}
)

// formats lists the accepted formats, in the order they are named to users.
var formats = []*format{&pngFormat, &jpegFormat, &webpFormat, &gifFormat}

// longestPrefix is the length of the longest data URL prefix Check accepts,
// "data:image/jpeg;base64," (image/webp is as long).
var longestPrefix = func() int {
	n := 0
	for _, f := range formats {
		n = max(n, len("data:"+f.mime+";base64,"))
	}
	return n
}()

// formatByMIME returns the format with the given MIME type, compared
// case-insensitively, or nil.
func formatByMIME(mime string) *format {
	for _, f := range formats {
		if strings.EqualFold(mime, f.mime) {
			return f
		}
	}
	return nil
}

// acceptedMIMEs lists the accepted MIME types for a Reason.
func acceptedMIMEs() string {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = f.mime
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// sniff returns the format that data's magic bytes show, whatever it was
// declared as.
func sniff(data []byte) (*format, error) {
	for _, f := range formats {
		if f.magic(data) {
			return f, nil
		}
	}
	if looksLikeMarkup(data) {
		return nil, refuse("SVG, HTML and other markup are not accepted; send a PNG, JPEG, WebP or GIF image")
	}
	return nil, refuse("content is not a PNG, JPEG, WebP or GIF image")
}

// looksLikeMarkup reports whether data starts, after an optional UTF-8 byte
// order mark and whitespace, with '<', as SVG, XML and HTML do.
func looksLikeMarkup(data []byte) bool {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	data = bytes.TrimLeft(data, " \t\r\n\f")
	return len(data) > 0 && data[0] == '<'
}

// checkConfig reads the image header and refuses dimensions outside lim,
// before anything the size of the pixels is allocated.
func (f *format) checkConfig(data []byte, lim Limits) (width, height int, err error) {
	c, err := f.config(bytes.NewReader(data))
	if err != nil {
		return 0, 0, corrupt(err)
	}
	switch {
	case c.Width <= 0 || c.Height <= 0:
		return 0, 0, refuse("image has no pixels (%dx%d)", c.Width, c.Height)
	case c.Width > lim.MaxWidth || c.Height > lim.MaxHeight:
		return 0, 0, refuse("image is %dx%d pixels; the limit is %dx%d", c.Width, c.Height, lim.MaxWidth, lim.MaxHeight)
	case c.Width > lim.MaxPixels/c.Height: // c.Width*c.Height > lim.MaxPixels, without overflow
		return 0, 0, refuse("image is %dx%d pixels; the limit is %d pixels in all", c.Width, c.Height, lim.MaxPixels)
	}
	return c.Width, c.Height, nil
}

// checkDecode decodes the whole image, after the format's own checks, to
// refuse truncated or corrupt files. The decoded pixels are dropped.
func (f *format) checkDecode(data []byte, lim Limits) error {
	if f.beforeDecode != nil {
		if err := f.beforeDecode(data, lim); err != nil {
			return err
		}
	}
	if err := f.decode(bytes.NewReader(data)); err != nil {
		return corrupt(err)
	}
	return nil
}

// corrupt is the refusal for a file its decoder rejects; err is kept for logs.
func corrupt(err error) *Error {
	return &Error{Reason: "image data is corrupt or truncated", err: err}
}
