package installer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
)

// unitTemplate is the agent's systemd unit. The hardening keeps what an
// agent that shares the logged-in user's X display needs:
//   - it runs as root: it must read the user's X authority cookie (mode
//     0600, owned by the user), hence CAP_DAC_READ_SEARCH, and inventory
//     reads root-only files (DMI serials, other users' processes, hence
//     CAP_SYS_PTRACE for /proc/PID/exe);
//   - ProtectHome=read-only, not yes: ~/.Xauthority is in the home;
//   - PrivateTmp with /tmp/.X11-unix bound back read-only: X's socket
//     lives there (connecting to a socket on a read-only mount works);
//   - no PrivateIPC and no PrivateNetwork: MIT-SHM capture shares SysV
//     shared memory with the X server, and Xorg also listens on an
//     abstract socket in the host's network namespace;
//   - ProtectSystem=strict: the only writable paths are the state
//     directory and /run/reach-agent (RuntimeDirectory, 0755), where the
//     consent bridge's socket ui.sock waits for the signed-in user's
//     `reach-agent ui` (agent/uibridge checks who connects).
var unitTemplate = template.Must(template.New("unit").Parse(`[Unit]
Description=Reach remote support agent
Documentation=https://github.com/reachdesk/reach/blob/main/docs/install.md
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
EnvironmentFile={{.Config}}
ExecStart={{.Binary}} serve
Restart=on-failure
RestartSec=5s
TimeoutStopSec=15s
UMask=0077
RuntimeDirectory=reach-agent
RuntimeDirectoryMode=0755

NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths={{.StateDir}}
ProtectHome=read-only
PrivateTmp=yes
BindReadOnlyPaths=-/tmp/.X11-unix
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
CapabilityBoundingSet=CAP_DAC_READ_SEARCH CAP_SYS_PTRACE

[Install]
WantedBy=multi-user.target
`))

// Unit renders the systemd unit for l.
func Unit(l Layout) []byte {
	var b bytes.Buffer
	if err := unitTemplate.Execute(&b, l); err != nil {
		panic(err) // the template and Layout are fixed: a bug
	}
	return b.Bytes()
}

// ServiceStatus is what the service manager says about the agent service.
type ServiceStatus struct {
	// Active is true while the service runs.
	Active bool
	// PID is the main process, zero when none.
	PID int
	// Restarts counts automatic restarts since the service was last
	// started by hand (systemd's NRestarts).
	Restarts int
	// State is the manager's own word, e.g. "active (running)".
	State string
}

// ServiceManager registers the agent with the OS's service manager and
// controls it. Implementations: Systemd on Linux, the kardianos/service
// wrapper on macOS and Windows; tests substitute their own.
type ServiceManager interface {
	// Install writes the service definition for l and enables it at boot
	// without starting it. Installing again replaces the definition.
	Install(ctx context.Context, l Layout) error
	// Remove stops and disables the service and deletes its definition; a
	// service that is not installed is not an error.
	Remove(ctx context.Context, l Layout) error
	// Start starts the service; Restart starts or restarts it.
	Start(ctx context.Context) error
	Restart(ctx context.Context) error
	// Stop stops it; a stopped service is not an error.
	Stop(ctx context.Context) error
	// Status reports the service's state.
	Status(ctx context.Context) (ServiceStatus, error)
}

// Systemctl runs systemctl with args and returns its standard output.
// ExecSystemctl is the real one; tests substitute a supervisor that needs
// no running systemd.
type Systemctl interface {
	Systemctl(ctx context.Context, args ...string) (string, error)
}

// ExecSystemctl runs the systemctl command.
type ExecSystemctl struct{}

// Systemctl runs `systemctl args...`; a failure carries its stderr.
func (ExecSystemctl) Systemctl(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "systemctl", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("systemctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// Systemd manages the agent as a systemd unit.
type Systemd struct {
	// Ctl runs systemctl; nil means ExecSystemctl.
	Ctl Systemctl
}

const unitName = ServiceName + ".service"

func (s Systemd) ctl(ctx context.Context, args ...string) (string, error) {
	c := s.Ctl
	if c == nil {
		c = ExecSystemctl{}
	}
	return c.Systemctl(ctx, args...)
}

// Install writes the unit, reloads systemd and enables the unit.
func (s Systemd) Install(ctx context.Context, l Layout) error {
	path := l.Path(l.Unit)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("install unit: %w", err)
	}
	// A packaged unit is the package's file: identical content is left
	// alone (and a changed one is what the installer's layout says).
	if old, err := os.ReadFile(path); err != nil || !bytes.Equal(old, Unit(l)) {
		if err := writeFileAtomic(path, Unit(l), 0o644); err != nil {
			return fmt.Errorf("install unit: %w", err)
		}
	}
	if _, err := s.ctl(ctx, "daemon-reload"); err != nil {
		return err
	}
	_, err := s.ctl(ctx, "enable", unitName)
	return err
}

// Remove disables and stops the unit, deletes it and reloads systemd.
func (s Systemd) Remove(ctx context.Context, l Layout) error {
	path := l.Path(l.Unit)
	if _, err := os.Stat(path); err == nil {
		if _, err := s.ctl(ctx, "disable", "--now", unitName); err != nil {
			return err
		}
	}
	if err := removeIfExists(path); err != nil {
		return fmt.Errorf("remove unit: %w", err)
	}
	if _, err := s.ctl(ctx, "daemon-reload"); err != nil {
		return err
	}
	s.ctl(ctx, "reset-failed", unitName) // forget a failed state; fails when unknown
	return nil
}

// Start starts the unit.
func (s Systemd) Start(ctx context.Context) error {
	_, err := s.ctl(ctx, "start", unitName)
	return err
}

// Restart restarts the unit (starting it if stopped).
func (s Systemd) Restart(ctx context.Context) error {
	_, err := s.ctl(ctx, "restart", unitName)
	return err
}

// Stop stops the unit.
func (s Systemd) Stop(ctx context.Context) error {
	_, err := s.ctl(ctx, "stop", unitName)
	return err
}

// Status reads ActiveState, SubState, MainPID and NRestarts.
func (s Systemd) Status(ctx context.Context) (ServiceStatus, error) {
	out, err := s.ctl(ctx, "show", unitName, "-p", "ActiveState", "-p", "SubState", "-p", "MainPID", "-p", "NRestarts")
	if err != nil {
		return ServiceStatus{}, err
	}
	return parseShow(out)
}

func parseShow(out string) (ServiceStatus, error) {
	kv := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			kv[k] = v
		}
	}
	if kv["ActiveState"] == "" {
		return ServiceStatus{}, errors.New("systemctl show: no ActiveState")
	}
	st := ServiceStatus{Active: kv["ActiveState"] == "active", State: kv["ActiveState"] + " (" + kv["SubState"] + ")"}
	st.PID, _ = strconv.Atoi(kv["MainPID"])
	st.Restarts, _ = strconv.Atoi(kv["NRestarts"])
	return st, nil
}
