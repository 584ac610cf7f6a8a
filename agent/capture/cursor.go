package capture

import "image"

// cursorRect is where shape, with its hotspot at pos, covers a frame of
// the given size.
func cursorRect(pos image.Point, shape *CursorShape, size image.Point) image.Rectangle {
	if shape == nil {
		return image.Rectangle{}
	}
	r := shape.Image.Rect.Sub(shape.Image.Rect.Min).Add(pos.Sub(shape.Hot))
	return r.Intersect(image.Rectangle{Max: size})
}

// saveAndBlend copies the pixels of the BGRX picture pix (stride bytes a
// row) under r into under, which it returns resized, and then draws shape
// over them with its hotspot at pos. r must be cursorRect's result.
func saveAndBlend(pix []byte, stride int, r image.Rectangle, pos image.Point, shape *CursorShape, under []byte) []byte {
	under = under[:0]
	origin := pos.Sub(shape.Hot) // the shape's top-left corner in the frame
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := pix[y*stride+4*r.Min.X : y*stride+4*r.Max.X]
		under = append(under, row...)
		src := shape.Image.Pix[shape.Image.PixOffset(r.Min.X-origin.X, y-origin.Y):]
		for i := 0; i+3 < len(row); i += 4 {
			// Premultiplied "over": dst = src + dst*(1-alpha).
			s := src[i : i+4 : i+4]
			d := row[i : i+4 : i+4]
			keep := 255 - uint32(s[3])
			d[0] = uint8(uint32(s[2]) + (uint32(d[0])*keep+127)/255)
			d[1] = uint8(uint32(s[1]) + (uint32(d[1])*keep+127)/255)
			d[2] = uint8(uint32(s[0]) + (uint32(d[2])*keep+127)/255)
		}
	}
	return under
}

// restore writes under, saved by saveAndBlend for r, back into pix.
func restore(pix []byte, stride int, r image.Rectangle, under []byte) {
	n := 4 * r.Dx()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		copy(pix[y*stride+4*r.Min.X:], under[:n])
		under = under[n:]
	}
}
