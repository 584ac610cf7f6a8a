//go:build linux

package capture

import (
	"errors"
	"image"
	"image/color"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/reachdesk/reach/internal/xvfb"
)

// testLogger sends a source's log to the test's log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// openX11 opens an X11 source on s, closed when the test ends.
func openX11(t *testing.T, s *xvfb.Server, opts Options) *X11 {
	t.Helper()
	opts.Display = s.Display
	opts.Logger = testLogger(t)
	x, err := OpenX11(opts)
	if err != nil {
		t.Fatalf("OpenX11: %v", err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

func mustCapture(t *testing.T, src Source) *Frame {
	t.Helper()
	f, err := src.Capture()
	if err != nil {
		t.Fatalf("Capture: %v", err)
	}
	return f
}

// at returns the colour of frame pixel (x, y).
func at(f *Frame, x, y int) color.RGBA {
	p := f.Pix[y*f.Stride+4*x:]
	return color.RGBA{R: p[2], G: p[1], B: p[0], A: 255}
}

// waitChange waits until src signals a change.
func waitChange(t *testing.T, src Source) {
	t.Helper()
	select {
	case <-src.Changes():
	case <-time.After(5 * time.Second):
		t.Fatal("no change signalled within 5s")
	}
}

// captureChanged waits for signalled changes and captures until a frame
// reports some; a signal may be stale, and the damage of a request on
// another connection may arrive a little after that request's reply.
func captureChanged(t *testing.T, src Source) *Frame {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		waitChange(t, src)
		if f := mustCapture(t, src); len(f.Changed) > 0 {
			return f
		}
	}
	t.Fatal("no changed frame within 5s")
	return nil
}

func union(rs []image.Rectangle) image.Rectangle {
	var u image.Rectangle
	for _, r := range rs {
		u = u.Union(r)
	}
	return u
}

var (
	red   = color.RGBA{R: 0xff, A: 0xff}
	green = color.RGBA{G: 0xff, A: 0xff}
	blue  = color.RGBA{B: 0xff, A: 0xff}
	white = color.RGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}
	black = color.RGBA{A: 0xff}
)

func TestX11CapturesPattern(t *testing.T) {
	s := xvfb.Start(t, xvfb.Options{Width: 320, Height: 240})
	p := s.Painter(t)
	p.Fill(t, image.Rect(0, 0, 160, 120), red)
	p.Fill(t, image.Rect(160, 0, 320, 120), green)
	p.Fill(t, image.Rect(0, 120, 160, 240), blue)
	p.Fill(t, image.Rect(160, 120, 320, 240), white)

	x := openX11(t, s, Options{})
	before := time.Now()
	f := mustCapture(t, x)
	if f.Bounds != image.Rect(0, 0, 320, 240) || f.Stride != 4*320 || len(f.Pix) < 4*320*240 {
		t.Fatalf("frame bounds %v stride %d len %d", f.Bounds, f.Stride, len(f.Pix))
	}
	if f.Time.Before(before) {
		t.Errorf("Time %v is before the call (%v)", f.Time, before)
	}
	if len(f.Changed) != 1 || f.Changed[0] != image.Rect(0, 0, 320, 240) {
		t.Errorf("first frame Changed = %v, want the whole frame", f.Changed)
	}
	for _, c := range []struct {
		x, y int
		want color.RGBA
	}{{80, 60, red}, {240, 60, green}, {80, 180, blue}, {240, 180, white}, {159, 119, red}, {160, 120, white}} {
		if got := at(f, c.x, c.y); got != c.want {
			t.Errorf("pixel (%d,%d) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
}

func TestX11Damage(t *testing.T) {
	s := xvfb.Start(t, xvfb.Options{Width: 640, Height: 480})
	p := s.Painter(t)
	p.Fill(t, p.Bounds, black)
	x := openX11(t, s, Options{})
	mustCapture(t, x)

	if f := mustCapture(t, x); len(f.Changed) != 0 {
		t.Fatalf("static screen: Changed = %v, want none", f.Changed)
	}

	box := image.Rect(100, 50, 140, 70)
	p.Fill(t, box, red)
	f := captureChanged(t, x)
	if u := union(f.Changed); !box.In(u) || u.Dx()*u.Dy() > 4*box.Dx()*box.Dy() {
		t.Fatalf("after a fill of %v: Changed = %v", box, f.Changed)
	}
	if got := at(f, 120, 60); got != red {
		t.Fatalf("filled pixel = %v, want red", got)
	}
	if f := mustCapture(t, x); len(f.Changed) != 0 {
		t.Fatalf("after reporting the fill: Changed = %v, want none", f.Changed)
	}

	// Drawing by other clients into their own windows counts too.
	s.Client(t, "xterm", "-geometry", "20x5+300+200", "-bg", "white")
	id := s.WaitWindow(t, "xterm")
	geometry := s.Run(t, "xdotool", "getwindowgeometry", "--shell", id)
	win := windowRect(t, geometry)
	deadline := time.Now().Add(5 * time.Second)
	var seen image.Rectangle
	for !win.In(seen) && time.Now().Before(deadline) {
		seen = seen.Union(union(captureChanged(t, x).Changed))
	}
	if !win.In(seen) {
		t.Fatalf("xterm at %v, damage reported only %v", win, seen)
	}
	if f := mustCapture(t, x); at(f, win.Min.X+win.Dx()/2, win.Max.Y-2) != white {
		t.Errorf("xterm's white background not captured: %v", at(f, win.Min.X+win.Dx()/2, win.Max.Y-2))
	}
}

// windowRect parses xdotool getwindowgeometry --shell output.
func windowRect(t *testing.T, shell string) image.Rectangle {
	t.Helper()
	v := map[string]int{}
	for _, line := range strings.Fields(shell) {
		if k, val, ok := strings.Cut(line, "="); ok {
			n, err := strconv.Atoi(val)
			if err == nil {
				v[k] = n
			}
		}
	}
	return image.Rect(v["X"], v["Y"], v["X"]+v["WIDTH"], v["Y"]+v["HEIGHT"])
}

func TestX11Cursor(t *testing.T) {
	s := xvfb.Start(t, xvfb.Options{Width: 320, Height: 240})
	p := s.Painter(t)
	p.Fill(t, p.Bounds, white)
	s.Run(t, "xdotool", "mousemove", "200", "150")
	x := openX11(t, s, Options{DrawCursor: true})
	f := mustCapture(t, x)
	if f.Cursor.Pos != image.Pt(200, 150) {
		t.Fatalf("Cursor.Pos = %v, want (200,150)", f.Cursor.Pos)
	}
	shape := f.Cursor.Shape
	if shape == nil || shape.Image.Rect.Empty() || !shape.Hot.In(shape.Image.Rect) {
		t.Fatalf("Cursor.Shape = %+v", shape)
	}
	drawn := cursorRect(f.Cursor.Pos, shape, f.Bounds.Size())
	if !differsFrom(f, drawn, white) {
		t.Fatalf("pointer not drawn in %v", drawn)
	}

	s.Run(t, "xdotool", "mousemove", "50", "40")
	f = mustCapture(t, x)
	if f.Cursor.Pos != image.Pt(50, 40) || f.Cursor.Shape != shape {
		t.Fatalf("after a move: Pos %v, Shape changed %v", f.Cursor.Pos, f.Cursor.Shape != shape)
	}
	moved := cursorRect(f.Cursor.Pos, shape, f.Bounds.Size())
	if u := union(f.Changed); !drawn.In(u) || !moved.In(u) {
		t.Fatalf("Changed %v does not cover the old %v and new %v pointer", f.Changed, drawn, moved)
	}
	if differsFrom(f, drawn, white) {
		t.Fatalf("old pointer area %v not restored", drawn)
	}
	if !differsFrom(f, moved, white) {
		t.Fatalf("pointer not drawn at its new place %v", moved)
	}
	if f := mustCapture(t, x); len(f.Changed) != 0 {
		t.Fatalf("still pointer: Changed = %v", f.Changed)
	}
}

// differsFrom reports whether any pixel of f in r is not c.
func differsFrom(f *Frame, r image.Rectangle, c color.RGBA) bool {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if at(f, x, y) != c {
				return true
			}
		}
	}
	return false
}

func TestX11CursorNotDrawn(t *testing.T) {
	s := xvfb.Start(t, xvfb.Options{Width: 320, Height: 240})
	p := s.Painter(t)
	p.Fill(t, p.Bounds, white)
	s.Run(t, "xdotool", "mousemove", "100", "100")
	x := openX11(t, s, Options{})
	f := mustCapture(t, x)
	if differsFrom(f, f.Bounds, white) {
		t.Fatal("pointer drawn without DrawCursor")
	}
	s.Run(t, "xdotool", "mousemove", "10", "10")
	if f := mustCapture(t, x); len(f.Changed) != 0 || f.Cursor.Pos != image.Pt(10, 10) {
		t.Fatalf("pointer move: Changed %v, Pos %v; want none, (10,10)", f.Changed, f.Cursor.Pos)
	}
}

func TestX11Monitors(t *testing.T) {
	s := xvfb.Start(t, xvfb.Options{Width: 640, Height: 480})
	x := openX11(t, s, Options{})
	ms := x.Monitors()
	if len(ms) != 1 || ms[0].Bounds != image.Rect(0, 0, 640, 480) {
		t.Fatalf("Monitors = %+v", ms)
	}
	if _, err := OpenX11(Options{Display: s.Display, Monitor: 1}); !errors.Is(err, ErrNoMonitor) {
		t.Fatalf("OpenX11 with monitor 1 of 1 = %v, want ErrNoMonitor", err)
	}
	if err := x.SelectMonitor(1); !errors.Is(err, ErrNoMonitor) {
		t.Fatalf("SelectMonitor(1) = %v, want ErrNoMonitor", err)
	}
	if err := x.SelectMonitor(AllMonitors); err != nil {
		t.Fatal(err)
	}
	if f := mustCapture(t, x); f.Bounds != image.Rect(0, 0, 640, 480) || len(f.Changed) != 1 {
		t.Fatalf("all monitors: Bounds %v Changed %v", f.Bounds, f.Changed)
	}
}

// TestX11MonitorSelection defines two RandR monitors over the halves of
// the screen (besides Xvfb's own, which spans it) and captures the right
// one.
func TestX11MonitorSelection(t *testing.T) {
	s := xvfb.Start(t, xvfb.Options{Width: 640, Height: 240})
	s.Run(t, "xrandr", "--setmonitor", "left", "320/80x240/60+0+0", "none")
	s.Run(t, "xrandr", "--setmonitor", "right", "320/80x240/60+320+0", "none")
	p := s.Painter(t)
	p.Fill(t, image.Rect(0, 0, 320, 240), red)
	p.Fill(t, image.Rect(320, 0, 640, 240), blue)

	x := openX11(t, s, Options{})
	ms := x.Monitors()
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	if strings.Join(names, ",") != "screen,left,right" || ms[2].Bounds != image.Rect(320, 0, 640, 240) {
		t.Fatalf("Monitors = %+v, want screen, left, right", ms)
	}
	if err := x.SelectMonitor(2); err != nil {
		t.Fatal(err)
	}
	f := mustCapture(t, x)
	if f.Bounds != image.Rect(320, 0, 640, 240) || at(f, 0, 0) != blue || at(f, 319, 239) != blue {
		t.Fatalf("right monitor: Bounds %v, corners %v %v", f.Bounds, at(f, 0, 0), at(f, 319, 239))
	}
	p.Fill(t, image.Rect(10, 10, 20, 20), green) // on the left monitor
	p.Fill(t, image.Rect(400, 100, 410, 110), green)
	f = captureChanged(t, x)
	if u := union(f.Changed); u != image.Rect(80, 100, 90, 110) {
		t.Fatalf("Changed = %v, want only the right monitor's fill at (80,100)-(90,110)", f.Changed)
	}
	if at(f, 85, 105) != green {
		t.Fatalf("fill on the right monitor not captured: %v", at(f, 85, 105))
	}
}

// TestX11FollowsMonitorChange resizes and moves the captured RandR
// monitor, then removes it: the source follows with a new segment and
// then falls back to the primary monitor.
func TestX11FollowsMonitorChange(t *testing.T) {
	s := xvfb.Start(t, xvfb.Options{Width: 640, Height: 480})
	s.Run(t, "xrandr", "--setmonitor", "side", "320/80x240/60+320+0", "none")
	p := s.Painter(t)
	p.Fill(t, p.Bounds, blue)
	x := openX11(t, s, Options{Monitor: 1})
	if f := mustCapture(t, x); f.Bounds != image.Rect(320, 0, 640, 240) {
		t.Fatalf("Bounds = %v, want the side monitor", f.Bounds)
	}
	seg := x.seg

	s.Run(t, "xrandr", "--delmonitor", "side", "--setmonitor", "side", "200/50x100/25+400+50", "none")
	f := captureChanged(t, x)
	if f.Bounds != image.Rect(400, 50, 600, 150) || len(f.Changed) != 1 || f.Changed[0] != image.Rect(0, 0, 200, 100) {
		t.Fatalf("after resize: Bounds %v Changed %v", f.Bounds, f.Changed)
	}
	if x.seg == seg || f.Stride != 4*200 || at(f, 199, 99) != blue {
		t.Fatalf("after resize: segment not re-created, or stride %d, or pixel %v", f.Stride, at(f, 199, 99))
	}

	s.Run(t, "xrandr", "--delmonitor", "side")
	if f := captureChanged(t, x); f.Bounds != image.Rect(0, 0, 640, 480) {
		t.Fatalf("after removal: Bounds %v, want the primary monitor", f.Bounds)
	}
}

// TestX11FollowsRestart restarts the X server with another resolution; the
// source reconnects and re-creates its segment.
func TestX11FollowsRestart(t *testing.T) {
	s := xvfb.Start(t, xvfb.Options{Width: 320, Height: 240})
	x := openX11(t, s, Options{})
	mustCapture(t, x)

	s.Restart(t, xvfb.Options{Width: 400, Height: 300})
	s.Painter(t).Fill(t, image.Rect(0, 0, 400, 300), green)
	waitChange(t, x) // the lost connection is signalled
	deadline := time.Now().Add(10 * time.Second)
	var f *Frame
	for {
		var err error
		f, err = x.Capture()
		if err == nil {
			break
		}
		if !errors.Is(err, ErrDisconnected) || time.Now().After(deadline) {
			t.Fatalf("Capture after restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if f.Bounds != image.Rect(0, 0, 400, 300) || len(f.Changed) != 1 || f.Changed[0] != image.Rect(0, 0, 400, 300) {
		t.Fatalf("after restart: Bounds %v Changed %v", f.Bounds, f.Changed)
	}
	if at(f, 399, 299) != green {
		t.Fatalf("after restart: corner pixel %v, want green", at(f, 399, 299))
	}
}

func TestX11CloseReleasesEverything(t *testing.T) {
	s := xvfb.Start(t, xvfb.Options{Width: 320, Height: 240})
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	x, err := OpenX11(Options{Display: s.Display, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	mustCapture(t, x)
	id := x.seg.id
	var ds unix.SysvShmDesc
	if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &ds); err != nil {
		t.Fatalf("segment %d not there while capturing: %v", id, err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Capture(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Capture after Close = %v, want ErrClosed", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &ds); err != nil {
			break // removed: neither we nor the server hold it
		}
		if time.Now().After(deadline) {
			t.Fatalf("segment %d still exists after Close (%d attachments)", id, ds.Nattch)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestX11Unsupported(t *testing.T) {
	s := xvfb.Start(t, xvfb.Options{Width: 320, Height: 240, Depth: 16})
	if _, err := OpenX11(Options{Display: s.Display}); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("OpenX11 on a 16-bit screen = %v, want ErrUnsupported", err)
	}
}

func TestX11NoServer(t *testing.T) {
	if _, err := OpenX11(Options{Display: ":4999"}); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("OpenX11 without a server = %v, want ErrDisconnected", err)
	}
}
