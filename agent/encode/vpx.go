package encode

/*
#cgo pkg-config: vpx
#include <stdlib.h>
#include <vpx/vpx_encoder.h>
#include <vpx/vp8cx.h>

// vpx_encoder keeps the context and its configuration in C memory:
// libvpx holds on to the configuration's address.
typedef struct {
	vpx_codec_ctx_t ctx;
	vpx_codec_enc_cfg_t cfg;
} vpx_encoder;

// The helpers below exist because cgo cannot call the macros and variadic
// functions of libvpx's API, nor reach into unions.

static vpx_codec_err_t enc_init(vpx_encoder *e, int vp9) {
	return vpx_codec_enc_init(&e->ctx, vp9 ? vpx_codec_vp9_cx() : vpx_codec_vp8_cx(), &e->cfg, 0);
}

static vpx_codec_err_t enc_default_config(vpx_encoder *e, int vp9) {
	return vpx_codec_enc_config_default(vp9 ? vpx_codec_vp9_cx() : vpx_codec_vp8_cx(), &e->cfg, 0);
}

static vpx_codec_err_t enc_control(vpx_encoder *e, int id, int value) {
	return vpx_codec_control_(&e->ctx, id, value);
}

// enc_active_map limits the next frames to the macroblocks (16x16) whose
// byte in map is 1; a NULL map makes every macroblock active again. libvpx
// copies the map.
static vpx_codec_err_t enc_active_map(vpx_encoder *e, unsigned char *map, unsigned rows, unsigned cols) {
	vpx_active_map_t m = {map, rows, cols};
	return vpx_codec_control_(&e->ctx, VP8E_SET_ACTIVEMAP, &m);
}

// enc_last_q returns the quantizer (0..63) of the last frame, or -1.
static int enc_last_q(vpx_encoder *e) {
	int q = -1;
	if (vpx_codec_control_(&e->ctx, VP8E_GET_LAST_QUANTIZER_64, &q) != VPX_CODEC_OK) return -1;
	return q;
}

// enc_encode wraps the caller's planes in an image on the C stack; libvpx
// copies them before it returns.
static vpx_codec_err_t enc_encode(vpx_encoder *e, unsigned w, unsigned h,
		unsigned char *y, unsigned char *u, unsigned char *v, int ystride, int cstride,
		vpx_codec_pts_t pts, unsigned long duration, vpx_enc_frame_flags_t flags) {
	vpx_image_t img;
	vpx_img_wrap(&img, VPX_IMG_FMT_I420, w, h, 1, y);
	img.planes[VPX_PLANE_Y] = y;
	img.planes[VPX_PLANE_U] = u;
	img.planes[VPX_PLANE_V] = v;
	img.stride[VPX_PLANE_Y] = ystride;
	img.stride[VPX_PLANE_U] = cstride;
	img.stride[VPX_PLANE_V] = cstride;
	img.cs = VPX_CS_BT_601;
	img.range = VPX_CR_STUDIO_RANGE;
	return vpx_codec_encode(&e->ctx, &img, pts, duration, flags, VPX_DL_REALTIME);
}

// enc_next returns the next compressed frame of the last enc_encode, or
// NULL when there is none left.
static const void *enc_next(vpx_encoder *e, vpx_codec_iter_t *iter, size_t *size, int *key) {
	const vpx_codec_cx_pkt_t *pkt;
	while ((pkt = vpx_codec_get_cx_data(&e->ctx, iter)) != NULL) {
		if (pkt->kind == VPX_CODEC_CX_FRAME_PKT) {
			*size = pkt->data.frame.sz;
			*key = (pkt->data.frame.flags & VPX_FRAME_IS_KEY) != 0;
			return pkt->data.frame.buf;
		}
	}
	return NULL;
}
*/
import "C"

import (
	"fmt"
	"image"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

func init() {
	register(VP8, func(cfg Config) (Encoder, error) { return newVPX(VP8, cfg) })
	register(VP9, func(cfg Config) (Encoder, error) { return newVPX(VP9, cfg) })
}

// timebase is the unit of libvpx timestamps: RTP's 90 kHz video clock.
const timebase = 90000

// vpx is a libvpx VP8 or VP9 encoder.
type vpx struct {
	codec    Codec
	forceKey atomic.Bool

	mu      sync.Mutex     // guards the fields below
	e       *C.vpx_encoder // nil after Close
	cfg     Config
	lastPTS time.Duration
	started bool   // a frame has been encoded since the last (re)start
	mapOn   bool   // an active map is set
	amap    []byte // active map, one byte per macroblock
	speed   int    // VP8 cpu_used in effect
}

// VP8's speeds (cpu_used) when Config.Speed is zero: frames that change
// at least 1/vp8LargeShare of the picture are encoded at vp8SpeedLarge,
// whose motion search follows scrolled text (Config.Speed); the others,
// such as typing, a moving pointer or a still screen's heartbeat, at
// vp8SpeedSmall, which skips the loop-filter search that costs speed -4
// about 5 ms a 1080p frame however little changed.
const (
	vp8SpeedLarge = -4
	vp8SpeedSmall = -5
	vp8LargeShare = 16
)

func newVPX(codec Codec, cfg Config) (*vpx, error) {
	v := &vpx{codec: codec, cfg: cfg}
	v.e = (*C.vpx_encoder)(C.calloc(1, C.sizeof_vpx_encoder))
	if v.e == nil {
		return nil, fmt.Errorf("encode: %s: out of memory", codec)
	}
	if err := v.start(); err != nil {
		C.free(unsafe.Pointer(v.e))
		return nil, err
	}
	return v, nil
}

func (v *vpx) vp9() C.int {
	if v.codec == VP9 {
		return 1
	}
	return 0
}

// start initialises the codec context for v.cfg.
func (v *vpx) start() error {
	e := v.e
	if res := C.enc_default_config(e, v.vp9()); res != C.VPX_CODEC_OK {
		return fmt.Errorf("encode: %s: default config: %s", v.codec, C.GoString(C.vpx_codec_err_to_string(res)))
	}
	c := &e.cfg
	c.g_w, c.g_h = C.uint(v.cfg.Width), C.uint(v.cfg.Height)
	c.g_timebase = C.struct_vpx_rational{num: 1, den: timebase}
	c.g_threads = C.uint(v.cfg.Threads)
	c.g_lag_in_frames = 0
	c.g_error_resilient = 0
	c.g_pass = C.VPX_RC_ONE_PASS
	c.rc_end_usage = C.VPX_CBR
	c.rc_target_bitrate = C.uint(v.cfg.Bitrate / 1000)
	c.rc_min_quantizer, c.rc_max_quantizer = minQuantizer, C.uint(v.cfg.MaxQuantizer)
	c.rc_undershoot_pct, c.rc_overshoot_pct = 50, 15
	c.rc_buf_initial_sz, c.rc_buf_optimal_sz, c.rc_buf_sz = 500, 600, 1000
	// Every picture must come out: a dropped one is not sent again when
	// the screen then stays still.
	c.rc_dropframe_thresh = 0
	c.kf_mode = C.VPX_KF_DISABLED
	if res := C.enc_init(e, v.vp9()); res != C.VPX_CODEC_OK {
		return v.error("init", res)
	}
	speed := v.cfg.Speed
	controls := []struct{ id, value C.int }{{C.VP8E_SET_MAX_INTRA_BITRATE_PCT, maxIntraPct(v.cfg.FrameRate)}}
	if v.codec == VP8 {
		if speed == 0 {
			speed = vp8SpeedSmall
		}
		controls = append(controls,
			struct{ id, value C.int }{C.VP8E_SET_CPUUSED, C.int(speed)},
			struct{ id, value C.int }{C.VP8E_SET_SCREEN_CONTENT_MODE, 1},
			struct{ id, value C.int }{C.VP8E_SET_STATIC_THRESHOLD, 1},
			struct{ id, value C.int }{C.VP8E_SET_NOISE_SENSITIVITY, 0},
		)
	} else {
		if speed == 0 {
			speed = 9
		}
		controls = append(controls,
			struct{ id, value C.int }{C.VP8E_SET_CPUUSED, C.int(speed)},
			struct{ id, value C.int }{C.VP9E_SET_TUNE_CONTENT, C.VP9E_CONTENT_SCREEN},
			struct{ id, value C.int }{C.VP9E_SET_ROW_MT, 1},
			struct{ id, value C.int }{C.VP9E_SET_TILE_COLUMNS, C.int(bits.Len(uint(v.cfg.Threads)) - 1)},
			// No cyclic refresh: its segments override the active map
			// (FrameOptions.Changed), and the streamer's refinement
			// frames do its job of sharpening a still picture.
			struct{ id, value C.int }{C.VP9E_SET_AQ_MODE, 0},
			struct{ id, value C.int }{C.VP9E_SET_NOISE_SENSITIVITY, 0},
			struct{ id, value C.int }{C.VP9E_SET_COLOR_SPACE, C.VPX_CS_BT_601},
		)
	}
	for _, ctl := range controls {
		if res := C.enc_control(e, ctl.id, ctl.value); res != C.VPX_CODEC_OK {
			err := v.error(fmt.Sprintf("control %d=%d", ctl.id, ctl.value), res)
			C.vpx_codec_destroy(&e.ctx)
			return err
		}
	}
	v.started, v.mapOn, v.speed = false, false, speed
	return nil
}

// maxIntraPct caps a keyframe at half the optimal buffer's worth of
// frames (as WebRTC does), in percent of an average frame, so a keyframe
// does not stall the stream.
func maxIntraPct(fps int) C.int {
	return C.int(max(300, 600*fps/20))
}

// error describes a libvpx failure with the context's detail.
func (v *vpx) error(op string, res C.vpx_codec_err_t) error {
	msg := C.GoString(C.vpx_codec_err_to_string(res))
	if d := C.vpx_codec_error_detail(&v.e.ctx); d != nil {
		msg += ": " + C.GoString(d)
	}
	return fmt.Errorf("encode: %s %s: %s", v.codec, op, msg)
}

func (v *vpx) Codec() Codec { return v.codec }

func (v *vpx) ForceKeyframe() { v.forceKey.Store(true) }

func (v *vpx) SetBitrate(bps int) error {
	if bps < minBitrate {
		return fmt.Errorf("%w: bitrate %d below %d bit/s", ErrInvalid, bps, minBitrate)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.e == nil {
		return ErrClosed
	}
	v.cfg.Bitrate = bps
	v.e.cfg.rc_target_bitrate = C.uint(bps / 1000)
	if res := C.vpx_codec_enc_config_set(&v.e.ctx, &v.e.cfg); res != C.VPX_CODEC_OK {
		return v.error("set bitrate", res)
	}
	return nil
}

func (v *vpx) SetFrameRate(fps int) error {
	if fps < 1 || fps > maxFrameRate {
		return fmt.Errorf("%w: frame rate %d outside 1..%d", ErrInvalid, fps, maxFrameRate)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.e == nil {
		return ErrClosed
	}
	v.cfg.FrameRate = fps
	if res := C.enc_control(v.e, C.VP8E_SET_MAX_INTRA_BITRATE_PCT, maxIntraPct(fps)); res != C.VPX_CODEC_OK {
		return v.error("set frame rate", res)
	}
	return nil
}

func (v *vpx) Encode(img *image.YCbCr, pts time.Duration) (Frame, error) {
	return v.EncodeFrame(img, pts, FrameOptions{})
}

func (v *vpx) EncodeFrame(img *image.YCbCr, pts time.Duration, opts FrameOptions) (Frame, error) {
	if err := checkPicture(img); err != nil {
		return Frame{}, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.e == nil {
		return Frame{}, ErrClosed
	}
	if v.started && pts <= v.lastPTS {
		return Frame{}, fmt.Errorf("%w: pts %v does not follow %v", ErrInvalid, pts, v.lastPTS)
	}
	if w, h := img.Rect.Dx(), img.Rect.Dy(); w != v.cfg.Width || h != v.cfg.Height {
		C.vpx_codec_destroy(&v.e.ctx)
		v.cfg.Width, v.cfg.Height = w, h
		if err := v.start(); err != nil {
			C.free(unsafe.Pointer(v.e))
			v.e = nil
			return Frame{}, err
		}
	}
	var flags C.vpx_enc_frame_flags_t
	key := v.forceKey.Swap(false) || !v.started
	if key {
		flags |= C.VPX_EFLAG_FORCE_KF
		opts = FrameOptions{}
	}
	active, err := v.activeMap(opts.Changed)
	if err != nil {
		return Frame{}, err
	}
	if err := v.setSpeed(active); err != nil {
		return Frame{}, err
	}

	y := img.YOffset(img.Rect.Min.X, img.Rect.Min.Y)
	c := img.COffset(img.Rect.Min.X, img.Rect.Min.Y)
	res := C.enc_encode(v.e, C.uint(v.cfg.Width), C.uint(v.cfg.Height),
		(*C.uchar)(&img.Y[y]), (*C.uchar)(&img.Cb[c]), (*C.uchar)(&img.Cr[c]),
		C.int(img.YStride), C.int(img.CStride),
		C.vpx_codec_pts_t(pts*timebase/time.Second), C.ulong(timebase/v.cfg.FrameRate), flags)
	if res != C.VPX_CODEC_OK {
		return Frame{}, v.error("encode", res)
	}
	v.started, v.lastPTS = true, pts

	f := Frame{PTS: pts, Quantizer: int(C.enc_last_q(v.e))}
	var iter C.vpx_codec_iter_t
	for {
		var size C.size_t
		var key C.int
		buf := C.enc_next(v.e, &iter, &size, &key)
		if buf == nil {
			break
		}
		f.Data = append(f.Data, unsafe.Slice((*byte)(buf), int(size))...)
		f.Keyframe = f.Keyframe || key != 0
	}
	return f, nil
}

// setSpeed picks VP8's speed for a frame with active of its macroblocks
// to encode, unless Config.Speed fixed it.
func (v *vpx) setSpeed(active int) error {
	if v.codec != VP8 || v.cfg.Speed != 0 {
		return nil
	}
	speed := vp8SpeedSmall
	if active*vp8LargeShare >= ((v.cfg.Width+15)/16)*((v.cfg.Height+15)/16) {
		speed = vp8SpeedLarge
	}
	if speed == v.speed {
		return nil
	}
	if res := C.enc_control(v.e, C.VP8E_SET_CPUUSED, C.int(speed)); res != C.VPX_CODEC_OK {
		return v.error("set speed", res)
	}
	v.speed = speed
	return nil
}

// activeMap limits the next frame to the macroblocks that changed touch;
// nil makes them all active. It returns how many are active.
func (v *vpx) activeMap(changed []image.Rectangle) (int, error) {
	cols, rows := (v.cfg.Width+15)/16, (v.cfg.Height+15)/16
	if changed == nil {
		if !v.mapOn {
			return rows * cols, nil
		}
		if res := C.enc_active_map(v.e, nil, C.uint(rows), C.uint(cols)); res != C.VPX_CODEC_OK {
			return 0, v.error("active map", res)
		}
		v.mapOn = false
		return rows * cols, nil
	}
	if cap(v.amap) < rows*cols {
		v.amap = make([]byte, rows*cols)
	}
	m := v.amap[:rows*cols]
	clear(m)
	active := 0
	frame := image.Rect(0, 0, v.cfg.Width, v.cfg.Height)
	for _, r := range changed {
		r = r.Intersect(frame)
		if r.Empty() {
			continue
		}
		for y := r.Min.Y / 16; y <= (r.Max.Y-1)/16; y++ {
			row := m[y*cols : (y+1)*cols]
			for x := r.Min.X / 16; x <= (r.Max.X-1)/16; x++ {
				active += int(1 - row[x])
				row[x] = 1
			}
		}
	}
	if res := C.enc_active_map(v.e, (*C.uchar)(&m[0]), C.uint(rows), C.uint(cols)); res != C.VPX_CODEC_OK {
		return 0, v.error("active map", res)
	}
	v.mapOn = true
	return active, nil
}

func (v *vpx) Close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.e == nil {
		return nil
	}
	C.vpx_codec_destroy(&v.e.ctx)
	C.free(unsafe.Pointer(v.e))
	v.e = nil
	return nil
}
