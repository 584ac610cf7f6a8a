//go:build darwin

package inventory

import (
	"context"
	"errors"

	"github.com/reachdesk/reach/agent/inventory/probe"
	inv "github.com/reachdesk/reach/proto/inventory"
)

func (c *Collector) platformOS(ctx context.Context, o *inv.OS) {
	out, err := probe.Run(ctx, 64<<10, "sw_vers")
	if err != nil {
		o.Status.Reason = why("sw_vers", err)
		return
	}
	applySwVers(o, parseSwVers(out))
	o.Status.Source = "gopsutil, sw_vers"
}

func (c *Collector) hardware(ctx context.Context) *inv.Hardware {
	out, err := probe.Run(ctx, 1<<20, "system_profiler", "-json", "SPHardwareDataType")
	if err != nil {
		return unknownHardware(why("system_profiler", err))
	}
	h, err := parseSPHardware(out)
	if err != nil {
		return unknownHardware(why("system_profiler", err))
	}
	h.Status = inv.Known("system_profiler")
	return &h
}

func (c *Collector) memorySlots(context.Context) inv.Slots {
	return inv.Slots{Status: inv.Unknown(notSupported)}
}

func (c *Collector) disks(context.Context) *inv.Disks { return unknownDisks(notSupported) }

func (c *Collector) linkDetails(*inv.Interface) {}

func (c *Collector) routes(ctx context.Context) inv.Routes {
	out, err := probe.Run(ctx, 64<<10, "route", "-n", "get", "default")
	if err != nil {
		return inv.Routes{Status: inv.Unknown(why("route", err))}
	}
	return inv.Routes{Status: inv.Known("route"), Gateways: parseRouteGet(out)}
}

// displaysAndGPUs reads both from one system_profiler call.
func (c *Collector) displaysAndGPUs(ctx context.Context) ([]inv.Display, []inv.GPU, error) {
	out, err := probe.Run(ctx, 4<<20, "system_profiler", "-json", "SPDisplaysDataType")
	if err != nil {
		return nil, nil, err
	}
	return parseSPDisplays(out)
}

func (c *Collector) displays(ctx context.Context) *inv.Displays {
	d, _, err := c.displaysAndGPUs(ctx)
	if err != nil {
		return unknownDisplays(why("system_profiler", err))
	}
	return &inv.Displays{Status: inv.Known("system_profiler"), Displays: d}
}

func (c *Collector) gpus(ctx context.Context) *inv.GPUs {
	_, g, err := c.displaysAndGPUs(ctx)
	if err != nil {
		return unknownGPUs(why("system_profiler", err))
	}
	return &inv.GPUs{Status: inv.Known("system_profiler"), GPUs: g}
}

func (c *Collector) batteries(context.Context) *inv.Batteries { return unknownBatteries(notSupported) }

func (c *Collector) accounts(ctx context.Context) inv.Accounts {
	out, err := probe.Run(ctx, 4<<20, "dscl", ".", "-list", "/Users", "UniqueID")
	if err != nil {
		return inv.Accounts{Status: inv.Unknown(why("dscl", err))}
	}
	return inv.Accounts{Status: inv.Known("dscl"), Accounts: parseDsclUsers(out)}
}

// software lists applications with system_profiler, which takes seconds.
func (c *Collector) software(ctx context.Context) *inv.Software {
	out, err := probe.Run(ctx, 64<<20, "system_profiler", "-json", "-detailLevel", "mini", "SPApplicationsDataType")
	if err == nil {
		var p parsed
		if p, err = parseSPApplications(out); err == nil {
			return &inv.Software{Status: inv.Known("system_profiler"), Packages: p.Packages,
				Sources: []inv.SourceStatus{{Source: inv.SourceMacOS, Status: p.status("system_profiler")}}}
		}
	}
	s := unknownSoftware(why("system_profiler", err))
	s.Sources = []inv.SourceStatus{{Source: inv.SourceMacOS, Status: s.Status}}
	return s
}

func (c *Collector) Services(ctx context.Context) *inv.Services {
	out, err := probe.Run(ctx, 4<<20, "launchctl", "list")
	if err != nil {
		return unknownServices(why("launchctl", err))
	}
	return &inv.Services{Status: inv.Known("launchctl"), Manager: "launchd", Services: parseLaunchctlList(out)}
}

func (c *Collector) firewall(ctx context.Context) inv.Firewall {
	out, err := probe.Run(ctx, 4096, "/usr/libexec/ApplicationFirewall/socketfilterfw", "--getglobalstate")
	if err != nil {
		return inv.Firewall{Status: inv.Unknown(why("socketfilterfw", err))}
	}
	enabled, ok := socketFilterEnabled(out)
	if !ok {
		return inv.Firewall{Status: inv.Unknown(why("socketfilterfw", errors.New("unexpected output")))}
	}
	return inv.Firewall{Status: inv.Known("socketfilterfw"), Backend: "macos", Enabled: enabled}
}

func (c *Collector) Reboot(context.Context) inv.Reboot {
	return inv.Reboot{Status: inv.Unknown(notSupported)}
}

func (c *Collector) updatesKey() string { return "" }

func (c *Collector) checkUpdates(context.Context) inv.Updates {
	return inv.Updates{Status: inv.Unknown("softwareupdate -l needs the network: not implemented")}
}
