//go:build !linux

package diag

import (
	"errors"
	"runtime"
	"time"
)

// kernelClock is only implemented on Linux.
func kernelClock() (synced bool, offset, maxError time.Duration, err error) {
	return false, 0, 0, errors.New("clock state not supported on " + runtime.GOOS)
}
