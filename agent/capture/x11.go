//go:build linux

package capture

import (
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"sync"
	"time"
)

// reconnectInterval paces reconnection attempts while the X server is gone.
const reconnectInterval = time.Second

// X11 captures an X11 screen through one persistent connection and one
// MIT-SHM segment. Its methods are safe for concurrent use.
type X11 struct {
	opts    Options
	display string
	changes chan struct{} // capacity 1; signalled by xconn.readEvents

	mu       sync.Mutex // guards the fields below and is held for a whole Capture
	xc       *xconn     // nil while disconnected
	lastDial time.Time  // last connection attempt
	closed   bool
	monitors []Monitor
	selected int             // index in monitors, or AllMonitors
	name     string          // selected monitor's name, kept across monitor changes
	bounds   image.Rectangle // captured area, screen coordinates
	seg      *segment        // holds the frame; sized for bounds
	full     bool            // the next Capture reads and reports the whole frame
	frame    Frame
	drawn    image.Rectangle // where the pointer is composited, frame coordinates
	under    []byte          // the pixels that drawn covers, row after row
}

var _ Source = (*X11)(nil)

// OpenX11 connects to the X display named in opts (or $DISPLAY) and
// prepares to capture opts.Monitor.
func OpenX11(opts Options) (*X11, error) {
	opts = opts.withDefaults()
	display := opts.Display
	if display == "" {
		display = os.Getenv("DISPLAY")
	}
	if display == "" {
		return nil, fmt.Errorf("capture: DISPLAY is not set: %w", ErrDisconnected)
	}
	x := &X11{opts: opts, display: display, changes: make(chan struct{}, 1), selected: opts.Monitor}
	x.lastDial = opts.Now()
	xc, err := dial(display, x.changes, opts.Logger)
	if err != nil {
		return nil, err
	}
	x.xc = xc
	if err := x.configure(); err != nil {
		x.drop()
		return nil, fmt.Errorf("capture: %w", err)
	}
	if m := opts.Monitor; m != AllMonitors && (m < 0 || m >= len(x.monitors)) {
		x.drop()
		return nil, fmt.Errorf("%w: %d of %d", ErrNoMonitor, m, len(x.monitors))
	}
	return x, nil
}

// Monitors lists the monitors, the primary first.
func (x *X11) Monitors() []Monitor {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]Monitor(nil), x.monitors...)
}

// SelectMonitor switches capture to Monitors()[i] or to AllMonitors.
func (x *X11) SelectMonitor(i int) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return ErrClosed
	}
	if i != AllMonitors && (i < 0 || i >= len(x.monitors)) {
		return fmt.Errorf("%w: %d of %d", ErrNoMonitor, i, len(x.monitors))
	}
	x.selected, x.name = i, ""
	if x.xc == nil {
		return nil // applied when the connection is back
	}
	// Applied by the next Capture, so that the frame the last one returned
	// stays intact while its caller still reads it on another goroutine.
	x.xc.reconfigure.Store(true)
	return nil
}

// Changes receives a value when the X server reports damage, a screen
// change, or the loss of the connection.
func (x *X11) Changes() <-chan struct{} { return x.changes }

// Close releases the shared memory and the X connection.
func (x *X11) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil
	}
	x.closed = true
	x.drop()
	return nil
}

// drop releases the segment and the connection, leaving x disconnected.
func (x *X11) drop() {
	if x.seg != nil {
		conn := x.xc.conn
		if x.xc.lost.Load() {
			conn = nil
		}
		x.seg.release(conn)
		x.seg = nil
		x.frame.Pix = nil
	}
	if x.xc != nil {
		x.xc.close()
		x.xc = nil
	}
}

// Capture returns the current picture of the selected monitor; see
// Source.Capture. While the X server is unreachable it returns an error
// wrapping ErrDisconnected and tries to reconnect at most once a second.
func (x *X11) Capture() (*Frame, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil, ErrClosed
	}
	if err := x.ensureConnected(); err != nil {
		return nil, err
	}
	f, err := x.capture()
	if err != nil && (errors.Is(err, io.EOF) || x.xc.lost.Load()) {
		// readEvents may not have seen the connection die yet.
		x.xc.lost.Store(true)
		x.drop()
		return nil, fmt.Errorf("capture: %w: %w", ErrDisconnected, err)
	}
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	return f, nil
}

// ensureConnected reconnects after the connection was lost.
func (x *X11) ensureConnected() error {
	if x.xc != nil && x.xc.lost.Load() {
		x.opts.Logger.Info("capture: lost the X connection", "display", x.display)
		x.drop()
	}
	if x.xc != nil {
		return nil
	}
	now := x.opts.Now()
	if now.Sub(x.lastDial) < reconnectInterval {
		return fmt.Errorf("capture: %w (retrying)", ErrDisconnected)
	}
	x.lastDial = now
	xc, err := dial(x.display, x.changes, x.opts.Logger)
	if err != nil {
		return err
	}
	x.xc = xc
	if err := x.configure(); err != nil {
		x.drop()
		return fmt.Errorf("capture: %w", err)
	}
	x.opts.Logger.Info("capture: reconnected", "display", x.display, "bounds", x.bounds)
	return nil
}

// configure re-reads the screen size and the monitors, finds the selected
// monitor again (by name, as indexes shift) and sizes the segment for it.
func (x *X11) configure() error {
	xc := x.xc
	xc.reconfigure.Store(false)
	root, err := xc.rootBounds()
	if err != nil {
		return err
	}
	if x.monitors, err = xc.monitors(root); err != nil {
		return err
	}
	bounds := root
	switch i := x.index(); {
	case i >= 0:
		x.selected, x.name, bounds = i, x.monitors[i].Name, x.monitors[i].Bounds
	case x.selected == AllMonitors:
	default:
		if x.name != "" {
			x.opts.Logger.Info("capture: monitor gone, using the primary", "monitor", x.name)
		}
		x.selected, x.name, bounds = 0, x.monitors[0].Name, x.monitors[0].Bounds
	}
	if x.seg == nil || bounds.Size() != x.bounds.Size() {
		if x.seg != nil {
			x.seg.release(xc.conn)
			x.seg, x.frame.Pix = nil, nil
		}
		if x.seg, err = newSegment(xc.conn, 4*bounds.Dx()*bounds.Dy()); err != nil {
			return err
		}
	}
	if bounds != x.bounds {
		x.opts.Logger.Info("capture: geometry", "display", x.display, "monitor", x.name, "bounds", bounds)
	}
	x.bounds, x.full, x.drawn = bounds, true, image.Rectangle{}
	x.frame.Pix, x.frame.Stride, x.frame.Bounds = x.seg.data, 4*bounds.Dx(), bounds
	return nil
}

// index finds the selected monitor in x.monitors: by name once one was
// chosen, else by index; -1 if it is gone or AllMonitors is selected.
func (x *X11) index() int {
	if x.selected == AllMonitors {
		return -1
	}
	if x.name == "" {
		if x.selected >= 0 && x.selected < len(x.monitors) {
			return x.selected
		}
		return -1
	}
	for i, m := range x.monitors {
		if m.Name == x.name {
			return i
		}
	}
	return -1
}

func (x *X11) capture() (*Frame, error) {
	xc := x.xc
	// This call sees every change signalled so far.
	select {
	case <-x.changes:
	default:
	}
	if xc.reconfigure.Load() {
		if err := x.configure(); err != nil {
			return nil, err
		}
	}
	f := &x.frame
	f.Changed = f.Changed[:0]
	frame := image.Rectangle{Max: x.bounds.Size()}
	if x.full {
		xc.discardDamage()
		f.Changed = append(f.Changed, frame)
	} else if xc.damaged.Swap(false) {
		var err error
		if f.Changed, err = xc.takeDamage(x.bounds, f.Changed); err != nil {
			return nil, err
		}
	}
	screenChanged := len(f.Changed) > 0

	pos, shape, err := xc.cursor(f.Cursor.Shape)
	if err != nil {
		return nil, err
	}
	pos = pos.Sub(x.bounds.Min)
	cursorChanged := pos != f.Cursor.Pos || shape != f.Cursor.Shape
	f.Cursor = Cursor{Pos: pos, Shape: shape}
	redraw := x.opts.DrawCursor && (screenChanged || cursorChanged)
	if redraw {
		x.restoreUnderCursor()
	}

	if screenChanged {
		band := f.Changed[0]
		for _, r := range f.Changed[1:] {
			band = band.Union(r)
		}
		if err := xc.getImage(x.seg, x.bounds, band.Min.Y, band.Max.Y); err != nil {
			// The screen may have shrunk under us; what the segment
			// holds now is suspect either way.
			x.full = true
			xc.reconfigure.Store(true)
			return nil, err
		}
		x.full = false
	}
	if redraw {
		old := x.drawn
		x.drawCursor(f)
		if cursorChanged {
			f.Changed = appendChanged(f.Changed, old)
			f.Changed = appendChanged(f.Changed, x.drawn)
		}
	}
	f.Time = x.opts.Now()
	return f, nil
}

// restoreUnderCursor removes the composited pointer from the frame.
func (x *X11) restoreUnderCursor() {
	restore(x.frame.Pix, x.frame.Stride, x.drawn, x.under)
}

// drawCursor composites the pointer into f and records where.
func (x *X11) drawCursor(f *Frame) {
	x.drawn = cursorRect(f.Cursor.Pos, f.Cursor.Shape, x.bounds.Size())
	if !x.drawn.Empty() {
		x.under = saveAndBlend(f.Pix, f.Stride, x.drawn, f.Cursor.Pos, f.Cursor.Shape, x.under)
	}
}
