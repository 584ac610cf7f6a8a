package capture

import (
	"bytes"
	"fmt"
	"image"
	"sync"

	"github.com/kbinani/screenshot"
)

// Screenshot captures through github.com/kbinani/screenshot, which opens
// a new connection for every frame (about 60 ms for 1080p on X11): the
// portable fallback. On X11 it uses $DISPLAY and ignores Options.Display,
// and it reports no pointer. It finds changes by comparing the frame with
// the previous one in tiles. Its methods are safe for concurrent use.
type Screenshot struct {
	opts Options

	mu       sync.Mutex // guards the fields below
	closed   bool
	selected int // index in monitors, or AllMonitors
	monitors []Monitor
	full     bool   // the next frame is reported as changed everywhere
	cur      []byte // receives the next frame
	prev     []byte // holds the frame last returned
	frame    Frame
}

var _ Source = (*Screenshot)(nil)

// OpenScreenshot lists the displays and prepares to capture opts.Monitor.
func OpenScreenshot(opts Options) (*Screenshot, error) {
	s := &Screenshot{opts: opts.withDefaults(), selected: opts.Monitor, full: true}
	if err := s.enumerate(); err != nil {
		return nil, err
	}
	if s.selected != AllMonitors && (s.selected < 0 || s.selected >= len(s.monitors)) {
		return nil, fmt.Errorf("%w: %d of %d", ErrNoMonitor, s.selected, len(s.monitors))
	}
	return s, nil
}

// enumerate lists the displays; display 0 is the primary.
func (s *Screenshot) enumerate() error {
	n := screenshot.NumActiveDisplays()
	if n == 0 {
		return fmt.Errorf("capture: no active display: %w", ErrUnsupported)
	}
	s.monitors = s.monitors[:0]
	for i := range n {
		s.monitors = append(s.monitors, Monitor{
			Name:    fmt.Sprintf("display-%d", i),
			Bounds:  screenshot.GetDisplayBounds(i),
			Primary: i == 0,
		})
	}
	return nil
}

// Monitors lists the displays, the primary first.
func (s *Screenshot) Monitors() []Monitor {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Monitor(nil), s.monitors...)
}

// SelectMonitor switches capture to Monitors()[i] or to AllMonitors.
func (s *Screenshot) SelectMonitor(i int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if i != AllMonitors && (i < 0 || i >= len(s.monitors)) {
		return fmt.Errorf("%w: %d of %d", ErrNoMonitor, i, len(s.monitors))
	}
	s.selected, s.full = i, true
	return nil
}

// Changes returns nil: this source cannot tell when the screen changes.
func (s *Screenshot) Changes() <-chan struct{} { return nil }

// Close releases the frame buffers.
func (s *Screenshot) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed, s.cur, s.prev, s.frame = true, nil, nil, Frame{}
	return nil
}

// Capture returns the current picture of the selected display; see
// Source.Capture. The displays are listed again on every call, so a
// resolution change shows in the next frame.
func (s *Screenshot) Capture() (*Frame, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if err := s.enumerate(); err != nil {
		return nil, err
	}
	i := s.selected
	if i >= len(s.monitors) {
		i = 0 // the display is gone: fall back to the primary
	}
	var bounds image.Rectangle
	if i == AllMonitors {
		for _, m := range s.monitors {
			bounds = bounds.Union(m.Bounds)
		}
	} else {
		bounds = s.monitors[i].Bounds
	}
	img, err := screenshot.CaptureRect(bounds)
	if err != nil {
		return nil, fmt.Errorf("capture: screenshot of %v: %w", bounds, err)
	}
	size, stride := bounds.Size(), 4*bounds.Dx()
	if bounds.Size() != s.frame.Bounds.Size() || len(s.cur) != stride*size.Y {
		s.cur, s.prev, s.full = make([]byte, stride*size.Y), make([]byte, stride*size.Y), true
	}
	rgbaToBGRX(s.cur, stride, img)

	f := &s.frame
	f.Changed = f.Changed[:0]
	if s.full {
		f.Changed = append(f.Changed, image.Rectangle{Max: size})
		s.full = false
	} else {
		f.Changed = diffTiles(s.cur, s.prev, stride, size, f.Changed)
	}
	s.cur, s.prev = s.prev, s.cur
	f.Pix, f.Stride, f.Bounds, f.Time = s.prev, stride, bounds, s.opts.Now()
	return f, nil
}

// rgbaToBGRX copies img into dst, a BGRX picture of the same size.
func rgbaToBGRX(dst []byte, stride int, img *image.RGBA) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	for y := range h {
		src := img.Pix[y*img.Stride : y*img.Stride+4*w]
		row := dst[y*stride : y*stride+4*w]
		for i := 0; i+3 < len(src) && i+3 < len(row); i += 4 {
			row[i], row[i+1], row[i+2], row[i+3] = src[i+2], src[i+1], src[i], 0
		}
	}
}

// tileSize is the side of the squares diffTiles compares.
const tileSize = 64

// diffTiles compares two BGRX pictures of the given size and stride in
// tileSize squares and appends the changed ones to rs, joining neighbours
// along a row of tiles. Unchanged bands of rows cost one comparison a row.
func diffTiles(a, b []byte, stride int, size image.Point, rs []image.Rectangle) []image.Rectangle {
	rowBytes := 4 * size.X
	for y0 := 0; y0 < size.Y; y0 += tileSize {
		y1 := min(y0+tileSize, size.Y)
		same := true
		for y := y0; y < y1 && same; y++ {
			same = bytes.Equal(a[y*stride:y*stride+rowBytes], b[y*stride:y*stride+rowBytes])
		}
		if same {
			continue
		}
		run := -1 // left edge of the current run of changed tiles
		for x0 := 0; x0 < size.X; x0 += tileSize {
			x1 := min(x0+tileSize, size.X)
			if tileDiffers(a, b, stride, x0, x1, y0, y1) {
				if run < 0 {
					run = x0
				}
				continue
			}
			if run >= 0 {
				rs = appendChanged(rs, image.Rect(run, y0, x0, y1))
				run = -1
			}
		}
		if run >= 0 {
			rs = appendChanged(rs, image.Rect(run, y0, size.X, y1))
		}
	}
	return rs
}

// tileDiffers reports whether columns [x0,x1) of rows [y0,y1) differ.
func tileDiffers(a, b []byte, stride, x0, x1, y0, y1 int) bool {
	for y := y0; y < y1; y++ {
		o := y * stride
		if !bytes.Equal(a[o+4*x0:o+4*x1], b[o+4*x0:o+4*x1]) {
			return true
		}
	}
	return false
}
