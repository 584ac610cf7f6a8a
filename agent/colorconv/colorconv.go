// Package colorconv converts captured BGRX pixels into the I420 (planar
// YUV 4:2:0) pictures that video encoders take.
//
// Pictures are *image.YCbCr values with image.YCbCrSubsampleRatio420,
// allocated with image.NewYCbCr. Unlike image/color's JPEG convention their
// samples are BT.601 limited range (Y 16–235, Cb/Cr 16–240), which is what
// VP8, VP9 and H.264 decoders in browsers assume when a stream carries no
// colour description.
package colorconv

import (
	"fmt"
	"image"
	"runtime"
	"sync"
)

// minRowsPerWorker keeps small conversions (a typed character, a cursor)
// on the calling goroutine, where a goroutine start would cost more than
// the work.
const minRowsPerWorker = 32

// BGRXToI420 converts the rectangle r of src into dst, in parallel on up to
// GOMAXPROCS goroutines. src holds BGRX pixels (byte order B, G, R, unused;
// an X11 ZPixmap of depth 24 on a little-endian machine) laid out like dst,
// stride bytes per row, with dst.Rect.Min at src[0]. r is widened to even
// coordinates, because each chroma sample covers 2×2 pixels, and clipped
// to dst.Rect; pass dst.Rect to convert everything.
func BGRXToI420(dst *image.YCbCr, src []byte, stride int, r image.Rectangle) error {
	if dst.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		return fmt.Errorf("colorconv: destination subsampling is %v, want 4:2:0", dst.SubsampleRatio)
	}
	b := dst.Rect
	w, h := b.Dx(), b.Dy()
	if stride < 4*w || len(src) < (h-1)*stride+4*w {
		return fmt.Errorf("colorconv: %d-byte source with stride %d is too small for %dx%d", len(src), stride, w, h)
	}
	// Work in coordinates relative to dst.Rect.Min from here on.
	r = r.Intersect(b).Sub(b.Min)
	if r.Empty() {
		return nil
	}
	r.Min.X &^= 1
	r.Min.Y &^= 1
	r.Max.X = min(r.Max.X+r.Max.X&1, w)
	r.Max.Y = min(r.Max.Y+r.Max.Y&1, h)

	pairs := (r.Dy() + 1) / 2
	workers := min(runtime.GOMAXPROCS(0), pairs*2/minRowsPerWorker)
	if workers <= 1 {
		convert(dst, src, stride, r.Min.X, r.Max.X, r.Min.Y, r.Max.Y)
		return nil
	}
	var wg sync.WaitGroup
	for i := range workers {
		y0 := r.Min.Y + pairs*i/workers*2
		y1 := min(r.Min.Y+pairs*(i+1)/workers*2, r.Max.Y)
		wg.Go(func() { convert(dst, src, stride, r.Min.X, r.Max.X, y0, y1) })
	}
	wg.Wait()
	return nil
}

// convert converts columns [x0,x1) of rows [y0,y1); x0 and y0 are even.
// A missing partner row or column at an odd edge is replaced by its
// neighbour, so the edge chroma samples average what exists.
func convert(dst *image.YCbCr, src []byte, stride, x0, x1, y0, y1 int) {
	for y := y0; y < y1; y += 2 {
		ya := y
		yb := min(y+1, y1-1)
		sa := src[ya*stride+4*x0 : ya*stride+4*x1]
		sb := src[yb*stride+4*x0 : yb*stride+4*x1]
		da := dst.Y[ya*dst.YStride+x0 : ya*dst.YStride+x1]
		db := dst.Y[yb*dst.YStride+x0 : yb*dst.YStride+x1]
		c := (y/2)*dst.CStride + x0/2
		n := (x1 - x0 + 1) / 2
		du, dv := dst.Cb[c:c+n], dst.Cr[c:c+n]
		// Array pointers keep bounds checks to one per access group and
		// free registers; this loop is 10% faster than advancing six
		// slices.
		j := 0
		for ; 2*j+1 < len(da); j++ {
			p, q := (*[8]byte)(sa[8*j:]), (*[8]byte)(sb[8*j:])
			b0, g0, r0 := int32(p[0]), int32(p[1]), int32(p[2])
			b1, g1, r1 := int32(p[4]), int32(p[5]), int32(p[6])
			b2, g2, r2 := int32(q[0]), int32(q[1]), int32(q[2])
			b3, g3, r3 := int32(q[4]), int32(q[5]), int32(q[6])
			ya, yb := (*[2]byte)(da[2*j:]), (*[2]byte)(db[2*j:])
			ya[0], ya[1] = luma(r0, g0, b0), luma(r1, g1, b1)
			yb[0], yb[1] = luma(r2, g2, b2), luma(r3, g3, b3)
			du[j], dv[j] = chroma(r0+r1+r2+r3, g0+g1+g2+g3, b0+b1+b2+b3)
		}
		if 2*j < len(da) {
			// Odd width: the last column pairs with itself.
			p, q := (*[4]byte)(sa[8*j:]), (*[4]byte)(sb[8*j:])
			b0, g0, r0 := int32(p[0]), int32(p[1]), int32(p[2])
			b2, g2, r2 := int32(q[0]), int32(q[1]), int32(q[2])
			da[2*j], db[2*j] = luma(r0, g0, b0), luma(r2, g2, b2)
			du[j], dv[j] = chroma(2*(r0+r2), 2*(g0+g2), 2*(b0+b2))
		}
	}
}

// luma is BT.601 limited-range Y of one pixel, in 8-bit fixed point.
func luma(r, g, b int32) uint8 {
	return uint8((66*r+129*g+25*b+128)>>8 + 16)
}

// chroma is BT.601 limited-range Cb and Cr of the sums of four pixels.
func chroma(r, g, b int32) (cb, cr uint8) {
	cb = uint8((-38*r - 74*g + 112*b + 512 + 128<<10) >> 10)
	cr = uint8((112*r - 94*g - 18*b + 512 + 128<<10) >> 10)
	return cb, cr
}
