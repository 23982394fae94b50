package imagecheck

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	pngData := encodePNG(t, 16, 8)
	jpegData := encodeJPEG(t, 16, 8, 80)
	gifData := encodeGIF(t, 16, 8, 1)
	animated := encodeGIF(t, 16, 8, 3)
	lossless := readTestdata(t, "lossless-3x2.webp")
	lossy := readTestdata(t, "lossy-3x2.webp")
	lossyAlpha := readTestdata(t, "lossy-alpha-3x2.webp")
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="16" height="8"/>`)
	html := []byte("\ufeff\n<!DOCTYPE html><script>alert(1)</script>")

	urlSafe := base64.URLEncoding.EncodeToString(pngData)
	if urlSafe == b64(pngData) {
		t.Fatal("test PNG encodes the same in both alphabets; change its size")
	}
	// Two CRLF line breaks, as MIME encoders wrap at 76 characters: the length
	// stays a multiple of 4, and encoding/base64 alone would skip them.
	wrapped := b64(pngData)
	wrapped = wrapped[:76] + "\r\n" + wrapped[76:152] + "\r\n" + wrapped[152:]
	// Past the length cap, and refused for its line break if the cap were missed.
	tooLong := strings.Repeat("A", MaxEncodedLen(Limits{})) + "\n"
	decodedCap := bytes.Clone(pngData) // png.Decode stops at IEND and ignores the zeros after it
	for len(decodedCap)%3 != 2 {
		decodedCap = append(decodedCap, 0)
	}

	tests := []struct {
		name       string
		in         string
		lim        Limits
		wantMIME   string // for accepted images
		wantWidth  int
		wantHeight int
		wantReason string // a part of the refusal's Reason; empty if accepted
	}{
		{name: "png data URL", in: DataURL("image/png", pngData), wantMIME: "image/png", wantWidth: 16, wantHeight: 8},
		{name: "jpeg data URL", in: DataURL("image/jpeg", jpegData), wantMIME: "image/jpeg", wantWidth: 16, wantHeight: 8},
		{name: "gif data URL", in: DataURL("image/gif", gifData), wantMIME: "image/gif", wantWidth: 16, wantHeight: 8},
		{name: "animated gif", in: DataURL("image/gif", animated), wantMIME: "image/gif", wantWidth: 16, wantHeight: 8},
		{name: "lossless webp", in: DataURL("image/webp", lossless), wantMIME: "image/webp", wantWidth: 3, wantHeight: 2},
		{name: "lossy webp", in: DataURL("image/webp", lossy), wantMIME: "image/webp", wantWidth: 3, wantHeight: 2},
		{name: "lossy webp with alpha", in: DataURL("image/webp", lossyAlpha), wantMIME: "image/webp", wantWidth: 3, wantHeight: 2},
		{name: "raw base64 png is sniffed", in: b64(pngData), wantMIME: "image/png", wantWidth: 16, wantHeight: 8},
		{name: "raw base64 jpeg is sniffed", in: b64(jpegData), wantMIME: "image/jpeg", wantWidth: 16, wantHeight: 8},
		{name: "raw base64 webp is sniffed", in: b64(lossless), wantMIME: "image/webp", wantWidth: 3, wantHeight: 2},
		{name: "upper-case prefix", in: "DATA:IMAGE/PNG;BASE64," + b64(pngData), wantMIME: "image/png", wantWidth: 16, wantHeight: 8},
		{name: "at the size limit", in: b64(pngData), lim: Limits{MaxBytes: len(pngData)}, wantMIME: "image/png", wantWidth: 16, wantHeight: 8},
		{name: "at the dimension limits", in: b64(pngData), lim: Limits{MaxWidth: 16, MaxHeight: 8, MaxPixels: 128}, wantMIME: "image/png", wantWidth: 16, wantHeight: 8},
		{name: "100 jpeg scans", in: b64(progressiveJPEG(64, 64, 99)), wantMIME: "image/jpeg", wantWidth: 64, wantHeight: 64},

		{name: "empty string", in: "", wantReason: "image is empty"},
		{name: "empty data URL", in: "data:image/png;base64,", wantReason: "image is empty"},
		{name: "png labelled jpeg", in: DataURL("image/jpeg", pngData), wantReason: "declared as image/jpeg but its content is image/png"},
		{name: "gif labelled webp", in: DataURL("image/webp", gifData), wantReason: "declared as image/webp but its content is image/gif"},
		{name: "svg type", in: DataURL("image/svg+xml", svg), wantReason: `image type "image/svg+xml" is not accepted`},
		{name: "svg labelled png", in: DataURL("image/png", svg), wantReason: "SVG, HTML and other markup are not accepted"},
		{name: "html with BOM labelled png", in: DataURL("image/png", html), wantReason: "SVG, HTML and other markup are not accepted"},
		{name: "raw base64 svg", in: b64(svg), wantReason: "SVG, HTML and other markup are not accepted"},
		{name: "text labelled png", in: DataURL("image/png", []byte("just some text, not an image")), wantReason: "content is not a PNG, JPEG, WebP or GIF image"},
		{name: "image/jpg is not a type", in: DataURL("image/jpg", jpegData), wantReason: `image type "image/jpg" is not accepted; use image/png, image/jpeg, image/webp or image/gif`},
		{name: "charset parameter", in: "data:image/png;charset=utf-8;base64," + b64(pngData), wantReason: `data URL parameters such as "charset=utf-8;base64" are not accepted`},
		{name: "not base64-encoded", in: "data:image/png," + string(pngData), wantReason: "data URL must be base64-encoded"},
		{name: "no comma", in: "data:image/png;base64", wantReason: "data URL has no comma"},
		{name: "no media type", in: "data:;base64," + b64(pngData), wantReason: "data URL has no media type"},
		{name: "truncated png", in: DataURL("image/png", pngData[:len(pngData)-20]), wantReason: "image data is corrupt or truncated"},
		{name: "truncated jpeg", in: DataURL("image/jpeg", jpegData[:len(jpegData)/2]), wantReason: "image data is corrupt or truncated"},
		{name: "truncated webp", in: DataURL("image/webp", lossless[:40]), wantReason: "image data is corrupt or truncated"},
		{name: "gif truncated in a later frame", in: DataURL("image/gif", animated[:len(animated)-30]), wantReason: "image data is corrupt or truncated"},
		{name: "png header only", in: DataURL("image/png", pngData[:33]), wantReason: "image data is corrupt or truncated"},
		{name: "invalid base64 character", in: "data:image/png;base64,iVBO*w0KGgo=", wantReason: `invalid character '*' (at character 4)`},
		{name: "line breaks in base64", in: "data:image/png;base64," + wrapped, wantReason: "whitespace or a line break (at character 76)"},
		{name: "space in base64", in: "data:image/png;base64,iVBO Rw0KGgo=", wantReason: "whitespace or a line break (at character 4)"},
		{name: "trailing newline", in: b64(pngData) + "\n", wantReason: "whitespace or a line break"},
		{name: "url-safe alphabet", in: "data:image/png;base64," + urlSafe, wantReason: "URL-safe alphabet"},
		{name: "missing padding", in: "data:image/png;base64,iVBORw0KGgo", wantReason: "base64 is not padded"},
		{name: "non-canonical last character", in: "data:image/png;base64,QR==", wantReason: "base64 is malformed"},
		{name: "padding in the middle", in: "data:image/png;base64,QQ==QUJD", wantReason: "base64 is malformed"},
		{name: "too long before decoding", in: tooLong, wantReason: "image is too large (the limit is 256 KiB)"},
		{name: "too large decoded", in: b64(decodedCap), lim: Limits{MaxBytes: len(decodedCap) - 1}, wantReason: "image is too large"},
		{name: "too wide", in: DataURL("image/png", pngData), lim: Limits{MaxWidth: 15}, wantReason: "image is 16x8 pixels; the limit is 15x2048"},
		{name: "too high", in: DataURL("image/jpeg", jpegData), lim: Limits{MaxHeight: 7}, wantReason: "image is 16x8 pixels; the limit is 2048x7"},
		{name: "100000x100000 png", in: DataURL("image/png", pngHeader(100000, 100000)), wantReason: "image is 100000x100000 pixels; the limit is 2048x2048"},
		{name: "too many pixels", in: DataURL("image/png", pngHeader(100000, 100000)), lim: Limits{MaxWidth: 1 << 20, MaxHeight: 1 << 20, MaxPixels: 4 << 20}, wantReason: "the limit is 4194304 pixels in all"},
		{name: "too many pixels, real png", in: DataURL("image/png", pngData), lim: Limits{MaxPixels: 127}, wantReason: "image is 16x8 pixels; the limit is 127 pixels in all"},
		{name: "zero-size gif", in: DataURL("image/gif", emptyGIF()), wantReason: "image has no pixels (0x0)"},
		{name: "gif with 101 frames", in: DataURL("image/gif", encodeGIF(t, 2, 2, 101)), wantReason: "GIF has more than 100 frames"},
		{name: "gif frames over budget", in: DataURL("image/gif", encodeGIF(t, 16, 8, 5)), lim: Limits{MaxPixels: 128}, wantReason: "its frames add up to more than 512 pixels"},
		{name: "animated webp", in: DataURL("image/webp", readTestdata(t, "animated-3x2.webp")), wantReason: "animated WebP is not accepted"},
		{name: "jpeg with 101 scans", in: DataURL("image/jpeg", progressiveJPEG(64, 64, 100)), wantReason: "JPEG has more than 100 scans"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Check(tt.in, tt.lim)
			if tt.wantReason != "" {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("Check() error = %v, want an *Error with reason %q", err, tt.wantReason)
				}
				if !strings.Contains(e.Reason, tt.wantReason) {
					t.Fatalf("Check() reason = %q, want it to contain %q", e.Reason, tt.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatalf("Check() error = %v, want success", err)
			}
			if img.MIME != tt.wantMIME || img.Width != tt.wantWidth || img.Height != tt.wantHeight {
				t.Errorf("Check() = %s %dx%d, want %s %dx%d", img.MIME, img.Width, img.Height, tt.wantMIME, tt.wantWidth, tt.wantHeight)
			}
			payload := tt.in[strings.IndexByte(tt.in, ',')+1:]
			if b64(img.Data) != payload {
				t.Errorf("Check() data is not the upload's decoded base64")
			}
		})
	}
}

// TestCheckRefusesBeforeAllocating proves the cheap checks come first: inputs
// that a later stage would need gigabytes for are refused having allocated
// almost nothing.
func TestCheckRefusesBeforeAllocating(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantReason string
	}{
		// 64 MiB of base64 would decode to 48 MiB; the final line break
		// would be found only by reading it all.
		{"64 MiB string", "data:image/png;base64," + strings.Repeat("A", 64<<20) + "\n", "image is too large"},
		// png.Decode would allocate 40 GB of pixels for this 70-byte file.
		{"100000x100000 png", DataURL("image/png", pngHeader(100000, 100000)), "image is 100000x100000 pixels"},
		// gif.DecodeAll would allocate 5 × 4 MiB; each frame is a few KB of LZW.
		{"5 frames of 2048x2048", DataURL("image/gif", repeatFrames(encodeGIF(t, 2048, 2048, 1), 5)), "its frames add up to more than 16777216 pixels"},
	}
	const allowed = 64 << 10
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			n := allocatedBytes(func() { _, err = Check(tt.in, Limits{}) })
			var e *Error
			if !errors.As(err, &e) || !strings.Contains(e.Reason, tt.wantReason) {
				t.Fatalf("Check() error = %v, want a reason containing %q", err, tt.wantReason)
			}
			if n > allowed {
				t.Errorf("Check() allocated %d bytes before refusing, want at most %d", n, allowed)
			}
		})
	}
}

// repeatFrames returns the single-frame GIF g with its frame repeated n times.
func repeatFrames(g []byte, n int) []byte {
	frameStart := 13 + colorTableSize(g[10])
	frame := g[frameStart : len(g)-1] // up to the trailer
	out := bytes.Clone(g[:frameStart])
	for range n {
		out = append(out, frame...)
	}
	return append(out, 0x3b)
}

func TestError(t *testing.T) {
	_, err := Check(DataURL("image/png", []byte("\x89PNG\r\n\x1a\nshort")), Limits{})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Check() error = %v, want *Error", err)
	}
	if e.Reason != "image data is corrupt or truncated" {
		t.Errorf("Reason = %q, want the short text only", e.Reason)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Check() error = %v, want it to wrap the decoder's io.ErrUnexpectedEOF", err)
	}
	if got, want := err.Error(), "image refused: image data is corrupt or truncated: unexpected EOF"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestMaxEncodedLen(t *testing.T) {
	tests := []struct {
		name string
		lim  Limits
		want int
	}{
		{"defaults", Limits{}, 23 + 349528},
		{"negative means default", Limits{MaxBytes: -1}, 23 + 349528},
		{"1 KiB", Limits{MaxBytes: 1024}, 23 + 1368},
		{"one byte", Limits{MaxBytes: 1}, 23 + 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaxEncodedLen(tt.lim); got != tt.want {
				t.Errorf("MaxEncodedLen(%+v) = %d, want %d", tt.lim, got, tt.want)
			}
		})
	}

	// The bound is tight: the longest data URL Check accepts has exactly this length.
	lim := Limits{MaxBytes: 1 << 10}
	jpeg := encodeJPEG(t, 8, 8, 50)
	jpeg = append(jpeg, make([]byte, lim.MaxBytes-len(jpeg))...) // jpeg.Decode stops at EOI
	s := DataURL("image/jpeg", jpeg)
	if len(s) != MaxEncodedLen(lim) {
		t.Fatalf("longest upload is %d long, MaxEncodedLen = %d", len(s), MaxEncodedLen(lim))
	}
	if _, err := Check(s, lim); err != nil {
		t.Errorf("Check(upload of exactly MaxBytes) = %v", err)
	}
	if _, err := Check(s+"A", lim); err == nil {
		t.Errorf("Check(upload longer than MaxEncodedLen) succeeded")
	}
}

func TestLimitsDefaults(t *testing.T) {
	tests := []struct {
		name string
		lim  Limits
		want Limits
	}{
		{"zero", Limits{}, Limits{MaxBytes: 256 << 10, MaxWidth: 2048, MaxHeight: 2048, MaxPixels: 2048 * 2048}},
		{"pixels follow width and height", Limits{MaxWidth: 100, MaxHeight: 50}, Limits{MaxBytes: 256 << 10, MaxWidth: 100, MaxHeight: 50, MaxPixels: 5000}},
		{"explicit values kept", Limits{1, 2, 3, 4}, Limits{1, 2, 3, 4}},
		{"no overflow", Limits{MaxWidth: 1 << 62, MaxHeight: 1 << 62}, Limits{MaxBytes: 256 << 10, MaxWidth: 1 << 62, MaxHeight: 1 << 62, MaxPixels: 1<<63 - 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.lim.withDefaults(); got != tt.want {
				t.Errorf("withDefaults() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDataURL(t *testing.T) {
	if got, want := DataURL("image/gif", []byte("GIF89a")), "data:image/gif;base64,R0lGODlh"; got != want {
		t.Errorf("DataURL() = %q, want %q", got, want)
	}
	if got, want := DataURL("image/png", nil), "data:image/png;base64,"; got != want {
		t.Errorf("DataURL(nil) = %q, want %q", got, want)
	}
}

func BenchmarkCheck50KB(b *testing.B) {
	data := encodeJPEG(b, 352, 256, 90)
	if len(data) < 45<<10 || len(data) > 55<<10 {
		b.Fatalf("benchmark JPEG is %d bytes, want about 50 KB", len(data))
	}
	s := DataURL("image/jpeg", data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Check(s, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
