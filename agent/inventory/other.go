//go:build !linux && !windows && !darwin

package inventory

import (
	"context"

	"github.com/shirou/gopsutil/v3/host"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// On other platforms only the gopsutil collectors run; the rest say so.

// platformOS takes the name and version from gopsutil.
func (c *Collector) platformOS(ctx context.Context, o *inv.OS) {
	if name, _, version, err := host.PlatformInformationWithContext(ctx); err == nil {
		o.Name, o.Version = clean(name, inv.MaxName), clean(version, inv.MaxShort)
	}
}

func (c *Collector) hardware(context.Context) *inv.Hardware { return unknownHardware(notSupported) }

func (c *Collector) memorySlots(context.Context) inv.Slots {
	return inv.Slots{Status: inv.Unknown(notSupported)}
}

func (c *Collector) disks(context.Context) *inv.Disks { return unknownDisks(notSupported) }

func (c *Collector) linkDetails(*inv.Interface) {}

func (c *Collector) routes(context.Context) inv.Routes {
	return inv.Routes{Status: inv.Unknown(notSupported)}
}

func (c *Collector) dns(context.Context) inv.DNS { return inv.DNS{Status: inv.Unknown(notSupported)} }

func (c *Collector) displays(context.Context) *inv.Displays { return unknownDisplays(notSupported) }

func (c *Collector) gpus(context.Context) *inv.GPUs { return unknownGPUs(notSupported) }

func (c *Collector) batteries(context.Context) *inv.Batteries { return unknownBatteries(notSupported) }

func (c *Collector) accounts(context.Context) inv.Accounts {
	return inv.Accounts{Status: inv.Unknown(notSupported)}
}

func (c *Collector) software(context.Context) *inv.Software { return unknownSoftware(notSupported) }

// Services is not supported on this platform.
func (c *Collector) Services(context.Context) *inv.Services { return unknownServices(notSupported) }

func (c *Collector) firewall(context.Context) inv.Firewall {
	return inv.Firewall{Status: inv.Unknown(notSupported)}
}

// Reboot is not supported on this platform.
func (c *Collector) Reboot(context.Context) inv.Reboot {
	return inv.Reboot{Status: inv.Unknown(notSupported)}
}

func (c *Collector) updatesKey() string { return "" }

func (c *Collector) checkUpdates(context.Context) inv.Updates {
	return inv.Updates{Status: inv.Unknown(notSupported)}
}
