//go:build linux

package capture

import (
	"image"
	"io"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/reachdesk/reach/internal/xvfb"
)

// benchSize is the screen the benchmarks capture.
var benchSize = xvfb.Options{Width: 1920, Height: 1080}

func openBench(b *testing.B, s *xvfb.Server) *X11 {
	b.Helper()
	x, err := OpenX11(Options{Display: s.Display, DrawCursor: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { x.Close() })
	if _, err := x.Capture(); err != nil { // the first, full frame
		b.Fatal(err)
	}
	return x
}

// cpuTime is the CPU time this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCapture captures each scene at 30 frames a second, as a
// session does, and reports the time Capture takes per frame (ns/op is
// the 33 ms frame interval), the share of frames with changes, and the
// changed area.
func BenchmarkCapture(b *testing.B) {
	for _, scene := range xvfb.Scenes {
		b.Run("scene="+scene.Name, func(b *testing.B) {
			s := xvfb.Start(b, benchSize)
			scene.Start(s, b)
			x := openBench(b, s)
			tick := time.NewTicker(time.Second / 30)
			defer tick.Stop()
			var spent time.Duration
			var changed, area int
			for b.Loop() {
				<-tick.C
				start := time.Now()
				f, err := x.Capture()
				spent += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				if len(f.Changed) > 0 {
					changed++
				}
				for _, r := range f.Changed {
					area += r.Dx() * r.Dy()
				}
			}
			b.ReportMetric(spent.Seconds()*1e3/float64(b.N), "ms/frame")
			b.ReportMetric(100*float64(changed)/float64(b.N), "%changed")
			b.ReportMetric(100*float64(area)/float64(b.N)/float64(benchSize.Width*benchSize.Height), "%area")
		})
	}
}

// BenchmarkCaptureStatic calls Capture as fast as it can on an idle
// desktop: with DAMAGE this costs one round trip for the pointer and no
// copy. cpu%@30fps is the share of one core that capturing at 30 frames
// a second would use.
func BenchmarkCaptureStatic(b *testing.B) {
	s := xvfb.Start(b, benchSize)
	s.IdleDesktop(b)
	x := openBench(b, s)
	cpu := cpuTime(b)
	for b.Loop() {
		f, err := x.Capture()
		if err != nil {
			b.Fatal(err)
		}
		if len(f.Changed) != 0 {
			b.Fatalf("idle desktop changed: %v", f.Changed)
		}
	}
	perFrame := (cpuTime(b) - cpu) / time.Duration(b.N)
	b.ReportMetric(float64(perFrame.Microseconds()), "cpu-µs/frame")
	b.ReportMetric(100*perFrame.Seconds()*30, "cpu%@30fps")
}

// BenchmarkCaptureFull reads the whole 1080p frame through MIT-SHM on
// every call, as when the whole screen changes.
func BenchmarkCaptureFull(b *testing.B) {
	s := xvfb.Start(b, benchSize)
	s.IdleDesktop(b)
	x := openBench(b, s)
	for b.Loop() {
		x.mu.Lock()
		x.full = true
		x.mu.Unlock()
		if _, err := x.Capture(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/frame")
}

// BenchmarkDiffTiles compares two identical 1080p frames, the cost of the
// Screenshot source's change detection on a static screen.
func BenchmarkDiffTiles(b *testing.B) {
	size := image.Pt(benchSize.Width, benchSize.Height)
	a := make([]byte, 4*size.X*size.Y)
	c := make([]byte, len(a))
	for i := range a {
		a[i] = byte(i * 7)
		c[i] = a[i]
	}
	for b.Loop() {
		if rs := diffTiles(a, c, 4*size.X, size, nil); len(rs) != 0 {
			b.Fatal(rs)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/frame")
}
