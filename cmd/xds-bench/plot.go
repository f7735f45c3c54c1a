package main

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
)

// writePlot draws the cumulative distribution of "etcd write → all
// affected streams updated" for shardmesh (blue) and bare go-control-plane
// (red) on a log-scale time axis, 1 ms to 100 s, as a PNG.
func writePlot(path string, r *report) error {
	const w, h, margin = 800, 400, 40
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.White)
		}
	}
	grey := color.RGBA{200, 200, 200, 255}
	black := color.Black
	// Axes and decade grid: 0.1 ms .. 100 s.
	lo, hi := math.Log10(0.1), math.Log10(100000.0)
	xOf := func(ms float64) int {
		v := math.Log10(math.Max(ms, 0.1))
		return margin + int((v-lo)/(hi-lo)*float64(w-2*margin))
	}
	yOf := func(frac float64) int { return h - margin - int(frac*float64(h-2*margin)) }
	for d := lo; d <= hi; d++ {
		x := xOf(math.Pow(10, d))
		for y := margin; y <= h-margin; y++ {
			img.Set(x, y, grey)
		}
		// a tick mark per decade, taller at 1 ms, 1 s
		for y := h - margin; y < h-margin+8; y++ {
			img.Set(x, y, black)
		}
	}
	for q := 0.0; q <= 1.0; q += 0.25 {
		y := yOf(q)
		for x := margin; x <= w-margin; x++ {
			img.Set(x, y, grey)
		}
	}
	for x := margin; x <= w-margin; x++ {
		img.Set(x, h-margin, black)
	}
	for y := margin; y <= h-margin; y++ {
		img.Set(margin, y, black)
	}
	draw := func(samples []float64, c color.Color) {
		s := sorted(samples)
		for i, v := range s {
			x, y := xOf(v), yOf(float64(i+1)/float64(len(s)))
			for dx := -2; dx <= 2; dx++ {
				for dy := -2; dy <= 2; dy++ {
					img.Set(x+dx, y+dy, c)
				}
			}
		}
	}
	if r.Bare != nil {
		draw(r.Bare.Latencies, color.RGBA{220, 40, 40, 255})
	}
	draw(r.Ours.FloorMS, color.RGBA{120, 120, 120, 255})
	draw(r.Ours.Latencies, color.RGBA{30, 80, 220, 255})
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return png.Encode(f, img)
}
