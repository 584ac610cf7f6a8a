// Package installer installs reach-agent as a system service and removes
// it again: it copies the binary into place atomically, writes the agent's
// config with owner-only permissions, enrolls the device, and installs a
// hardened service definition (a systemd unit on Linux; launchd and the
// Windows service manager through github.com/kardianos/service on macOS
// and Windows). Upgrade swaps the binary atomically and rolls back when the
// new one does not come up healthy.
//
// Every path lives under Layout.Root, so tests install into a temporary
// directory; the service manager is an interface, so they run without a
// running systemd.
package installer

import (
	"path/filepath"
	"runtime"
)

// ServiceName is the agent's service (unit) name without suffix.
const ServiceName = "reach-agent"

// Layout says where the installed agent's files live. Paths are absolute
// as seen on the installed system; Path prefixes Root.
type Layout struct {
	// Root is the file system root to install under; "" or "/" is the
	// real system.
	Root string
	// Binary is the installed executable, e.g. /usr/local/bin/reach-agent.
	Binary string
	// ConfigDir holds Config; it is removed on uninstall when empty.
	ConfigDir string
	// Config is the agent's settings, KEY=value lines (REACH_AGENT_*), 0600.
	Config string
	// StateDir holds the device identity written by enrollment, 0700.
	StateDir string
	// Unit is the service definition (systemd unit file on Linux).
	Unit string
	// Autostart is the XDG autostart entry that starts `reach-agent ui` in
	// the user's graphical session (Linux); "" means none.
	Autostart string
	// Packaged means the binary and unit belong to the .deb/.rpm package:
	// install leaves them as they are and uninstall is the package
	// manager's job.
	Packaged bool
}

// DefaultLayout is where `reach-agent install` puts the agent on this
// operating system, under root.
func DefaultLayout(root string) Layout {
	switch runtime.GOOS {
	case "darwin":
		return DarwinLayout(root)
	case "windows":
		return WindowsLayout(root)
	}
	return LinuxLayout(root)
}

// LinuxLayout is a local install on Linux, outside the package manager's
// paths.
func LinuxLayout(root string) Layout {
	return Layout{
		Root:      root,
		Binary:    "/usr/local/bin/reach-agent",
		ConfigDir: "/etc/reach",
		Config:    "/etc/reach/agent.conf",
		StateDir:  "/var/lib/reach-agent",
		Unit:      "/etc/systemd/system/reach-agent.service",
		Autostart: AutostartPath,
	}
}

// LinuxPackagedLayout is where the .deb/.rpm package puts the agent: the
// binary under /usr/bin and the unit under /usr/lib/systemd/system, both
// owned by the package manager; config and state as in LinuxLayout.
func LinuxPackagedLayout(root string) Layout {
	l := LinuxLayout(root)
	l.Binary = "/usr/bin/reach-agent"
	l.Unit = "/usr/lib/systemd/system/reach-agent.service"
	l.Packaged = true
	return l
}

// DetectLayout is the layout of the agent binary exe: the packaged one when
// exe is the package's binary, else DefaultLayout.
func DetectLayout(root, exe string) Layout {
	if runtime.GOOS == "linux" {
		p := LinuxPackagedLayout(root)
		if resolved, err := filepath.EvalSymlinks(exe); err == nil && resolved == p.Path(p.Binary) {
			return p
		}
	}
	return DefaultLayout(root)
}

// DarwinLayout is the macOS install: a launchd daemon.
func DarwinLayout(root string) Layout {
	const support = "/Library/Application Support/Reach"
	return Layout{
		Root:      root,
		Binary:    "/usr/local/bin/reach-agent",
		ConfigDir: support,
		Config:    support + "/agent.conf",
		StateDir:  support + "/state",
		Unit:      "/Library/LaunchDaemons/" + ServiceName + ".plist",
	}
}

// WindowsLayout is the Windows install: a service registered with the
// service control manager (no unit file).
func WindowsLayout(root string) Layout {
	return Layout{
		Root:      root,
		Binary:    `C:\Program Files\Reach\reach-agent.exe`,
		ConfigDir: `C:\ProgramData\Reach`,
		Config:    `C:\ProgramData\Reach\agent.conf`,
		StateDir:  `C:\ProgramData\Reach\state`,
	}
}

// Path is p under the layout's root.
func (l Layout) Path(p string) string {
	if l.Root == "" || l.Root == "/" {
		return p
	}
	return filepath.Join(l.Root, p)
}

// prevBinary is where Upgrade keeps the previous binary until the new one
// is healthy.
func (l Layout) prevBinary() string { return l.Binary + ".prev" }
