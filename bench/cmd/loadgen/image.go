package main

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"sync"
)

// photo returns the photo of the upload workload (W3) as a data URL: a
// 640x480 JPEG of about 50 KB with a photo's mix of smooth gradients and
// fine noise, the same bytes on every run (fixed seed).
var photo = sync.OnceValues(func() (string, error) {
	const w, h = 640, 480
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(1, 2))
	for y := range h {
		for x := range w {
			fx, fy := float64(x)/w, float64(y)/h
			r := 128 + 100*math.Sin(6*fx+2*fy) + rng.NormFloat64()*6
			g := 128 + 90*math.Cos(4*fy-3*fx) + rng.NormFloat64()*6
			b := 128 + 80*math.Sin(9*fx*fy) + rng.NormFloat64()*6
			img.Set(x, y, color.RGBA{clamp(r), clamp(g), clamp(b), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 70}); err != nil {
		return "", err
	}
	return "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
})

func clamp(v float64) uint8 { return uint8(max(0, min(255, v))) }
