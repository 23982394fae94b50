package imagecheck

import "encoding/binary"

// maxGIFFrames bounds the frames of an animated GIF.
const maxGIFFrames = 100

// checkGIFFrames walks the block structure of a GIF without decompressing it,
// and refuses animations that would cost too much to decode in full: more than
// maxGIFFrames frames, or frames whose areas add up to more than 4×MaxPixels.
// gif.DecodeAll keeps every frame as an image.Paletted of one byte per pixel,
// so that bounds its memory to what one RGBA image of MaxPixels would take.
//
// The walk judges only cost. Anything malformed is left to gif.DecodeAll,
// which reads the same structure and stops at the same place, having
// allocated no more than the frames counted here.
func checkGIFFrames(data []byte, lim Limits) error {
	budget := int64(saturatingMul(lim.MaxPixels, 4))
	const screenEnd = 13 // "GIF89a", then the logical screen descriptor
	if len(data) < screenEnd {
		return nil
	}
	p := screenEnd + colorTableSize(data[10])
	frames, area := 0, int64(0)
	for p < len(data) {
		switch data[p] {
		case 0x21: // extension: a label, then sub-blocks
			p = skipSubBlocks(data, p+2)
		case 0x2c: // image descriptor: position, size and flags, then an optional color table, the LZW code size and sub-blocks
			if p+10 > len(data) {
				return nil
			}
			width := int(binary.LittleEndian.Uint16(data[p+5:]))
			height := int(binary.LittleEndian.Uint16(data[p+7:]))
			frames++
			area += int64(width) * int64(height)
			if frames > maxGIFFrames {
				return refuse("GIF has more than %d frames", maxGIFFrames)
			}
			if area > budget {
				return refuse("GIF animation is too large: its frames add up to more than %d pixels", budget)
			}
			p = skipSubBlocks(data, p+10+colorTableSize(data[p+9])+1)
		default: // the trailer, 0x3b, or something gif.DecodeAll will refuse
			return nil
		}
	}
	return nil
}

// colorTableSize returns the size of the color table that the packed flags
// byte of a logical screen or image descriptor announces.
func colorTableSize(flags byte) int {
	if flags&0x80 == 0 {
		return 0
	}
	return 3 << (flags&7 + 1)
}

// skipSubBlocks returns the index just past the chain of sub-blocks starting
// at p, each a length byte then that many bytes, ended by a zero length.
// It returns len(data) or more if the chain is truncated.
func skipSubBlocks(data []byte, p int) int {
	for p < len(data) {
		n := int(data[p])
		p++
		if n == 0 {
			return p
		}
		p += n
	}
	return p
}
