package imagecheck

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// fuzzLimits are the limits FuzzCheck checks each input against: the
// defaults, and limits small enough for mutated inputs to cross them.
var fuzzLimits = []Limits{
	{},
	{MaxBytes: 2048, MaxWidth: 32, MaxHeight: 16, MaxPixels: 300},
}

// FuzzCheck asserts that Check never panics, refuses only with an *Error, and
// accepts only images within the limits. Each input is checked twice: as the
// upload string, and as the bytes of an image sent as raw base64, so that
// mutations reach the image decoders directly as well as through the base64
// and data URL checks.
func FuzzCheck(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		for _, lim := range fuzzLimits {
			checkInvariants(t, s, lim)
			checkInvariants(t, b64([]byte(s)), lim)
		}
	})
}

func checkInvariants(t *testing.T, s string, lim Limits) {
	img, err := Check(s, lim)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) || e.Reason == "" {
			t.Fatalf("Check() error = %#v, want an *Error with a Reason", err)
		}
		return
	}
	lim = lim.withDefaults()
	f := formatByMIME(img.MIME)
	switch {
	case f == nil || f.mime != img.MIME:
		t.Fatalf("Check() MIME = %q, want one of %s", img.MIME, acceptedMIMEs())
	case !f.magic(img.Data):
		t.Fatalf("Check() accepted %s data without its magic bytes", img.MIME)
	case len(img.Data) > lim.MaxBytes || len(s) > MaxEncodedLen(lim):
		t.Fatalf("Check() accepted %d bytes from %d characters, limits %d and %d", len(img.Data), len(s), lim.MaxBytes, MaxEncodedLen(lim))
	case img.Width <= 0 || img.Height <= 0 || img.Width > lim.MaxWidth || img.Height > lim.MaxHeight:
		t.Fatalf("Check() accepted %dx%d, limits %dx%d", img.Width, img.Height, lim.MaxWidth, lim.MaxHeight)
	case int64(img.Width)*int64(img.Height) > int64(lim.MaxPixels):
		t.Fatalf("Check() accepted %dx%d, limit %d pixels", img.Width, img.Height, lim.MaxPixels)
	}
}

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the seed corpus in testdata/fuzz/FuzzCheck")

// TestFuzzCorpus writes FuzzCheck's seed corpus when run with -update-corpus:
//
//	go test ./app/imagecheck -run TestFuzzCorpus -update-corpus
//
// Plain `go test` replays the committed files as FuzzCheck's seeds.
func TestFuzzCorpus(t *testing.T) {
	if !*updateCorpus {
		t.Skip("run with -update-corpus to rewrite the seed corpus")
	}
	pngData := encodePNG(t, 4, 3)
	jpegData := encodeJPEG(t, 4, 3, 75)
	gifData := encodeGIF(t, 4, 3, 2)
	seeds := map[string]string{
		"png":                  DataURL("image/png", pngData),
		"png-raw-bytes":        string(pngData),
		"png-100000x100000":    string(pngHeader(100000, 100000)),
		"png-truncated":        DataURL("image/png", pngData[:len(pngData)-8]),
		"jpeg":                 DataURL("image/jpeg", jpegData),
		"jpeg-raw-bytes":       string(jpegData),
		"jpeg-progressive":     string(progressiveJPEG(16, 8, 3)),
		"gif-animated":         b64(gifData),
		"gif-raw-bytes":        string(gifData),
		"gif-empty":            string(emptyGIF()),
		"webp-lossless":        DataURL("image/webp", readTestdata(t, "lossless-3x2.webp")),
		"webp-lossless-bytes":  string(readTestdata(t, "lossless-3x2.webp")),
		"webp-lossy-bytes":     string(readTestdata(t, "lossy-3x2.webp")),
		"webp-alpha-bytes":     string(readTestdata(t, "lossy-alpha-3x2.webp")),
		"webp-animated-bytes":  string(readTestdata(t, "animated-3x2.webp")),
		"svg-as-png":           DataURL("image/png", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)),
		"svg-type":             "data:image/svg+xml;base64,PHN2Zy8+",
		"charset":              "data:image/png;charset=utf-8;base64,iVBORw0KGgo=",
		"url-safe":             "data:image/png;base64,iVBORw0KGgo-_w==",
		"whitespace":           "data:image/png;base64,iVBO\r\nRw0KGgo=",
		"unpadded":             "iVBORw0KGgo",
		"non-canonical":        "QR==",
		"empty":                "",
		"upper-case-prefix":    "DATA:IMAGE/GIF;BASE64," + b64(gifData),
		"mismatched-type":      DataURL("image/webp", jpegData),
		"no-comma":             "data:image/png;base64",
		"markup-with-bom-html": "\ufeff<html>",
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzCheck")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, s := range seeds {
		var buf bytes.Buffer
		fmt.Fprintf(&buf, "go test fuzz v1\nstring(%q)\n", s)
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
