// Package encode compresses I420 pictures into video frames for a WebRTC
// video track.
//
// VP8 and VP9 come from libvpx through thin cgo wrappers, set up for
// real-time screen sharing: one-pass CBR, no look-ahead, no frame drops,
// keyframes only at the start, on a size change and on request (a PLI).
// Other codecs (H.264) can register themselves from files behind build
// tags; Codecs lists what this build provides, for negotiation with the
// viewer.
//
// Pictures are *image.YCbCr with image.YCbCrSubsampleRatio420 holding
// BT.601 limited-range samples, as produced by agent/colorconv.
package encode

import (
	"fmt"
	"image"
	"runtime"
	"slices"
	"time"
)

// Codec names a video codec as in its RTP MIME subtype, e.g. "VP8".
type Codec string

// The codecs this package knows; Codecs says which the build provides.
const (
	VP8  Codec = "VP8"
	VP9  Codec = "VP9"
	H264 Codec = "H264"
)

// MimeType returns the codec's WebRTC MIME type, e.g. "video/VP8".
func (c Codec) MimeType() string { return "video/" + string(c) }

// Encoder compresses a sequence of pictures. Encode must not be called
// concurrently with itself; the other methods may be called from any
// goroutine, e.g. by congestion control or on a PLI.
type Encoder interface {
	// Codec returns the codec the encoder produces.
	Codec() Codec
	// Encode compresses img, shown at pts (time since the stream began;
	// it must increase from call to call). A picture of a different size
	// than the previous one restarts the stream with a keyframe. It is
	// EncodeFrame with zero FrameOptions.
	Encode(img *image.YCbCr, pts time.Duration) (Frame, error)
	// EncodeFrame is Encode with per-frame options.
	EncodeFrame(img *image.YCbCr, pts time.Duration, opts FrameOptions) (Frame, error)
	// SetBitrate changes the target bitrate, in bits per second, from the
	// next frame on.
	SetBitrate(bps int) error
	// SetFrameRate changes the expected frames per second, which the rate
	// control uses to share the bitrate among frames.
	SetFrameRate(fps int) error
	// ForceKeyframe makes the next frame a keyframe.
	ForceKeyframe()
	// Close frees the encoder; later calls to Encode fail with ErrClosed.
	Close() error
}

// FrameOptions tune the encoding of one picture.
type FrameOptions struct {
	// Changed lists the areas of the picture, in its coordinates, that
	// may differ from the previous picture. The encoder codes only the
	// 16x16 macroblocks they touch and repeats the rest as they are,
	// which saves both time and bits when little changed. Nil means the
	// whole picture may have changed. An empty, non-nil slice repeats the
	// previous frame in a few dozen bytes: a heartbeat that keeps a
	// receiver which times out on silence (Chromium asks for a keyframe
	// after 3 s without a frame) from asking for a keyframe. Keyframes
	// always code everything.
	Changed []image.Rectangle
}

// Frame is one compressed picture.
type Frame struct {
	// Data is the compressed frame, owned by the caller; empty if the
	// encoder produced nothing for the picture.
	Data []byte
	// Keyframe reports whether the frame decodes on its own.
	Keyframe bool
	// PTS is the presentation time passed to Encode.
	PTS time.Duration
	// Quantizer is the frame's quantizer index on libvpx's 0 (best)
	// to 63 (coarsest) scale, or -1 where the encoder does not say.
	Quantizer int
}

// Config sets up an encoder.
type Config struct {
	// Width and Height are the initial picture size.
	Width, Height int
	// Bitrate is the target in bits per second; zero means 2.5 Mbit/s.
	Bitrate int
	// FrameRate is the expected frames per second; zero means 30.
	FrameRate int
	// Threads is the number of encoder threads; zero means half the CPUs
	// (at least 1, at most 4). On 2 cores, where capture, conversion and
	// the X server need the other core, a second VP8 thread made 1080p
	// encoding slower, and under contention libvpx's VP8 threads spin and
	// burn several times the CPU.
	Threads int
	// Speed trades quality for CPU: libvpx's cpu_used. Zero means, for
	// VP8, -4 for frames that change a sixteenth of the picture or more
	// and -5 for the others; for VP9, 9, the fastest.
	//
	// VP8 at a fixed speed of -4 (negative values are fixed speeds) still
	// finds the motion of scrolled text when the scroll changes pace.
	// From speed 5 on, libvpx's VP8 searches motion with a small hexagon
	// around the motion its neighbours predict (about 15 pixels): a
	// terminal scrolling two 17-pixel lines a frame is followed, but once
	// a late frame shows three lines, or a frame shows none, the encoder
	// loses the motion and pays 15-25 KB a frame, up to the coarsest
	// quantizer, for one to three seconds. At -4 (a multi-step search)
	// such a frame costs 6-10 KB and the next ones are cheap again, for
	// about 4 ms more CPU a 1080p frame (docs/benchmarks.md).
	Speed int
	// MaxQuantizer is the coarsest quantizer (0..63) the rate control
	// may use; zero means DefaultMaxQuantizer. A lower bound on quality:
	// when the bitrate cannot pay for a frame at this quantizer, the
	// frame overshoots the bitrate instead of turning text into blur.
	MaxQuantizer int
}

// Quantizer bounds, on libvpx's 0..63 scale.
const (
	// DefaultMaxQuantizer keeps 10-point terminal text legible at 1080p
	// while it scrolls (docs/benchmarks.md).
	DefaultMaxQuantizer = 56
	// minQuantizer is the finest quantizer the rate control uses.
	minQuantizer = 2
)

const (
	defaultBitrate   = 2_500_000
	defaultFrameRate = 30
	maxThreads       = 4
)

func (c Config) withDefaults() Config {
	if c.Bitrate == 0 {
		c.Bitrate = defaultBitrate
	}
	if c.FrameRate == 0 {
		c.FrameRate = defaultFrameRate
	}
	if c.Threads == 0 {
		c.Threads = max(1, min(runtime.NumCPU()/2, maxThreads))
	}
	if c.MaxQuantizer == 0 {
		c.MaxQuantizer = DefaultMaxQuantizer
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Width <= 0 || c.Height <= 0 || c.Width > 16384 || c.Height > 16384:
		return fmt.Errorf("%w: size %dx%d", ErrInvalid, c.Width, c.Height)
	case c.Bitrate < minBitrate:
		return fmt.Errorf("%w: bitrate %d below %d bit/s", ErrInvalid, c.Bitrate, minBitrate)
	case c.FrameRate < 1 || c.FrameRate > maxFrameRate:
		return fmt.Errorf("%w: frame rate %d outside 1..%d", ErrInvalid, c.FrameRate, maxFrameRate)
	case c.Threads < 1 || c.Threads > 64:
		return fmt.Errorf("%w: %d threads", ErrInvalid, c.Threads)
	case c.MaxQuantizer < minQuantizer || c.MaxQuantizer > 63:
		return fmt.Errorf("%w: max quantizer %d outside %d..63", ErrInvalid, c.MaxQuantizer, minQuantizer)
	}
	return nil
}

const (
	minBitrate   = 10_000
	maxFrameRate = 240
)

// constructors holds the encoders this build provides, registered by the
// files that implement them.
var constructors = map[Codec]func(Config) (Encoder, error){}

// preference orders Codecs' result.
var preference = []Codec{VP8, VP9, H264}

// Codecs lists the codecs this build can encode.
func Codecs() []Codec {
	var cs []Codec
	for _, c := range preference {
		if constructors[c] != nil {
			cs = append(cs, c)
		}
	}
	return cs
}

// New returns an encoder for codec.
func New(codec Codec, cfg Config) (Encoder, error) {
	newEncoder := constructors[codec]
	if newEncoder == nil {
		return nil, fmt.Errorf("%w: %q (this build has %v)", ErrUnknownCodec, codec, Codecs())
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return newEncoder(cfg)
}

// checkPicture verifies that img is a 4:2:0 picture whose planes hold
// every sample its rectangle and strides promise, so C code reading them
// stays in bounds.
func checkPicture(img *image.YCbCr) error {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	switch {
	case img.SubsampleRatio != image.YCbCrSubsampleRatio420:
		return fmt.Errorf("%w: subsampling %v, want 4:2:0", ErrInvalid, img.SubsampleRatio)
	case w <= 0 || h <= 0:
		return fmt.Errorf("%w: empty picture", ErrInvalid)
	case img.YStride < w || img.CStride < cw:
		return fmt.Errorf("%w: strides %d/%d too small for width %d", ErrInvalid, img.YStride, img.CStride, w)
	}
	y0 := img.YOffset(img.Rect.Min.X, img.Rect.Min.Y)
	c0 := img.COffset(img.Rect.Min.X, img.Rect.Min.Y)
	cn := c0 + (ch-1)*img.CStride + cw
	if y0 < 0 || len(img.Y) < y0+(h-1)*img.YStride+w || c0 < 0 || len(img.Cb) < cn || len(img.Cr) < cn {
		return fmt.Errorf("%w: planes too short for %v", ErrInvalid, img.Rect)
	}
	return nil
}

// register makes an encoder constructor available to New.
func register(c Codec, fn func(Config) (Encoder, error)) {
	if !slices.Contains(preference, c) {
		preference = append(preference, c)
	}
	constructors[c] = fn
}
