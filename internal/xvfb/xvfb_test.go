package xvfb_test

import (
	"fmt"
	"image"
	"image/color"
	"runtime"
	"strings"
	"testing"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/reachdesk/reach/internal/xvfb"
)

func TestStartRestart(t *testing.T) {
	s := xvfb.Start(t, xvfb.Options{Width: 640, Height: 480})
	if !strings.HasPrefix(s.Display, ":") {
		t.Fatalf("Display = %q, want :N", s.Display)
	}
	if got := s.Run(t, "xdpyinfo"); !strings.Contains(got, "dimensions:    640x480 pixels") {
		t.Fatalf("xdpyinfo does not show 640x480:\n%s", got)
	}
	display := s.Display
	s.Restart(t, xvfb.Options{Width: 800, Height: 600})
	if s.Display != display {
		t.Fatalf("restart moved the display from %s to %s", display, s.Display)
	}
	if got := s.Run(t, "xdpyinfo"); !strings.Contains(got, "dimensions:    800x600 pixels") {
		t.Fatalf("xdpyinfo does not show 800x600 after restart:\n%s", got)
	}
}

func TestTwoServersGetDifferentDisplays(t *testing.T) {
	a := xvfb.Start(t, xvfb.Options{Width: 320, Height: 240})
	b := xvfb.Start(t, xvfb.Options{Width: 320, Height: 240})
	if a.Display == b.Display {
		t.Fatalf("both servers on %s", a.Display)
	}
}

func TestClientWindow(t *testing.T) {
	s := xvfb.Start(t, xvfb.Options{Width: 640, Height: 480})
	s.Client(t, "xterm", "-geometry", "40x10+0+0")
	if id := s.WaitWindow(t, "xterm"); id == "" {
		t.Fatal("no window id")
	}
}

func TestPainterFill(t *testing.T) {
	s := xvfb.Start(t, xvfb.Options{Width: 320, Height: 240})
	p := s.Painter(t)
	if p.Bounds != image.Rect(0, 0, 320, 240) {
		t.Fatalf("Bounds = %v", p.Bounds)
	}
	p.Fill(t, image.Rect(10, 20, 30, 40), color.RGBA{R: 0x12, G: 0x34, B: 0x56, A: 0xff})
	if got := pixelAt(t, s, 15, 25); got != 0x123456 {
		t.Fatalf("pixel = %06x, want 123456", got)
	}
	p.Animate(t, 60)
}

// pixelAt reads one root-window pixel through a fresh connection.
func pixelAt(t *testing.T, s *xvfb.Server, x, y int) uint32 {
	t.Helper()
	conn, err := xgb.NewConnDisplay(s.Display)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	root := xproto.Setup(conn).DefaultScreen(conn).Root
	img, err := xproto.GetImage(conn, xproto.ImageFormatZPixmap, xproto.Drawable(root), int16(x), int16(y), 1, 1, 0xffffffff).Reply()
	if err != nil {
		t.Fatal(err)
	}
	return uint32(img.Data[2])<<16 | uint32(img.Data[1])<<8 | uint32(img.Data[0])
}

func TestScenes(t *testing.T) {
	for _, scene := range xvfb.Scenes {
		t.Run(scene.Name, func(t *testing.T) {
			s := xvfb.Start(t, xvfb.Options{Width: 1280, Height: 720})
			scene.Start(s, t)
			if s.Pid() <= 0 {
				t.Fatalf("Pid = %d", s.Pid())
			}
		})
	}
}

// fatalRecorder is a testing.TB whose Fatalf records the message and
// ends the goroutine, as the real one does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestMissingXvfbFails(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		xvfb.Start(rec, xvfb.Options{})
	}()
	<-done
	if !strings.Contains(rec.msg, "Xvfb is not installed") || !strings.Contains(rec.msg, "xvfb") {
		t.Fatalf("message %q does not say Xvfb is missing", rec.msg)
	}
}
