//go:build !linux

package inventory

import "runtime"

// notSupported is the reason for a collector this platform lacks.
const notSupported = "not supported on " + runtime.GOOS
