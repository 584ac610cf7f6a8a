//go:build linux

package installer

import "context"

// PlatformServices is this OS's service manager: systemd.
func PlatformServices() (ServiceManager, error) { return Systemd{}, nil }

// RunService runs the agent inside the OS's service manager. systemd
// needs no protocol: it runs run until ctx ends (SIGTERM).
func RunService(ctx context.Context, run func(ctx context.Context) error) error { return run(ctx) }
