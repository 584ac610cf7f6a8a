// Package capture grabs the screen for a remote-support session.
//
// On Linux with X11, an X11 source keeps one X connection with an attached
// MIT-SHM segment for the whole session, so a 1080p frame costs about half
// a millisecond; the X DAMAGE extension reports which areas changed, so an
// unchanged screen costs neither a copy nor an encode; XFixes provides the
// pointer's shape and position; RandR lists the monitors and announces
// resolution changes, after which the segment is re-created. If the X
// server goes away (the session restarts), the source reconnects.
//
// Elsewhere, and where X11 is unavailable, a Screenshot source uses
// github.com/kbinani/screenshot, which is slow (tens of milliseconds per
// frame) but portable, and finds changes by comparing tiles.
//
// A typical session loop:
//
//	src, err := capture.Open(capture.Options{})
//	...
//	for {
//		select {
//		case <-src.Changes(): // damage reported: capture now
//		case <-tick.C: // pointer moves and polling sources
//		case <-ctx.Done():
//			return src.Close()
//		}
//		f, err := src.Capture()
//		...
//		if len(f.Changed) > 0 {
//			// convert f.Changed, encode
//		}
//	}
package capture

import (
	"image"
	"log/slog"
	"time"
)

// AllMonitors, as Options.Monitor or for SelectMonitor, captures the
// bounding box of every monitor (the whole X screen).
const AllMonitors = -1

// Source is a screen-capture backend.
type Source interface {
	// Capture returns the current picture of the selected monitor. The
	// Frame and its pixels belong to the Source and stay valid until the
	// next call to Capture or Close: SelectMonitor takes effect at the next
	// Capture.
	Capture() (*Frame, error)
	// Monitors lists the monitors, the primary first.
	Monitors() []Monitor
	// SelectMonitor switches to Monitors()[i], or to AllMonitors; the next
	// frame is then reported as changed everywhere.
	SelectMonitor(i int) error
	// Changes receives a value when the screen may have changed since the
	// last Capture. It is nil for sources that cannot tell: poll those.
	Changes() <-chan struct{}
	// Close releases the connection and shared memory.
	Close() error
}

// Options configure a Source. The zero value captures the primary
// monitor of $DISPLAY without drawing the pointer.
type Options struct {
	// Display is the X display, e.g. ":0"; empty means $DISPLAY.
	Display string
	// Monitor is the index in Monitors() to capture first: 0 is the
	// primary, AllMonitors the whole screen.
	Monitor int
	// DrawCursor composites the pointer into the frame's pixels. Either
	// way its position and shape are reported in Frame.Cursor where the
	// platform exposes them.
	DrawCursor bool
	// Logger receives reconnects and monitor changes; nil means
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock used for Frame.Time and reconnect pacing; nil
	// means time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Frame is one captured picture.
type Frame struct {
	// Pix holds the pixels in BGRX byte order (blue, green, red, unused),
	// row after row, Stride bytes apart.
	Pix    []byte
	Stride int
	// Bounds is the area of the virtual screen the frame shows, in
	// screen coordinates; the frame's size is Bounds.Size() and pixel
	// (0,0) of Pix is Bounds.Min on the screen.
	Bounds image.Rectangle
	// Time is when the pixels were read.
	Time time.Time
	// Changed lists the areas, in frame coordinates (relative to
	// Bounds.Min), whose pixels may differ from the previous frame's. It
	// is empty when nothing changed and covers the whole frame for the
	// first frame and after a resolution or monitor change.
	Changed []image.Rectangle
	// Cursor is the pointer at capture time.
	Cursor Cursor
}

// Cursor is the state of the pointer.
type Cursor struct {
	// Pos is the pointer's hotspot in frame coordinates; it may lie
	// outside the frame when the pointer is on another monitor.
	Pos image.Point
	// Shape is the pointer's image; nil if the platform does not expose
	// it. The same *CursorShape is returned until the shape changes.
	Shape *CursorShape
}

// CursorShape is a pointer image.
type CursorShape struct {
	// Serial identifies the shape; it changes whenever the shape does.
	Serial uint32
	// Hot is the hotspot, relative to the image's top-left corner.
	Hot image.Point
	// Image holds alpha-premultiplied pixels, as image.RGBA always does.
	Image *image.RGBA
}

// Monitor is one output of the display.
type Monitor struct {
	// Name is the output's name, e.g. "HDMI-1".
	Name string
	// Bounds is the monitor's area in screen coordinates.
	Bounds image.Rectangle
	// Primary reports whether this is the primary monitor.
	Primary bool
}

// maxChanged bounds the rectangles a Frame reports; more are merged into
// their bounding box, which encoders handle as well.
const maxChanged = 16

// appendChanged adds r to rs, merging into a bounding box once there are
// more than maxChanged rectangles.
func appendChanged(rs []image.Rectangle, r image.Rectangle) []image.Rectangle {
	if r.Empty() {
		return rs
	}
	if len(rs) < maxChanged {
		return append(rs, r)
	}
	u := r
	for _, s := range rs {
		u = u.Union(s)
	}
	return append(rs[:0], u)
}
