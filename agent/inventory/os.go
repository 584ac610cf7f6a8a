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

// os collects the OS section: gopsutil for kernel, architecture, boot time
// and virtualization; the platform for name, version and domain. (gopsutil's
// host.Info is not used: on Linux it runs lsb_release, 60 ms, for what
// os-release says.)
func (c *Collector) os(ctx context.Context) *inv.OS {
	o := &inv.OS{Status: inv.Known("gopsutil"), Family: runtime.GOOS}
	hostname, err := os.Hostname()
	if err != nil {
		return unknownOS(why("hostname", err))
	}
	o.Hostname = clean(hostname, inv.MaxName)
	if k, err := host.KernelVersionWithContext(ctx); err == nil {
		o.Kernel = clean(k, inv.MaxShort)
	}
	if a, err := host.KernelArch(); err == nil {
		o.Arch = clean(a, inv.MaxShort)
	}
	if boot, err := host.BootTimeWithContext(ctx); err == nil && boot > 0 {
		o.BootTime = time.Unix(int64(boot), 0).UTC()
	}
	if system, role, err := host.VirtualizationWithContext(ctx); err == nil && role == "guest" {
		o.Virtualization = clean(system, inv.MaxShort)
	}
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
