package imagecheck

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// pattern returns a w×h image with a gradient and some noise, so that
// encoders produce realistic, not trivially compressible, output.
func pattern(w, h int, seed uint64) *image.NRGBA {
	rng := rand.New(rand.NewPCG(seed, 0))
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			n := uint8(rng.IntN(64))
			m.SetNRGBA(x, y, color.NRGBA{uint8(x*255/max(w-1, 1)) ^ n, uint8(y*255/max(h-1, 1)) ^ n, n * 4, 255})
		}
	}
	return m
}

func encodePNG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, pattern(w, h, 1)); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func encodeJPEG(tb testing.TB, w, h, quality int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, pattern(w, h, 2), &jpeg.Options{Quality: quality}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// encodeGIF returns a w×h GIF with the given number of full-size frames.
func encodeGIF(tb testing.TB, w, h, frames int) []byte {
	tb.Helper()
	g := &gif.GIF{}
	for i := range frames {
		m := image.NewPaletted(image.Rect(0, 0, w, h), palette.Plan9)
		for p := range m.Pix {
			m.Pix[p] = uint8(i + p%w%2) // stripes: a few KB of LZW even at 2048x2048
		}
		g.Image = append(g.Image, m)
		g.Delay = append(g.Delay, 10)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// emptyGIF is a GIF whose logical screen is 0×0, with no frames.
func emptyGIF() []byte {
	return []byte("GIF89a\x00\x00\x00\x00\x00\x00\x00\x3b")
}

// pngHeader returns a PNG that claims to be w×h: a signature, an IHDR with a
// valid CRC, and a tiny IDAT, so that png.Decode would allocate all w×h
// pixels before finding out that the data is missing.
func pngHeader(w, h uint32) []byte {
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8-bit RGBA, deflate, no filter, no interlace
	writeChunk(&buf, "IHDR", ihdr)
	writeChunk(&buf, "IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}) // zlib of nothing
	writeChunk(&buf, "IEND", nil)
	return buf.Bytes()
}

func writeChunk(buf *bytes.Buffer, typ string, data []byte) {
	buf.Write(binary.BigEndian.AppendUint32(nil, uint32(len(data))))
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	buf.WriteString(typ)
	buf.Write(data)
	buf.Write(binary.BigEndian.AppendUint32(nil, crc.Sum32()))
}

// progressiveJPEG returns a valid grayscale progressive JPEG of w×h (multiples
// of 8) made of one DC scan and acScans-1 AC scans, each AC scan a few bytes:
// end-of-band runs that cover every block. This is the shape of a scan bomb.
func progressiveJPEG(w, h, acScans int) []byte {
	var buf bytes.Buffer
	segment := func(marker byte, body []byte) {
		buf.Write([]byte{0xff, marker})
		buf.Write(binary.BigEndian.AppendUint16(nil, uint16(len(body)+2)))
		buf.Write(body)
	}
	buf.Write([]byte{0xff, 0xd8})
	segment(0xdb, append([]byte{0x00}, bytes.Repeat([]byte{1}, 64)...)) // DQT: all ones
	segment(0xc2, []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 1, 1, 0x11, 0})
	// DC table: one 1-bit code, "0" = category 0 (no change).
	segment(0xc4, append([]byte{0x00, 1}, append(make([]byte, 15), 0x00)...))
	// AC table: two 1-bit codes, "0" = EOB14 (a run of 2^14 + 14 bits), "1" = EOB0 (one block).
	segment(0xc4, append([]byte{0x10, 2}, append(make([]byte, 15), 0xe0, 0x00)...))
	blocks := (w / 8) * (h / 8)

	segment(0xda, []byte{1, 1, 0x00, 0, 0, 0}) // DC first scan
	var bw bitWriter
	for range blocks {
		bw.write(0, 1)
	}
	buf.Write(bw.flush())

	for range acScans {
		segment(0xda, []byte{1, 1, 0x00, 1, 63, 0}) // AC first scan over the whole band
		for left := blocks; left > 0; {
			if left >= 1<<14 {
				run := min(left, 1<<15-1)
				bw.write(0, 1)
				bw.write(uint32(run-1<<14), 14)
				left -= run
			} else {
				bw.write(1, 1)
				left--
			}
		}
		buf.Write(bw.flush())
	}
	buf.Write([]byte{0xff, 0xd9})
	return buf.Bytes()
}

// bitWriter writes JPEG entropy-coded data, stuffing a zero after each 0xff.
type bitWriter struct {
	out   []byte
	acc   uint64
	nbits uint
}

func (b *bitWriter) write(bits uint32, n uint) {
	b.acc = b.acc<<n | uint64(bits)&(1<<n-1)
	b.nbits += n
	for b.nbits >= 8 {
		b.emit(byte(b.acc >> (b.nbits - 8)))
		b.nbits -= 8
	}
}

func (b *bitWriter) emit(c byte) {
	b.out = append(b.out, c)
	if c == 0xff {
		b.out = append(b.out, 0)
	}
}

// flush pads the last byte with ones, as JPEG requires, and returns the data.
func (b *bitWriter) flush() []byte {
	if b.nbits > 0 {
		b.write(1<<(8-b.nbits)-1, 8-b.nbits)
	}
	out := b.out
	*b = bitWriter{}
	return out
}

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func b64(data []byte) string { return base64.StdEncoding.EncodeToString(data) }

// allocatedBytes returns how many bytes f allocates on the heap.
func allocatedBytes(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
