package inventory

import (
	"context"
	"io/fs"
	"os"
	"path"
	"runtime"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v3/host"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// os collects the OS section: gopsutil for kernel, architecture, hostname,
// boot time and virtualization; the platform for name, version and domain.
func (c *Collector) os(ctx context.Context) *inv.OS {
	o := &inv.OS{Status: inv.Known("gopsutil"), Family: runtime.GOOS}
	info, err := host.InfoWithContext(ctx)
	if err != nil || info == nil {
		o.Status = inv.Unknown(why("gopsutil host", err))
		return o
	}
	o.Hostname = clean(info.Hostname, inv.MaxName)
	o.Kernel = clean(info.KernelVersion, inv.MaxShort)
	o.Arch = clean(info.KernelArch, inv.MaxShort)
	if info.BootTime > 0 {
		o.BootTime = time.Unix(int64(info.BootTime), 0).UTC()
	}
	if info.VirtualizationRole == "guest" {
		o.Virtualization = clean(info.VirtualizationSystem, inv.MaxShort)
	}
	// Defaults from gopsutil; the platform refines them.
	o.Name = clean(info.Platform, inv.MaxName)
	o.Version = clean(info.PlatformVersion, inv.MaxShort)
	name, offset := c.now().Zone()
	o.Timezone = inv.Timezone{Name: c.timezoneName(), Abbrev: clean(name, inv.MaxShort), Offset: offset}
	c.platformOS(ctx, o)
	return o
}

// timezoneName returns the IANA name of the system time zone: $TZ when it
// names one, else the zoneinfo path /etc/localtime links to, else
// /etc/timezone (Debian); "" when none says.
func (c *Collector) timezoneName() string {
	if tz := strings.TrimPrefix(os.Getenv("TZ"), ":"); tz != "" && !strings.HasPrefix(tz, "/") {
		return clean(tz, inv.MaxShort)
	}
	if target, err := fs.ReadLink(c.fsys, "etc/localtime"); err == nil {
		if _, name, ok := strings.Cut(path.Clean(target), "zoneinfo/"); ok {
			return clean(name, inv.MaxShort)
		}
	}
	if b, err := fs.ReadFile(c.fsys, "etc/timezone"); err == nil && len(b) < 256 {
		return clean(string(b), inv.MaxShort)
	}
	return ""
}
