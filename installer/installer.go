package installer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// Enroller registers the device with the console; agent/enroll provides
// it. The installer only decides when to call it.
type Enroller interface {
	// Enrolled reports whether stateDir already holds a device identity.
	Enrolled(stateDir string) (bool, error)
	// Enroll registers the device with the console at server using the
	// enrollment token and stores its identity in stateDir (0700). With
	// replace it re-enrolls a device that already has an identity.
	Enroll(ctx context.Context, server, token, stateDir string, replace bool) error
}

// Options are optional. Zero values take the defaults noted.
type Options struct {
	// Enroller enrolls the device at install; nil makes an install of a
	// device not yet enrolled fail with a clear error.
	Enroller Enroller
	// Executable returns the binary to install; nil means os.Executable.
	Executable func() (string, error)
	// Settle is how long a (re)started service must stay up with the same
	// process and no restart to count as healthy; zero means 10 s, longer
	// than the unit's RestartSec.
	Settle time.Duration
	// StartTimeout bounds the wait for the service to become active; zero
	// means 30 s.
	StartTimeout time.Duration
	// Check, when set, is asked after Settle whether the agent is healthy
	// (e.g. it reached the relay); an error means unhealthy.
	Check func(ctx context.Context) error
	// Logger; nil means slog.Default(). Tokens are never logged.
	Logger *slog.Logger
}

// Installer installs, removes and upgrades the agent service in a layout.
type Installer struct {
	layout Layout
	svc    ServiceManager
	opts   Options
	log    *slog.Logger
}

// New returns an installer for layout l with service manager svc.
func New(l Layout, svc ServiceManager, opts Options) *Installer {
	if opts.Executable == nil {
		opts.Executable = os.Executable
	}
	if opts.Settle <= 0 {
		opts.Settle = 10 * time.Second
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 30 * time.Second
	}
	in := &Installer{layout: l, svc: svc, opts: opts, log: opts.Logger}
	if in.log == nil {
		in.log = slog.Default()
	}
	return in
}

// Layout is where the installer puts files.
func (in *Installer) Layout() Layout { return in.layout }

// InstallRequest is what `reach-agent install` asks for.
type InstallRequest struct {
	Config Config
	// Token is the enrollment token; needed only when the device is not
	// enrolled yet (or Reenroll).
	Token string
	// Reenroll enrolls again although the state directory holds an identity.
	Reenroll bool
}

// InstallResult says what Install did.
type InstallResult struct {
	// Enrolled is true when this install enrolled the device; false when
	// it kept an existing identity.
	Enrolled bool
	// Status is the service's state after the health check.
	Status ServiceStatus
}

// Sentinel errors of Install.
var (
	// ErrTokenRequired: the device is not enrolled and no token was given.
	ErrTokenRequired = errors.New("installer: the device is not enrolled yet: an enrollment token is required")
	// ErrServerChanged: the existing identity belongs to another console.
	ErrServerChanged = errors.New("installer: the device is enrolled with another console: re-enroll explicitly to move it")
	// ErrPackaged: the package manager owns this install.
	ErrPackaged = errors.New("installer: installed by the package manager: remove it with apt remove reach-agent or dnf remove reach-agent (purge also removes the identity)")
	// ErrUnhealthy: the service did not come up healthy.
	ErrUnhealthy = errors.New("installer: the agent service did not come up healthy")
)

// Install installs the agent: it enrolls the device first (if needed), so
// a bad token leaves nothing behind; then copies the binary, writes the
// config (0600) and the service definition, and (re)starts the service and
// waits until it is healthy. Running it again with the same request leaves
// one working install: the identity is kept, files are rewritten in place
// and the service is restarted.
func (in *Installer) Install(ctx context.Context, req InstallRequest) (*InstallResult, error) {
	l := in.layout
	if err := req.Config.Validate(); err != nil {
		return nil, fmt.Errorf("installer: %w", err)
	}
	src, err := in.opts.Executable()
	if err != nil {
		return nil, fmt.Errorf("installer: find own binary: %w", err)
	}
	res := &InstallResult{}

	// 1. Identity. Keep an existing one unless asked to re-enroll.
	state := l.Path(l.StateDir)
	_, statErr := os.Stat(state)
	createdState := errors.Is(statErr, fs.ErrNotExist)
	if err := mkdirMode(state, 0o700); err != nil {
		return nil, fmt.Errorf("installer: state directory: %w", err)
	}
	enrolled := false
	if in.opts.Enroller != nil {
		if enrolled, err = in.opts.Enroller.Enrolled(state); err != nil {
			return nil, fmt.Errorf("installer: %w", err)
		}
	}
	if enrolled && !req.Reenroll {
		if old, err := ReadConfig(l.Path(l.Config)); err == nil && old.Server != req.Config.Server {
			return nil, fmt.Errorf("%w (enrolled with %s)", ErrServerChanged, old.Server)
		}
	} else {
		switch {
		case req.Token == "":
			err = ErrTokenRequired
		case in.opts.Enroller == nil:
			err = errors.New("installer: this build cannot enroll")
		default:
			err = in.opts.Enroller.Enroll(ctx, req.Config.Server, req.Token, state, enrolled)
		}
		if err != nil {
			if createdState {
				os.RemoveAll(state)
			}
			return nil, fmt.Errorf("installer: enroll: %w", err)
		}
		res.Enrolled = true
		in.log.Info("installer: enrolled", "server", req.Config.Server)
	}

	// 2. Binary, config and service definition.
	bin := l.Path(l.Binary)
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return nil, fmt.Errorf("installer: %w", err)
	}
	if !sameFile(src, bin) {
		if err := copyFileAtomic(src, bin, 0o755); err != nil {
			return nil, fmt.Errorf("installer: copy binary: %w", err)
		}
	}
	if err := mkdirMode(l.Path(l.ConfigDir), 0o755); err != nil {
		return nil, fmt.Errorf("installer: config directory: %w", err)
	}
	if err := writeFileAtomic(l.Path(l.Config), req.Config.Marshal(l.StateDir), 0o600); err != nil {
		return nil, fmt.Errorf("installer: write config: %w", err)
	}
	if err := in.installAutostart(); err != nil {
		return nil, err
	}
	if err := in.svc.Install(ctx, l); err != nil {
		return nil, fmt.Errorf("installer: register service: %w", err)
	}

	// 3. Start (or restart, so a new binary or config takes effect).
	before, _ := in.svc.Status(ctx)
	if err := in.svc.Restart(ctx); err != nil {
		return nil, fmt.Errorf("installer: start service: %w", err)
	}
	st, err := in.waitHealthy(ctx, before.PID)
	res.Status = st
	if err != nil {
		return res, err
	}
	return res, nil
}

// Uninstall stops and removes the service, the binary and, unless
// keepConfig, the config and the device identity. Removing what is not
// there is not an error, so it can finish an interrupted uninstall.
func (in *Installer) Uninstall(ctx context.Context, keepConfig bool) error {
	l := in.layout
	if l.Packaged {
		return ErrPackaged
	}
	if err := in.svc.Remove(ctx, l); err != nil {
		return fmt.Errorf("installer: remove service: %w", err)
	}
	if err := in.removeAutostart(); err != nil {
		return err
	}
	for _, f := range []string{l.Binary, l.prevBinary()} {
		if err := removeIfExists(l.Path(f)); err != nil {
			return fmt.Errorf("installer: %w", err)
		}
	}
	if keepConfig {
		return nil
	}
	if err := removeIfExists(l.Path(l.Config)); err != nil {
		return fmt.Errorf("installer: %w", err)
	}
	if err := os.RemoveAll(l.Path(l.StateDir)); err != nil {
		return fmt.Errorf("installer: %w", err)
	}
	// The config directory may hold other components' files; only an empty
	// one goes.
	if entries, err := os.ReadDir(l.Path(l.ConfigDir)); err == nil && len(entries) == 0 {
		if err := os.Remove(l.Path(l.ConfigDir)); err != nil {
			return fmt.Errorf("installer: %w", err)
		}
	}
	return nil
}

// waitHealthy waits for the service to run a process other than oldPID,
// then for it to stay up Settle without a restart, then asks Check.
func (in *Installer) waitHealthy(ctx context.Context, oldPID int) (ServiceStatus, error) {
	const poll = 100 * time.Millisecond
	deadline := time.Now().Add(in.opts.StartTimeout)
	var st ServiceStatus
	var err error
	for {
		st, err = in.svc.Status(ctx)
		// A manager that reports no PID (launchd, Windows through
		// kardianos) restarts synchronously: active means the new process.
		if err == nil && st.Active && (st.PID == 0 || st.PID != oldPID) {
			break
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("%w: not running after %s (state %s, %v)", ErrUnhealthy, in.opts.StartTimeout, st.State, err)
		}
		if err := sleep(ctx, poll); err != nil {
			return st, err
		}
	}
	started := st
	settle := time.Now().Add(in.opts.Settle)
	for time.Now().Before(settle) {
		if err := sleep(ctx, poll); err != nil {
			return st, err
		}
		st, err = in.svc.Status(ctx)
		if err != nil {
			return st, fmt.Errorf("%w: %v", ErrUnhealthy, err)
		}
		if !st.Active || st.PID != started.PID || st.Restarts != started.Restarts {
			return st, fmt.Errorf("%w: it stopped or restarted within %s (state %s)", ErrUnhealthy, in.opts.Settle, st.State)
		}
	}
	if in.opts.Check != nil {
		if err := in.opts.Check(ctx); err != nil {
			return st, fmt.Errorf("%w: %v", ErrUnhealthy, err)
		}
	}
	return st, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
