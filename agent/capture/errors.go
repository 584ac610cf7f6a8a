package capture

import "errors"

var (
	// ErrClosed is returned by a Source after Close.
	ErrClosed = errors.New("capture: source closed")
	// ErrNoMonitor is returned when a monitor index does not exist.
	ErrNoMonitor = errors.New("capture: no such monitor")
	// ErrDisconnected is wrapped in the errors returned while the X server is unreachable; the
	// X11 source retries on later calls to Capture.
	ErrDisconnected = errors.New("X server unreachable")
	// ErrUnsupported is wrapped in the errors returned when the display's pixel format or
	// extensions cannot be captured.
	ErrUnsupported = errors.New("unsupported display")
)
