package capture

import "errors"

// Open returns an X11 source when the X display is reachable and usable,
// and a Screenshot source otherwise.
func Open(opts Options) (Source, error) {
	x, err := OpenX11(opts)
	if err == nil {
		return x, nil
	}
	opts = opts.withDefaults()
	opts.Logger.Warn("capture: X11 capture unavailable, using the slow portable capture", "err", err)
	s, serr := OpenScreenshot(opts)
	if serr != nil {
		return nil, errors.Join(err, serr)
	}
	return s, nil
}
