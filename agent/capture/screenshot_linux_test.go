package capture

import (
	"errors"
	"image"
	"testing"

	"github.com/reachdesk/reach/internal/xvfb"
)

// TestScreenshotOnX11 runs the portable source against Xvfb: kbinani's
// Linux backend reads $DISPLAY.
func TestScreenshotOnX11(t *testing.T) {
	s := xvfb.Start(t, xvfb.Options{Width: 320, Height: 240})
	t.Setenv("DISPLAY", s.Display)
	p := s.Painter(t)
	p.Fill(t, p.Bounds, blue)

	src, err := OpenScreenshot(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if ms := src.Monitors(); len(ms) != 1 || ms[0].Bounds != image.Rect(0, 0, 320, 240) {
		t.Fatalf("Monitors = %+v", ms)
	}
	if src.Changes() != nil {
		t.Fatal("Changes is not nil for a polling source")
	}
	f := mustCapture(t, src)
	if f.Bounds != image.Rect(0, 0, 320, 240) || len(f.Changed) != 1 || at(f, 319, 239) != blue {
		t.Fatalf("first frame: Bounds %v Changed %v pixel %v", f.Bounds, f.Changed, at(f, 319, 239))
	}
	if f := mustCapture(t, src); len(f.Changed) != 0 {
		t.Fatalf("static screen: Changed = %v", f.Changed)
	}
	p.Fill(t, image.Rect(70, 70, 80, 80), red)
	f = mustCapture(t, src)
	if want := []image.Rectangle{image.Rect(64, 64, 128, 128)}; len(f.Changed) != 1 || f.Changed[0] != want[0] {
		t.Fatalf("after a fill: Changed = %v, want %v", f.Changed, want)
	}
	if at(f, 75, 75) != red {
		t.Fatalf("filled pixel = %v", at(f, 75, 75))
	}
	if err := src.SelectMonitor(3); !errors.Is(err, ErrNoMonitor) {
		t.Fatalf("SelectMonitor(3) = %v", err)
	}
	src.Close()
	if _, err := src.Capture(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Capture after Close = %v", err)
	}
}

// TestOpenFallsBack opens through Open with an X server that X11 capture
// rejects (16-bit colour): the portable source takes over.
func TestOpenFallsBack(t *testing.T) {
	s := xvfb.Start(t, xvfb.Options{Width: 320, Height: 240, Depth: 16})
	t.Setenv("DISPLAY", s.Display)
	src, err := Open(Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, ok := src.(*Screenshot); !ok {
		t.Fatalf("Open returned %T, want *Screenshot", src)
	}

	good := xvfb.Start(t, xvfb.Options{Width: 320, Height: 240})
	x, err := Open(Options{Display: good.Display, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if _, ok := x.(*X11); !ok {
		t.Fatalf("Open returned %T, want *X11", x)
	}
}
