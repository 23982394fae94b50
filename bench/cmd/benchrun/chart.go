package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// panel is one small bar chart of the figure: one workload, one bar per server.
type panel struct {
	workload, title, unit string
	value                 func(*agg) float64
	lowerIsBetter         bool
	servers               []string // default: the four servers under test
}

var (
	mainServers = []string{"typed", "raw", "node", "limit"}
	propServers = []string{"typed", "typed+proposals", "raw", "node"}
	tput        = func(a *agg) float64 { return a.tput }
	p99ms       = func(a *agg) float64 { return a.p99 / 1e3 }
	rssPerConn  = func(a *agg) float64 { return f(a.extra, "rss_per_conn_kb") }
)

var panels = []panel{
	{"W0-pinned", "W0 echo, 1 core each", "round trips/s", tput, false, nil},
	{"W2-50-pinned", "W2 set-username ×50, 1 core each", "round trips/s", tput, false, nil},
	{"W2-50", "W2 set-username ×50, 2 cores", "round trips/s", tput, false, nil},
	{"W2-500", "W2 set-username ×500, 2 cores", "round trips/s", tput, false, nil},
	{"W1", "W1 handshake + token restore", "connections/s", tput, false, nil},
	{"W3", "W3 upload 50 KB photo ×8", "uploads/s (limit: no photo check)", tput, false, nil},
	{"W2-50-rate", "W2 ×50 at a fixed rate: p99", "ms (lower is better)", p99ms, true, nil},
	{"W4-rate", "W4 room broadcast, fixed rate: receiver p99", "ms (lower is better)", p99ms, true, nil},
	{"W5", "W5 memory per idle connection", "KB RSS (lower is better)", rssPerConn, true, nil},
	{"X-W0-pinned", "with the proposals: W0 echo, 1 core each", "round trips/s", tput, false, propServers},
	{"X-W2-50", "with the proposals: W2 ×50, 2 cores", "round trips/s", tput, false, propServers},
	{"X-W5", "with the proposals: W5 memory per idle conn.", "KB RSS (lower is better)", rssPerConn, true, []string{"typed", "typed+proposals"}},
}

var serverColors = map[string]color.RGBA{
	"typed":           {0x1f, 0x77, 0xb4, 0xff},
	"typed+proposals": {0x0b, 0x2e, 0x6b, 0xff},
	"raw":             {0xff, 0x7f, 0x0e, 0xff},
	"node":            {0x2c, 0xa0, 0x2c, 0xff},
	"limit":           {0x7f, 0x7f, 0x7f, 0xff},
}

type fonts struct{ title, text, small font.Face }

func loadFonts() (fonts, error) {
	reg, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return fonts{}, err
	}
	bold, err := opentype.Parse(gobold.TTF)
	if err != nil {
		return fonts{}, err
	}
	face := func(f *opentype.Font, size float64) (font.Face, error) {
		return opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	}
	var fs fonts
	if fs.title, err = face(bold, 17); err != nil {
		return fs, err
	}
	if fs.text, err = face(reg, 15); err != nil {
		return fs, err
	}
	fs.small, err = face(reg, 13)
	return fs, err
}

// writeChart draws the panels that have data into a PNG.
func writeChart(path string, res *results) error {
	byW := aggregate(res)
	var ps []panel
	for _, p := range panels {
		if len(byW[p.workload]) > 0 {
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		return nil
	}
	fs, err := loadFonts()
	if err != nil {
		return err
	}
	const cols, pw, ph, top = 3, 440, 300, 70
	rows := (len(ps) + cols - 1) / cols
	img := image.NewRGBA(image.Rect(0, 0, cols*pw+20, top+rows*ph+10))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	title := "KARL benchmarks: typed (karl-server) vs raw zishang520 vs Node.js socket.io vs the gorilla/websocket limit"
	text(img, fs.title, 14, 26, title, color.Black)
	sub := fmt.Sprintf("%s · %d cores · Go %s · Node %s · medians of alternating rounds", res.Meta.Date, res.Meta.Cores,
		res.Meta.Versions["go"], res.Meta.Versions["node"])
	if res.Meta.Quick {
		sub += " · QUICK MODE"
	}
	text(img, fs.small, 14, 46, sub, color.RGBA{0x55, 0x55, 0x55, 0xff})
	x := 14
	legend := []string{"typed", "raw", "node", "limit"}
	for _, p := range ps {
		if p.servers != nil { // a proposals panel has data
			legend = []string{"typed", "typed+proposals", "raw", "node", "limit"}
		}
	}
	for _, s := range legend {
		fill(img, image.Rect(x, 54, x+14, 66), serverColors[s])
		x += 20
		x = text(img, fs.small, x, 65, label(s), color.Black) + 18
	}
	for i, p := range ps {
		r := image.Rect(10+(i%cols)*pw, top+(i/cols)*ph, 10+(i%cols+1)*pw, top+(i/cols+1)*ph)
		drawPanel(img, fs, r.Inset(8), p, byW[p.workload])
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(out, img); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func drawPanel(img *image.RGBA, fs fonts, r image.Rectangle, p panel, byS map[string]*agg) {
	grey := color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
	text(img, fs.text, r.Min.X, r.Min.Y+14, p.title, color.Black)
	text(img, fs.small, r.Min.X, r.Min.Y+30, p.unit, color.RGBA{0x55, 0x55, 0x55, 0xff})
	plot := image.Rect(r.Min.X+6, r.Min.Y+52, r.Max.X-6, r.Max.Y-24)
	names := p.servers
	if names == nil {
		names = mainServers
	}
	// A bar more than 4 times the next one (the limit without a photo check)
	// is clipped, so the others stay readable.
	var vals []float64
	for _, s := range names {
		if a := byS[s]; a != nil && a.n > 0 {
			vals = append(vals, p.value(a))
		}
	}
	slices.Sort(vals)
	var vmax float64
	if n := len(vals); n > 0 {
		vmax = vals[n-1]
		if n > 1 && vals[n-1] > 4*vals[n-2] {
			vmax = vals[n-2] * 1.6
		}
	}
	if vmax <= 0 {
		text(img, fs.small, plot.Min.X, plot.Min.Y+20, "no data", color.Black)
		return
	}
	scale := niceCeil(vmax * 1.12)
	for g := 0; g <= 4; g++ { // grid lines
		y := plot.Max.Y - int(float64(plot.Dy())*float64(g)/4)
		fill(img, image.Rect(plot.Min.X, y, plot.Max.X, y+1), grey)
	}
	bw := plot.Dx() / len(names)
	for i, s := range names {
		x0 := plot.Min.X + i*bw + bw/6
		x1 := plot.Min.X + (i+1)*bw - bw/6
		text(img, fs.small, x0, plot.Max.Y+16, shortName(s), color.Black)
		a := byS[s]
		if a == nil || a.n == 0 {
			text(img, fs.small, x0, plot.Max.Y-6, "n/a", color.RGBA{0x99, 0x99, 0x99, 0xff})
			continue
		}
		v := p.value(a)
		h := min(int(float64(plot.Dy())*v/scale), plot.Dy())
		fill(img, image.Rect(x0, plot.Max.Y-h, x1, plot.Max.Y), serverColors[s])
		text(img, fs.small, x0, plot.Max.Y-h-4, short(v), color.Black)
	}
}

func shortName(s string) string {
	if s == "typed+proposals" {
		return "typed+prop."
	}
	return s
}

func niceCeil(v float64) float64 {
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10} {
		if m*e >= v {
			return m * e
		}
	}
	return 10 * e
}

func short(v float64) string {
	switch {
	case v >= 10000:
		return fmt.Sprintf("%.1fk", v/1000)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func fill(img *image.RGBA, r image.Rectangle, c color.Color) {
	draw.Draw(img, r, &image.Uniform{C: c}, image.Point{}, draw.Src)
}

// text draws s with its baseline at y and returns the x where it ends.
func text(img *image.RGBA, face font.Face, x, y int, s string, c color.Color) int {
	d := font.Drawer{Dst: img, Src: &image.Uniform{C: c}, Face: face, Dot: fixed.P(x, y)}
	d.DrawString(s)
	return d.Dot.X.Round()
}
