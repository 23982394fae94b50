package imagecheck

// checkWebPStill refuses animated WebP with a reason the user can act on:
// golang.org/x/image/webp decodes still images only, so an animation would
// otherwise be refused as corrupt. Its VP8X header says so in a flag: "RIFF",
// size, "WEBP", "VP8X", chunk size, then the flags byte at offset 20.
func checkWebPStill(data []byte, _ Limits) error {
	const animationFlag = 1 << 1
	if len(data) > 20 && string(data[12:16]) == "VP8X" && data[20]&animationFlag != 0 {
		return refuse("animated WebP is not accepted; send a still image or an animated GIF")
	}
	return nil
}
