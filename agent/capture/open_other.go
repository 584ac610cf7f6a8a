//go:build !linux

package capture

// Open returns a Screenshot source, the only one on this platform.
func Open(opts Options) (Source, error) {
	return OpenScreenshot(opts)
}
