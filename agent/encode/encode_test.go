package encode_test

import (
	"errors"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/reachdesk/reach/agent/colorconv"
	"github.com/reachdesk/reach/agent/encode"
	"github.com/reachdesk/reach/agent/internal/vpxdec"
)

// screen returns an I420 picture that looks like a desktop: a light
// gradient with lines of text in a 16-glyph 6x10 "font", scrolled up by
// scroll pixels.
func screen(tb testing.TB, w, h, scroll int) *image.YCbCr {
	tb.Helper()
	pix := make([]byte, 4*w*h)
	for y := range h {
		sy := y + scroll
		line, gy := sy/16, sy%16-3 // 16-pixel lines, glyphs on rows 3..12
		for x := range w {
			r, g, b := byte(200+x*40/w), byte(210+line%7), byte(230)
			if col, gx := x/8, x%8; gy >= 0 && gy < 10 && gx < 6 && (col*7+line*13)%11 != 0 {
				glyph := uint32((col*31 + line*17) % 16)
				if (glyph*2654435761)>>(gy*3+gx%3)&1 == 1 { // a fixed pixel pattern per glyph
					r, g, b = 30, 30, 40
				}
			}
			i := 4 * (y*w + x)
			pix[i], pix[i+1], pix[i+2] = b, g, r
		}
	}
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	if err := colorconv.BGRXToI420(img, pix, 4*w, img.Rect); err != nil {
		tb.Fatal(err)
	}
	return img
}

// psnr compares the luma of two pictures of the same size, in dB.
func psnr(a, b *image.YCbCr) float64 {
	var sum float64
	w, h := a.Rect.Dx(), a.Rect.Dy()
	for y := range h {
		for x := range w {
			d := float64(a.Y[y*a.YStride+x]) - float64(b.Y[y*b.YStride+x])
			sum += d * d
		}
	}
	if sum == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(sum/float64(w*h)))
}

func newEncoder(t *testing.T, codec encode.Codec, cfg encode.Config) encode.Encoder {
	t.Helper()
	enc, err := encode.New(codec, cfg)
	if err != nil {
		t.Fatalf("New(%s): %v", codec, err)
	}
	t.Cleanup(func() { enc.Close() })
	return enc
}

func newDecoder(t *testing.T, codec encode.Codec) *vpxdec.Decoder {
	t.Helper()
	dec, err := vpxdec.New(codec == encode.VP9)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dec.Close)
	return dec
}

const frameTime = time.Second / 30

func TestCodecs(t *testing.T) {
	if cs := encode.Codecs(); !slices.Contains(cs, encode.VP8) || !slices.Contains(cs, encode.VP9) {
		t.Fatalf("Codecs() = %v, want VP8 and VP9", cs)
	}
	if got := encode.VP9.MimeType(); got != "video/VP9" {
		t.Fatalf("MimeType = %q", got)
	}
	if _, err := encode.New("AV2", encode.Config{Width: 64, Height: 64}); !errors.Is(err, encode.ErrUnknownCodec) {
		t.Fatalf("New(AV2) = %v, want ErrUnknownCodec", err)
	}
	for _, cfg := range []encode.Config{
		{Width: 0, Height: 64},
		{Width: 64, Height: 64, Bitrate: 10},
		{Width: 64, Height: 64, FrameRate: 1000},
		{Width: 64, Height: 64, MaxQuantizer: 64},
	} {
		if _, err := encode.New(encode.VP8, cfg); !errors.Is(err, encode.ErrInvalid) {
			t.Errorf("New(%+v) = %v, want ErrInvalid", cfg, err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, codec := range []encode.Codec{encode.VP8, encode.VP9} {
		t.Run(string(codec), func(t *testing.T) {
			const w, h = 320, 240
			enc := newEncoder(t, codec, encode.Config{Width: w, Height: h, Bitrate: 1_000_000})
			dec := newDecoder(t, codec)
			if enc.Codec() != codec {
				t.Fatalf("Codec() = %s", enc.Codec())
			}
			pts := time.Duration(0)
			encodeOne := func(img *image.YCbCr) encode.Frame {
				t.Helper()
				pts += frameTime
				f, err := enc.Encode(img, pts)
				if err != nil {
					t.Fatalf("Encode: %v", err)
				}
				if len(f.Data) == 0 || f.PTS != pts {
					t.Fatalf("frame at %v: %d bytes, PTS %v", pts, len(f.Data), f.PTS)
				}
				if f.Quantizer < 0 || f.Quantizer > encode.DefaultMaxQuantizer {
					t.Fatalf("frame at %v: quantizer %d outside 0..%d", pts, f.Quantizer, encode.DefaultMaxQuantizer)
				}
				got, err := dec.Decode(f.Data)
				if err != nil {
					t.Fatalf("decode frame at %v: %v", pts, err)
				}
				if got.Rect != img.Rect {
					t.Fatalf("decoded %v, encoded %v", got.Rect, img.Rect)
				}
				// 28 dB keeps this text legible; a picture scrolled by 3
				// pixels scores 10 dB against the original.
				if q := psnr(img, got); q < 28 {
					t.Fatalf("frame at %v: PSNR %.1f dB", pts, q)
				}
				return f
			}

			for i := range 10 {
				f := encodeOne(screen(t, w, h, 3*i))
				if f.Keyframe != (i == 0) {
					t.Fatalf("frame %d: keyframe %v", i, f.Keyframe)
				}
			}

			enc.ForceKeyframe()
			if f := encodeOne(screen(t, w, h, 40)); !f.Keyframe {
				t.Fatal("ForceKeyframe: next frame is not a keyframe")
			}
			if f := encodeOne(screen(t, w, h, 43)); f.Keyframe {
				t.Fatal("the frame after a forced keyframe is a keyframe too")
			}

			if err := enc.SetBitrate(300_000); err != nil {
				t.Fatalf("SetBitrate: %v", err)
			}
			if err := enc.SetFrameRate(15); err != nil {
				t.Fatalf("SetFrameRate: %v", err)
			}
			encodeOne(screen(t, w, h, 46))
			if err := enc.SetBitrate(0); !errors.Is(err, encode.ErrInvalid) {
				t.Fatalf("SetBitrate(0) = %v, want ErrInvalid", err)
			}
			if err := enc.SetFrameRate(0); !errors.Is(err, encode.ErrInvalid) {
				t.Fatalf("SetFrameRate(0) = %v, want ErrInvalid", err)
			}

			// A new size (an odd one) restarts the stream with a keyframe.
			if f := encodeOne(screen(t, 161, 97, 0)); !f.Keyframe {
				t.Fatal("first frame after a size change is not a keyframe")
			}
			encodeOne(screen(t, 161, 97, 2))

			if _, err := enc.Encode(screen(t, 161, 97, 4), pts); !errors.Is(err, encode.ErrInvalid) {
				t.Fatalf("repeated pts: %v, want ErrInvalid", err)
			}
			if err := enc.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := enc.Encode(screen(t, 161, 97, 4), pts+frameTime); !errors.Is(err, encode.ErrClosed) {
				t.Fatalf("Encode after Close = %v, want ErrClosed", err)
			}
		})
	}
}

// fill paints r of img in one luma value.
func fill(img *image.YCbCr, r image.Rectangle, y byte) {
	for row := r.Min.Y; row < r.Max.Y; row++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.Y[row*img.YStride+x] = y
		}
	}
}

// lumaAt is the luma of img at (x, y).
func lumaAt(img *image.YCbCr, x, y int) int { return int(img.Y[y*img.YStride+x]) }

// TestChangedAreas checks FrameOptions.Changed: the encoder codes only the
// macroblocks of the areas named, repeats the rest exactly, and with no
// area at all sends a tiny frame that repeats the previous picture.
func TestChangedAreas(t *testing.T) {
	for _, codec := range []encode.Codec{encode.VP8, encode.VP9} {
		t.Run(string(codec), func(t *testing.T) {
			const w, h = 320, 240
			enc := newEncoder(t, codec, encode.Config{Width: w, Height: h, Bitrate: 1_000_000})
			dec := newDecoder(t, codec)
			pts := time.Duration(0)
			send := func(img *image.YCbCr, changed []image.Rectangle) (encode.Frame, *image.YCbCr) {
				t.Helper()
				pts += frameTime
				f, err := enc.EncodeFrame(img, pts, encode.FrameOptions{Changed: changed})
				if err != nil {
					t.Fatal(err)
				}
				got, err := dec.Decode(f.Data)
				if err != nil {
					t.Fatal(err)
				}
				return f, got
			}
			img := screen(t, w, h, 0)
			fill(img, image.Rect(0, 0, w, h), 128)
			var prev *image.YCbCr
			for range 5 {
				_, prev = send(img, nil)
			}

			// Two areas change; the encoder is told about the left one only.
			left, right := image.Rect(16, 16, 64, 64), image.Rect(224, 160, 272, 208)
			fill(img, left, 235)
			fill(img, right, 16)
			_, got := send(img, []image.Rectangle{left})
			if y := lumaAt(got, 40, 40); y < 200 {
				t.Errorf("changed area: luma %d, want the new 235", y)
			}
			if y, was := lumaAt(got, 248, 184), lumaAt(prev, 248, 184); y != was {
				t.Errorf("area outside Changed: luma %d, want the previous frame's %d", y, was)
			}

			// No change at all: a heartbeat that repeats the picture.
			prev = got
			f, got := send(img, []image.Rectangle{})
			if len(f.Data) > 200 {
				t.Errorf("heartbeat frame is %d bytes", len(f.Data))
			}
			if d := psnr(prev, got); !math.IsInf(d, 1) {
				t.Errorf("heartbeat changed the picture: PSNR %.1f dB against the previous frame", d)
			}

			// Everything again: the right area arrives too.
			_, got = send(img, nil)
			if y := lumaAt(got, 248, 184); y > 60 {
				t.Errorf("after a full frame: luma %d at the right area, want about 16", y)
			}
		})
	}
}

// noise returns an I420 picture of faint random noise: content whose size
// after compression depends on the quantiser over its whole range.
func noise(w, h int, rng *rand.Rand) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for _, plane := range [][]byte{img.Y, img.Cb, img.Cr} {
		for i := range plane {
			plane[i] = byte(120 + rng.IntN(16))
		}
	}
	return img
}

// TestBitrateChange checks that SetBitrate takes effect: frames of noise
// shrink when the target drops.
func TestBitrateChange(t *testing.T) {
	for _, codec := range []encode.Codec{encode.VP8, encode.VP9} {
		t.Run(string(codec), func(t *testing.T) {
			const w, h, n = 320, 240, 30
			enc := newEncoder(t, codec, encode.Config{Width: w, Height: h, Bitrate: 4_000_000})
			pictures := make([]*image.YCbCr, 2*n)
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range pictures {
				pictures[i] = noise(w, h, rng)
			}
			sizes := make([]int, 2*n)
			for i, img := range pictures {
				if i == n {
					if err := enc.SetBitrate(200_000); err != nil {
						t.Fatal(err)
					}
				}
				f, err := enc.Encode(img, time.Duration(i+1)*frameTime)
				if err != nil {
					t.Fatal(err)
				}
				sizes[i] = len(f.Data)
			}
			// Compare the settled second halves of both periods.
			high, low := mean(sizes[n/2:n]), mean(sizes[n+n/2:])
			t.Logf("%s: %.0f bytes/frame at 4 Mbit/s, %.0f at 200 kbit/s", codec, high, low)
			if low > high/2 {
				t.Fatalf("bitrate change had no effect: %.0f → %.0f bytes/frame", high, low)
			}
		})
	}
}

func mean(xs []int) float64 {
	s := 0
	for _, x := range xs {
		s += x
	}
	return float64(s) / float64(len(xs))
}

func TestEncodeRejectsBadPictures(t *testing.T) {
	enc := newEncoder(t, encode.VP8, encode.Config{Width: 64, Height: 64})
	bad := map[string]*image.YCbCr{
		"4:4:4":        image.NewYCbCr(image.Rect(0, 0, 64, 64), image.YCbCrSubsampleRatio444),
		"short planes": {Rect: image.Rect(0, 0, 64, 64), YStride: 64, CStride: 32, SubsampleRatio: image.YCbCrSubsampleRatio420, Y: make([]byte, 100)},
		"empty":        image.NewYCbCr(image.Rectangle{}, image.YCbCrSubsampleRatio420),
	}
	for name, img := range bad {
		if _, err := enc.Encode(img, time.Second); !errors.Is(err, encode.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

// TestConcurrentControl calls the control methods while frames are being
// encoded, as congestion control and PLI handling will (run with -race).
func TestConcurrentControl(t *testing.T) {
	enc := newEncoder(t, encode.VP8, encode.Config{Width: 160, Height: 120})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 50 {
			enc.SetBitrate(100_000 + i*10_000)
			enc.SetFrameRate(10 + i%20)
			enc.ForceKeyframe()
		}
	}()
	for i := range 50 {
		if _, err := enc.Encode(screen(t, 160, 120, i), time.Duration(i+1)*frameTime); err != nil {
			t.Fatal(err)
		}
	}
	<-done
}

// BenchmarkEncode encodes 1080p desktop-like pictures that scroll by a
// few lines a frame.
func BenchmarkEncode(b *testing.B) {
	const w, h = 1920, 1080
	pictures := make([]*image.YCbCr, 16)
	for i := range pictures {
		pictures[i] = screen(b, w, h, 16*i)
	}
	for _, codec := range encode.Codecs() {
		b.Run(fmt.Sprintf("codec=%s", codec), func(b *testing.B) {
			enc, err := encode.New(codec, encode.Config{Width: w, Height: h})
			if err != nil {
				b.Fatal(err)
			}
			defer enc.Close()
			var bytes, n int
			for b.Loop() {
				f, err := enc.Encode(pictures[n%len(pictures)], time.Duration(n+1)*frameTime)
				if err != nil {
					b.Fatal(err)
				}
				bytes += len(f.Data)
				n++
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/frame")
			b.ReportMetric(float64(bytes)/float64(n), "bytes/frame")
		})
	}
}
