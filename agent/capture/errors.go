package capture

import "errors"

var (
	// ErrClosed is returned by a Source after Close.
	ErrClosed = errors.New("capture: source closed")
	// ErrNoMonitor is returned when a monitor index does not exist.
	ErrNoMonitor = errors.New("capture: no such monitor")
	// ErrDisconnected is returned while the X server is unreachable; the
	// X11 source retries on later calls to Capture.
	ErrDisconnected = errors.New("capture: X server unreachable")
	// ErrUnsupported is returned when the display's pixel format or
	// extensions cannot be captured.
	ErrUnsupported = errors.New("capture: unsupported display")
)
