//go:build !linux && !darwin && !windows

package installer

import (
	"context"
	"errors"
	"runtime"
)

// PlatformServices reports that this OS has no supported service manager.
func PlatformServices() (ServiceManager, error) {
	return nil, errors.New("installer: no service support on " + runtime.GOOS)
}

// RunService runs run until ctx ends.
func RunService(ctx context.Context, run func(ctx context.Context) error) error { return run(ctx) }
