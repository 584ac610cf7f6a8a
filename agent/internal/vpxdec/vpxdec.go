// Package vpxdec decodes VP8 and VP9 with libvpx, so that the agent's tests can check
// what the encoders produce.
package vpxdec

/*
#cgo pkg-config: vpx
#include <stdlib.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vp8dx.h>

// dec_init exists because vpx_codec_dec_init is a macro.
static vpx_codec_err_t dec_init(vpx_codec_ctx_t *ctx, int vp9) {
	vpx_codec_dec_cfg_t cfg = {0};
	cfg.threads = 1;
	return vpx_codec_dec_init(ctx, vp9 ? vpx_codec_vp9_dx() : vpx_codec_vp8_dx(), &cfg, 0);
}

// dec_plane returns plane i of img; cgo cannot index the array field.
static unsigned char *dec_plane(vpx_image_t *img, int i) { return img->planes[i]; }
static int dec_stride(vpx_image_t *img, int i) { return img->stride[i]; }
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"unsafe"
)

// Decoder decodes one VP8 or VP9 stream.
type Decoder struct {
	ctx *C.vpx_codec_ctx_t
}

// New returns a decoder for VP9 if vp9 is true, else for VP8.
func New(vp9 bool) (*Decoder, error) {
	d := &Decoder{ctx: (*C.vpx_codec_ctx_t)(C.calloc(1, C.sizeof_vpx_codec_ctx_t))}
	flag := C.int(0)
	if vp9 {
		flag = 1
	}
	if res := C.dec_init(d.ctx, flag); res != C.VPX_CODEC_OK {
		C.free(unsafe.Pointer(d.ctx))
		return nil, fmt.Errorf("vpxdec: init: %s", C.GoString(C.vpx_codec_err_to_string(res)))
	}
	return d, nil
}

// Decode decodes one frame and returns a copy of the picture.
func (d *Decoder) Decode(frame []byte) (*image.YCbCr, error) {
	if len(frame) == 0 {
		return nil, errors.New("vpxdec: empty frame")
	}
	res := C.vpx_codec_decode(d.ctx, (*C.uint8_t)(&frame[0]), C.uint(len(frame)), nil, 0)
	if res != C.VPX_CODEC_OK {
		msg := C.GoString(C.vpx_codec_err_to_string(res))
		if detail := C.vpx_codec_error_detail(d.ctx); detail != nil {
			msg += ": " + C.GoString(detail)
		}
		return nil, fmt.Errorf("vpxdec: decode: %s", msg)
	}
	var iter C.vpx_codec_iter_t
	img := C.vpx_codec_get_frame(d.ctx, &iter)
	if img == nil {
		return nil, errors.New("vpxdec: no picture")
	}
	w, h := int(img.d_w), int(img.d_h)
	out := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	copyPlane(out.Y, out.YStride, img, 0, w, h)
	copyPlane(out.Cb, out.CStride, img, 1, (w+1)/2, (h+1)/2)
	copyPlane(out.Cr, out.CStride, img, 2, (w+1)/2, (h+1)/2)
	return out, nil
}

func copyPlane(dst []byte, dstStride int, img *C.vpx_image_t, plane, w, h int) {
	src := C.dec_plane(img, C.int(plane))
	stride := int(C.dec_stride(img, C.int(plane)))
	for y := range h {
		row := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(src), y*stride)), w)
		copy(dst[y*dstStride:], row)
	}
}

// Close frees the decoder.
func (d *Decoder) Close() {
	C.vpx_codec_destroy(d.ctx)
	C.free(unsafe.Pointer(d.ctx))
}
