package capture

import (
	"image"
	"image/color"
	"slices"
	"testing"
)

func TestDiffTiles(t *testing.T) {
	const w, h = 200, 130 // partial tiles at the right and bottom edges
	stride := 4*w + 8
	a := make([]byte, stride*h)
	b := make([]byte, stride*h)
	if got := diffTiles(a, b, stride, image.Pt(w, h), nil); len(got) != 0 {
		t.Fatalf("equal pictures: %v", got)
	}
	set := func(x, y int) { b[y*stride+4*x] = 1 }
	set(0, 0)       // tile (0,0)
	set(70, 5)      // tile (1,0): joins the first
	set(199, 129)   // tile (3,2), the bottom-right partial one
	b[stride-1] = 9 // padding beyond the row is ignored
	want := []image.Rectangle{image.Rect(0, 0, 128, 64), image.Rect(192, 128, 200, 130)}
	if got := diffTiles(a, b, stride, image.Pt(w, h), nil); !slices.Equal(got, want) {
		t.Fatalf("diffTiles = %v, want %v", got, want)
	}
}

func TestAppendChangedMerges(t *testing.T) {
	var rs []image.Rectangle
	for i := range maxChanged + 1 {
		rs = appendChanged(rs, image.Rect(i*10, 0, i*10+5, 5))
	}
	if want := image.Rect(0, 0, maxChanged*10+5, 5); len(rs) != 1 || rs[0] != want {
		t.Fatalf("after %d rectangles: %v, want [%v]", maxChanged+1, rs, want)
	}
	if rs = appendChanged(rs, image.Rectangle{}); len(rs) != 1 {
		t.Fatalf("an empty rectangle was added: %v", rs)
	}
}

func TestCursorBlendAndRestore(t *testing.T) {
	// A 4x4 frame of grey and a 2x2 pointer: opaque red, half-transparent
	// white (premultiplied 128,128,128,128), transparent, opaque black.
	const stride = 16
	pix := make([]byte, stride*4)
	for i := range pix {
		pix[i] = 100
	}
	orig := slices.Clone(pix)
	shape := &CursorShape{Hot: image.Pt(1, 1), Image: image.NewRGBA(image.Rect(0, 0, 2, 2))}
	copy(shape.Image.Pix, []byte{255, 0, 0, 255, 128, 128, 128, 128, 0, 0, 0, 0, 0, 0, 0, 255})

	// Hotspot at (0,0): only the shape's bottom-right pixel (black) is in the frame.
	r := cursorRect(image.Pt(0, 0), shape, image.Pt(4, 4))
	if r != image.Rect(0, 0, 1, 1) {
		t.Fatalf("clipped cursorRect = %v", r)
	}

	pos := image.Pt(2, 2)
	r = cursorRect(pos, shape, image.Pt(4, 4))
	if r != image.Rect(1, 1, 3, 3) {
		t.Fatalf("cursorRect = %v", r)
	}
	under := saveAndBlend(pix, stride, r, pos, shape, nil)
	px := func(x, y int) color.RGBA {
		p := pix[y*stride+4*x:]
		return color.RGBA{R: p[2], G: p[1], B: p[0]}
	}
	for _, c := range []struct {
		x, y int
		want color.RGBA
	}{
		{1, 1, color.RGBA{R: 255}},
		{2, 1, color.RGBA{R: 178, G: 178, B: 178}}, // 128 + 100*127/255
		{1, 2, color.RGBA{R: 100, G: 100, B: 100}},
		{2, 2, color.RGBA{}},
		{0, 0, color.RGBA{R: 100, G: 100, B: 100}},
	} {
		if got := px(c.x, c.y); got != c.want {
			t.Errorf("pixel (%d,%d) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
	restore(pix, stride, r, under)
	if !slices.Equal(pix, orig) {
		t.Fatal("restore did not bring back the original pixels")
	}
}
