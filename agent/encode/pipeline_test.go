//go:build linux

package encode_test

import (
	"image"
	"io"
	"log/slog"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/reachdesk/reach/agent/capture"
	"github.com/reachdesk/reach/agent/colorconv"
	"github.com/reachdesk/reach/agent/encode"
	"github.com/reachdesk/reach/agent/internal/vpxdec"
	"github.com/reachdesk/reach/internal/xvfb"
)

// cpuTime is the CPU time this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPipeline runs capture → BGRX→I420 → encode at 30 frames a
// second on a real 1920x1080 Xvfb for each scene and codec, and reports
// each stage's wall time per frame (ns/op is the 33 ms frame interval),
// the CPU time the test process spent per frame on all its threads
// (encoder threads included; less sensitive to other load on the machine
// than wall time), and the compressed bytes per frame, mean quantizer
// and mean luma PSNR of the decoded frames against the captured ones (a
// legibility proxy; decoding is not timed) at the agent's 1 Mbit/s cap for
// 1080p screen content (media.ScreenBitrate).
//
// Every frame is converted and encoded, even when capture reports no
// change, so that the idle numbers show what encoding a still screen
// costs; a session skips both when Frame.Changed is empty.
func BenchmarkPipeline(b *testing.B) {
	const w, h, fps = 1920, 1080, 30
	// Besides the standard scenes, the terminal scrolling at the session
	// benchmark's 60 lines a second: two lines a frame, which VP8's
	// motion search still follows (100 lines a second it does not).
	scenes := append(slices.Clone(xvfb.Scenes), xvfb.Scene{Name: "scrolling60",
		Start: func(s *xvfb.Server, tb testing.TB) { s.ScrollingTerminal(tb, 60) }})
	for _, scene := range scenes {
		b.Run("scene="+scene.Name, func(b *testing.B) {
			s := xvfb.Start(b, xvfb.Options{Width: w, Height: h})
			scene.Start(s, b)
			src, err := capture.OpenX11(capture.Options{Display: s.Display, DrawCursor: true,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			defer src.Close()
			img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
			for _, codec := range encode.Codecs() {
				b.Run("codec="+string(codec), func(b *testing.B) {
					enc, err := encode.New(codec, encode.Config{Width: w, Height: h, FrameRate: fps, Bitrate: 1_000_000})
					if err != nil {
						b.Fatal(err)
					}
					defer enc.Close()
					dec, err := vpxdec.New(codec == encode.VP9)
					if err != nil {
						b.Fatal(err)
					}
					defer dec.Close()
					var capt, conv, code, decCPU time.Duration // decCPU: the check, not the pipeline
					var bytes, quant int
					var quality float64
					var pts time.Duration
					tick := time.NewTicker(time.Second / fps)
					defer tick.Stop()
					// The first frame is a keyframe of the whole screen;
					// keep it out of the steady-state numbers.
					encodeFrame := func() (int, error) {
						pts += time.Second / fps
						t0 := time.Now()
						f, err := src.Capture()
						if err != nil {
							return 0, err
						}
						t1 := time.Now()
						if err := colorconv.BGRXToI420(img, f.Pix, f.Stride, img.Rect); err != nil {
							return 0, err
						}
						t2 := time.Now()
						out, err := enc.Encode(img, pts)
						if err != nil {
							return 0, err
						}
						t3 := time.Now()
						capt, conv, code = capt+t1.Sub(t0), conv+t2.Sub(t1), code+t3.Sub(t2)
						d0 := cpuTime(b)
						got, err := dec.Decode(out.Data)
						if err != nil {
							return 0, err
						}
						decCPU += cpuTime(b) - d0
						quality += min(psnr(img, got), 99)
						quant += out.Quantizer
						return len(out.Data), nil
					}
					if _, err := encodeFrame(); err != nil {
						b.Fatal(err)
					}
					capt, conv, code, decCPU, quality, quant = 0, 0, 0, 0, 0, 0
					cpu := cpuTime(b)
					for b.Loop() {
						<-tick.C
						n, err := encodeFrame()
						if err != nil {
							b.Fatal(err)
						}
						bytes += n
					}
					cpu = cpuTime(b) - cpu - decCPU
					perFrame := func(d time.Duration) float64 { return d.Seconds() * 1e3 / float64(b.N) }
					b.ReportMetric(perFrame(cpu), "cpu-ms")
					b.ReportMetric(perFrame(capt), "capture-ms")
					b.ReportMetric(perFrame(conv), "convert-ms")
					b.ReportMetric(perFrame(code), "encode-ms")
					b.ReportMetric(float64(bytes)/float64(b.N), "bytes/frame")
					b.ReportMetric(quality/float64(b.N), "psnr-dB")
					b.ReportMetric(float64(quant)/float64(b.N), "quantizer")
				})
			}
		})
	}
}
