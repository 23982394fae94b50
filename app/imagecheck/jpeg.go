package imagecheck

import "encoding/binary"

// maxJPEGScans bounds the scans of a JPEG. Baseline files have one to three
// and progressive ones about ten; an attacker's progressive file can have
// thousands, since each scan can be a few bytes (one end-of-band run covering
// every block) yet costs the decoder a pass over every block of the image.
const maxJPEGScans = 100

// checkJPEGScans counts the start-of-scan markers of a JPEG, finding markers
// the way image/jpeg does, and refuses more than maxJPEGScans. Anything
// malformed is left to jpeg.Decode.
func checkJPEGScans(data []byte, _ Limits) error {
	const (
		sos = 0xda
		eoi = 0xd9
	)
	scans := 0
	p := 2 // past the start-of-image marker
	for {
		// Bytes before a marker are entropy-coded data, or junk that the
		// decoder skips; 0xff bytes before a marker code are fill.
		for p < len(data) && data[p] != 0xff {
			p++
		}
		for p < len(data) && data[p] == 0xff {
			p++
		}
		if p >= len(data) {
			return nil
		}
		marker := data[p]
		p++
		switch {
		case marker == 0x00: // a stuffed 0xff inside entropy-coded data
			continue
		case 0xd0 <= marker && marker <= 0xd7: // restart markers have no length
			continue
		case marker == eoi:
			return nil
		}
		if p+2 > len(data) {
			return nil
		}
		length := int(binary.BigEndian.Uint16(data[p:]))
		if length < 2 {
			return nil
		}
		p += length
		if marker == sos {
			scans++
			if scans > maxJPEGScans {
				return refuse("JPEG has more than %d scans", maxJPEGScans)
			}
		}
	}
}
