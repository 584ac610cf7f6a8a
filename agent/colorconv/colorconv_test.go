package colorconv

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// reference is BT.601 limited-range conversion in floating point.
func reference(c color.RGBA) (y, cb, cr float64) {
	r, g, b := float64(c.R), float64(c.G), float64(c.B)
	y = 16 + 219*(0.299*r+0.587*g+0.114*b)/255
	cb = 128 + 224*(-0.168736*r-0.331264*g+0.5*b)/255
	cr = 128 + 224*(0.5*r-0.418688*g-0.081312*b)/255
	return y, cb, cr
}

// bgrx returns a w×h BGRX picture (with stride padding) painted by at.
func bgrx(w, h, pad int, at func(x, y int) color.RGBA) (pix []byte, stride int) {
	stride = 4*w + pad
	pix = make([]byte, stride*h)
	for y := range h {
		for x := range w {
			c := at(x, y)
			copy(pix[y*stride+4*x:], []byte{c.B, c.G, c.R, 0xee})
		}
	}
	return pix, stride
}

func near(got uint8, want float64) bool { return math.Abs(float64(got)-want) <= 1 }

func TestSolidColours(t *testing.T) {
	colours := map[string]struct {
		c         color.RGBA
		y, cb, cr uint8 // BT.601 limited-range textbook values
	}{
		"black": {color.RGBA{0, 0, 0, 255}, 16, 128, 128},
		"white": {color.RGBA{255, 255, 255, 255}, 235, 128, 128},
		"red":   {color.RGBA{255, 0, 0, 255}, 81, 90, 240},
		"green": {color.RGBA{0, 255, 0, 255}, 145, 54, 34},
		"blue":  {color.RGBA{0, 0, 255, 255}, 41, 240, 110},
		"grey":  {color.RGBA{128, 128, 128, 255}, 126, 128, 128},
	}
	for _, size := range []image.Point{{64, 48}, {33, 17}, {1, 1}} {
		for name, tc := range colours {
			t.Run(fmt.Sprintf("%s/%dx%d", name, size.X, size.Y), func(t *testing.T) {
				src, stride := bgrx(size.X, size.Y, 12, func(int, int) color.RGBA { return tc.c })
				dst := image.NewYCbCr(image.Rect(0, 0, size.X, size.Y), image.YCbCrSubsampleRatio420)
				if err := BGRXToI420(dst, src, stride, dst.Rect); err != nil {
					t.Fatal(err)
				}
				for i, v := range dst.Y {
					if !near(v, float64(tc.y)) {
						t.Fatalf("Y[%d] = %d, want %d", i, v, tc.y)
					}
				}
				for i := range dst.Cb {
					if !near(dst.Cb[i], float64(tc.cb)) || !near(dst.Cr[i], float64(tc.cr)) {
						t.Fatalf("Cb,Cr[%d] = %d,%d, want %d,%d", i, dst.Cb[i], dst.Cr[i], tc.cb, tc.cr)
					}
				}
			})
		}
	}
}

// TestAgainstReference converts random pixels and compares every sample
// with the floating-point formula; chroma is that of the 2×2 block's mean.
func TestAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const w, h = 199, 101 // odd on purpose
	colours := make([]color.RGBA, w*h)
	for i := range colours {
		colours[i] = color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
	}
	at := func(x, y int) color.RGBA { return colours[y*w+x] }
	src, stride := bgrx(w, h, 0, at)
	dst := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	if err := BGRXToI420(dst, src, stride, dst.Rect); err != nil {
		t.Fatal(err)
	}
	for y := range h {
		for x := range w {
			want, _, _ := reference(at(x, y))
			if got := dst.Y[dst.YOffset(x, y)]; !near(got, want) {
				t.Fatalf("Y(%d,%d) = %d, want %.1f", x, y, got, want)
			}
		}
	}
	for cy := 0; cy < (h+1)/2; cy++ {
		for cx := 0; cx < (w+1)/2; cx++ {
			var sb, sr float64
			n := 0.0
			for _, p := range []image.Point{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
				x, y := min(2*cx+p.X, w-1), min(2*cy+p.Y, h-1)
				_, cb, cr := reference(at(x, y))
				sb, sr, n = sb+cb, sr+cr, n+1
			}
			i := dst.COffset(2*cx, 2*cy)
			if !near(dst.Cb[i], sb/n) || !near(dst.Cr[i], sr/n) {
				t.Fatalf("Cb,Cr(%d,%d) = %d,%d, want %.1f,%.1f", cx, cy, dst.Cb[i], dst.Cr[i], sb/n, sr/n)
			}
		}
	}
}

// TestRectangle converts a sub-rectangle and checks that only it, widened
// to even coordinates, was written.
func TestRectangle(t *testing.T) {
	const w, h = 64, 40
	src, stride := bgrx(w, h, 0, func(int, int) color.RGBA { return color.RGBA{255, 255, 255, 255} })
	dst := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	if err := BGRXToI420(dst, src, stride, image.Rect(11, 5, 20, 9)); err != nil {
		t.Fatal(err)
	}
	written := image.Rect(10, 4, 20, 10)
	for y := range h {
		for x := range w {
			got := dst.Y[dst.YOffset(x, y)]
			if in := image.Pt(x, y).In(written); in != (got == 235) {
				t.Fatalf("Y(%d,%d) = %d, inside %v: %v", x, y, got, written, in)
			}
		}
	}
}

// TestParallelMatchesSerial checks that splitting rows among goroutines
// gives the same picture as one goroutine, for sizes whose row pairs do
// not divide evenly.
func TestParallelMatchesSerial(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, size := range []image.Point{{1920, 1080}, {1366, 769}, {37, 333}} {
		src := make([]byte, 4*size.X*size.Y)
		for i := range src {
			src[i] = uint8(rng.IntN(256))
		}
		serial := image.NewYCbCr(image.Rect(0, 0, size.X, size.Y), image.YCbCrSubsampleRatio420)
		convert(serial, src, 4*size.X, 0, size.X, 0, size.Y)
		prev := runtime.GOMAXPROCS(4)
		parallel := image.NewYCbCr(serial.Rect, image.YCbCrSubsampleRatio420)
		err := BGRXToI420(parallel, src, 4*size.X, parallel.Rect)
		runtime.GOMAXPROCS(prev)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(serial.Y, parallel.Y) || !bytes.Equal(serial.Cb, parallel.Cb) || !bytes.Equal(serial.Cr, parallel.Cr) {
			t.Fatalf("%v: parallel conversion differs from serial", size)
		}
	}
}

func TestErrors(t *testing.T) {
	dst := image.NewYCbCr(image.Rect(0, 0, 8, 8), image.YCbCrSubsampleRatio420)
	if err := BGRXToI420(dst, make([]byte, 4*8*8-1), 32, dst.Rect); err == nil {
		t.Error("short source: no error")
	}
	if err := BGRXToI420(dst, make([]byte, 4*8*8), 16, dst.Rect); err == nil {
		t.Error("stride below width: no error")
	}
	d444 := image.NewYCbCr(dst.Rect, image.YCbCrSubsampleRatio444)
	if err := BGRXToI420(d444, make([]byte, 4*8*8), 32, dst.Rect); err == nil {
		t.Error("4:4:4 destination: no error")
	}
}

// BenchmarkBGRXToI420 converts a full 1920x1080 frame; the conversion has
// no data-dependent branches, so the content does not matter.
func BenchmarkBGRXToI420(b *testing.B) {
	const w, h = 1920, 1080
	src := make([]byte, 4*w*h)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range src {
		src[i] = uint8(rng.IntN(256))
	}
	dst := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for _, procs := range []int{1, 2} {
		b.Run(fmt.Sprintf("goroutines=%d", procs), func(b *testing.B) {
			prev := runtime.GOMAXPROCS(procs)
			defer runtime.GOMAXPROCS(prev)
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				if err := BGRXToI420(dst, src, 4*w, dst.Rect); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/frame")
		})
	}
}
