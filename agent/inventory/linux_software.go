//go:build linux

package inventory

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"

	"github.com/reachdesk/reach/agent/inventory/probe"
	inv "github.com/reachdesk/reach/proto/inventory"
)

// maxPackageDB bounds a package database read into memory.
const maxPackageDB = 64 << 20

// packageSource reads one package manager. present is false when the
// manager is not on the system, which is not an error.
type packageSource struct {
	source inv.PackageSource
	read   func(ctx context.Context) (p parsed, present bool, err error)
}

// software reads every package manager present, concurrently.
func (c *Collector) software(ctx context.Context) *inv.Software {
	sources := []packageSource{
		{inv.SourceDpkg, c.dpkg}, {inv.SourceRPM, c.rpm}, {inv.SourceAPK, c.apk},
		{inv.SourceFlatpak, c.flatpak}, {inv.SourceSnap, c.snap},
	}
	type result struct {
		p       parsed
		present bool
		err     error
	}
	results := make([]result, len(sources))
	var wg sync.WaitGroup
	for i, src := range sources {
		wg.Go(func() {
			p, present, err := src.read(ctx)
			results[i] = result{p, present, err}
		})
	}
	wg.Wait()
	s := &inv.Software{Status: inv.Known("package managers"), Sources: []inv.SourceStatus{}, Packages: []inv.Package{}}
	for i, r := range results {
		switch {
		case !r.present:
			continue
		case r.err != nil:
			s.Sources = append(s.Sources, inv.SourceStatus{Source: sources[i].source, Status: inv.Unknown(why(string(sources[i].source), r.err))})
		default:
			s.Sources = append(s.Sources, inv.SourceStatus{Source: sources[i].source, Status: r.p.status(string(sources[i].source))})
			s.Packages = append(s.Packages, r.p.Packages[:min(len(r.p.Packages), inv.MaxPackages-len(s.Packages))]...)
		}
	}
	if len(s.Sources) == 0 {
		s.Status = inv.Unknown("no known package manager found (dpkg, rpm, apk, flatpak, snap)")
	}
	return s
}

// dpkg reads /var/lib/dpkg/status. The install date is the modification time
// of the package's file list in /var/lib/dpkg/info, which dpkg rewrites on
// every install or upgrade: it is the date of the installed version.
func (c *Collector) dpkg(context.Context) (parsed, bool, error) {
	b, err := probe.ReadFile(c.fsys, "var/lib/dpkg/status", maxPackageDB)
	if errors.Is(err, fs.ErrNotExist) {
		return parsed{}, false, nil
	}
	if err != nil {
		return parsed{}, true, err
	}
	p := parseDpkgStatus(b)
	for i := range p.Packages {
		pkg := &p.Packages[i]
		for _, name := range []string{pkg.Name + ":" + pkg.Arch + ".list", pkg.Name + ".list"} {
			if fi, err := fs.Stat(c.fsys, "var/lib/dpkg/info/"+name); err == nil {
				pkg.InstallDate = fi.ModTime().UTC().Truncate(1e9)
				break
			}
		}
	}
	return p, true, nil
}

// rpm lists packages with rpm -qa when an RPM database exists.
func (c *Collector) rpm(ctx context.Context) (parsed, bool, error) {
	if !c.exists("var/lib/rpm") && !c.exists("usr/lib/sysimage/rpm") {
		return parsed{}, false, nil
	}
	out, err := probe.Run(ctx, maxPackageDB, "rpm", "-qa", "--queryformat", rpmQueryFormat)
	if err != nil {
		return parsed{}, !errors.Is(err, probe.ErrNotInstalled), err
	}
	return parseRPM(out), true, nil
}

// apk reads Alpine's installed database.
func (c *Collector) apk(context.Context) (parsed, bool, error) {
	b, err := probe.ReadFile(c.fsys, "lib/apk/db/installed", maxPackageDB)
	if errors.Is(err, fs.ErrNotExist) {
		return parsed{}, false, nil
	}
	if err != nil {
		return parsed{}, true, err
	}
	return parseAPKInstalled(b), true, nil
}

// flatpak lists installed applications and runtimes (system and user).
func (c *Collector) flatpak(ctx context.Context) (parsed, bool, error) {
	if !probe.Installed("flatpak") {
		return parsed{}, false, nil
	}
	out, err := probe.Run(ctx, 16<<20, "flatpak", "list", "--columns="+flatpakColumns)
	if err != nil {
		return parsed{}, true, err
	}
	return parseFlatpakList(out), true, nil
}

// snap lists installed snaps (snapd must be running).
func (c *Collector) snap(ctx context.Context) (parsed, bool, error) {
	if !probe.Installed("snap") {
		return parsed{}, false, nil
	}
	out, err := probe.Run(ctx, 16<<20, "snap", "list", "--unicode=never", "--color=never")
	if err != nil {
		return parsed{}, true, err
	}
	return parseSnapList(out), true, nil
}

func (c *Collector) exists(name string) bool {
	_, err := fs.Stat(c.fsys, name)
	return err == nil
}

// Services returns the systemd services, loaded or not, with their state
// and unit-file (startup) state.
func (c *Collector) Services(ctx context.Context) *inv.Services {
	if !c.exists("run/systemd/system") {
		return unknownServices("systemd is not the init system (no /run/systemd/system)")
	}
	s := &inv.Services{Status: inv.Known("systemctl"), Manager: "systemd"}
	out, err := probe.Run(ctx, 16<<20, "systemctl", "list-units", "--type=service", "--all", "--no-pager", "--output=json")
	if err == nil {
		s.Services, err = parseSystemdUnitsJSON(out)
	}
	if err != nil { // systemd before 246 has no JSON output
		out, perr := probe.Run(ctx, 16<<20, "systemctl", "list-units", "--type=service", "--all", "--no-pager", "--no-legend", "--plain")
		if perr != nil {
			return unknownServices(why("systemctl", perr))
		}
		s.Services = parseSystemdUnitsPlain(out)
	}
	out, err = probe.Run(ctx, 16<<20, "systemctl", "list-unit-files", "--type=service", "--no-pager", "--no-legend")
	if err != nil {
		s.Status.Reason = "startup state unknown: " + why("systemctl list-unit-files", err)
		return s
	}
	states := parseSystemdUnitFiles(out)
	for i := range s.Services {
		s.Services[i].Startup = startup(states, s.Services[i].Name)
	}
	return s
}

// firewall reports the first active firewall it finds: ufw (its config),
// firewalld, then the nftables or iptables ruleset (root is needed to read
// rulesets).
func (c *Collector) firewall(ctx context.Context) inv.Firewall {
	if b, err := probe.ReadFile(c.fsys, "etc/ufw/ufw.conf", 64<<10); err == nil && ufwEnabled(b) {
		return inv.Firewall{Status: inv.Known("/etc/ufw/ufw.conf"), Backend: "ufw", Enabled: true}
	}
	if out, err := probe.Run(ctx, 4096, "firewall-cmd", "--state"); err == nil && strings.TrimSpace(string(out)) == "running" {
		return inv.Firewall{Status: inv.Known("firewall-cmd"), Backend: "firewalld", Enabled: true}
	}
	var reasons []string
	out, err := probe.Run(ctx, 16<<20, "nft", "-j", "list", "ruleset")
	if err == nil {
		rules, filtering, perr := parseNftRuleset(out)
		if perr == nil {
			return inv.Firewall{Status: inv.Known("nft"), Backend: "nftables", Enabled: filtering, Rules: rules}
		}
		err = perr
	}
	if !errors.Is(err, probe.ErrNotInstalled) {
		reasons = append(reasons, why("nft", err))
	}
	out, err = probe.Run(ctx, 16<<20, "iptables", "-S")
	if err == nil {
		rules, filtering := parseIptablesS(out)
		return inv.Firewall{Status: inv.Known("iptables"), Backend: "iptables", Enabled: filtering, Rules: rules}
	}
	if !errors.Is(err, probe.ErrNotInstalled) {
		reasons = append(reasons, why("iptables", err))
	}
	if len(reasons) == 0 {
		reasons = append(reasons, "no firewall tool found (ufw, firewalld, nft, iptables)")
	}
	return inv.Firewall{Status: inv.Unknown(strings.Join(reasons, "; "))}
}

// Reboot reports whether the system waits for a reboot: Debian's flag file
// (with the packages that set it), dnf's needs-restarting, or a running
// kernel whose modules are gone because the kernel package was replaced.
func (c *Collector) Reboot(ctx context.Context) inv.Reboot {
	r := inv.Reboot{Status: inv.Known("reboot-required flag, kernel modules"), Reasons: []string{}}
	if c.exists("var/run/reboot-required") || c.exists("run/reboot-required") {
		r.Required = true
		r.Reasons = append(r.Reasons, "/var/run/reboot-required exists")
		b, err := probe.ReadFile(c.fsys, "var/run/reboot-required.pkgs", 1<<20)
		if errors.Is(err, fs.ErrNotExist) {
			b, err = probe.ReadFile(c.fsys, "run/reboot-required.pkgs", 1<<20)
		}
		if err == nil {
			for _, p := range rebootPackages(b) {
				r.Reasons = append(r.Reasons, "requested by "+p)
			}
		}
	}
	_, err := probe.Run(ctx, 64<<10, "needs-restarting", "-r")
	var exit *probe.ExitError
	if errors.As(err, &exit) && exit.Code == 1 {
		r.Required = true
		r.Reasons = append(r.Reasons, "needs-restarting -r: core libraries or services were updated")
	}
	if running, err := probe.ReadString(c.fsys, "proc/sys/kernel/osrelease"); err == nil {
		entries, _ := fs.ReadDir(c.fsys, "lib/modules")
		installed := make([]string, 0, len(entries))
		for _, e := range entries {
			installed = append(installed, e.Name())
		}
		if kernelGone(running, installed) {
			sort.Strings(installed)
			r.Required = true
			r.Reasons = append(r.Reasons, clip(fmt.Sprintf("running kernel %s is no longer installed (installed: %s)",
				running, strings.Join(installed, ", ")), inv.MaxLong))
		}
	}
	r.Reasons = r.Reasons[:min(len(r.Reasons), inv.MaxReasons)]
	return r
}

// updatesKey fingerprints the installed packages and the package indexes:
// the modification times and sizes of the databases apt, dnf and apk use.
func (c *Collector) updatesKey() string {
	var b strings.Builder
	for _, p := range []string{"var/lib/dpkg/status", "var/lib/apt/lists", "var/lib/rpm", "usr/lib/sysimage/rpm",
		"var/cache/dnf", "lib/apk/db/installed", "var/cache/apk"} {
		if fi, err := fs.Stat(c.fsys, p); err == nil {
			fmt.Fprintf(&b, "%s:%d:%d;", p, fi.ModTime().UnixNano(), fi.Size())
		}
	}
	return b.String()
}

// checkUpdates asks the package manager what it would upgrade, without
// changing anything and without network access: apt and apk simulate from
// their downloaded indexes, dnf runs from its cache only (-C).
func (c *Collector) checkUpdates(ctx context.Context) inv.Updates {
	switch {
	case probe.Installed("apt-get") && c.exists("var/lib/dpkg/status"):
		out, err := probe.Run(ctx, 16<<20, "apt-get", "-s", "-o", "Debug::NoLocking=true", "dist-upgrade")
		if err != nil {
			return inv.Updates{Status: inv.Unknown(why("apt-get -s dist-upgrade", err))}
		}
		return parseAptSimulate(out)
	case probe.Installed("dnf"):
		out, err := probe.Run(ctx, 16<<20, "dnf", "-q", "-C", "check-update")
		var exit *probe.ExitError
		if err != nil && !(errors.As(err, &exit) && exit.Code == 100) { // 100: updates available
			return inv.Updates{Status: inv.Unknown(why("dnf check-update", err))}
		}
		return parseDnfCheckUpdate(out)
	case probe.Installed("apk"):
		out, err := probe.Run(ctx, 16<<20, "apk", "version", "-l", "<")
		if err != nil {
			return inv.Updates{Status: inv.Unknown(why("apk version", err))}
		}
		return parseApkVersion(out)
	}
	return inv.Updates{Status: inv.Unknown("no supported package manager (apt, dnf, apk)")}
}
