package inventory

import (
	"runtime"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// Constructors for sections whose collector could not run at all. Every part
// of a section with its own status gets the same reason, so that the result
// validates and says, everywhere, why it is empty.

func unknownOS(reason string) *inv.OS {
	return &inv.OS{Status: inv.Unknown(reason), Family: runtime.GOOS}
}

func unknownHardware(reason string) *inv.Hardware { return &inv.Hardware{Status: inv.Unknown(reason)} }

func unknownCPU(reason string) *inv.CPU { return &inv.CPU{Status: inv.Unknown(reason)} }

func unknownMemory(reason string) *inv.Memory {
	st := inv.Unknown(reason)
	return &inv.Memory{Status: st, Slots: inv.Slots{Status: st}}
}

func unknownDisks(reason string) *inv.Disks { return &inv.Disks{Status: inv.Unknown(reason)} }

func unknownFilesystems(reason string) *inv.Filesystems {
	return &inv.Filesystems{Status: inv.Unknown(reason)}
}

func unknownNetwork(reason string) *inv.Network {
	st := inv.Unknown(reason)
	return &inv.Network{Status: st, Routes: inv.Routes{Status: st}, DNS: inv.DNS{Status: st}}
}

func unknownDisplays(reason string) *inv.Displays { return &inv.Displays{Status: inv.Unknown(reason)} }

func unknownGPUs(reason string) *inv.GPUs { return &inv.GPUs{Status: inv.Unknown(reason)} }

func unknownBatteries(reason string) *inv.Batteries {
	return &inv.Batteries{Status: inv.Unknown(reason)}
}

func unknownUsers(reason string) *inv.Users {
	st := inv.Unknown(reason)
	return &inv.Users{Status: st, Sessions: inv.Sessions{Status: st}, Accounts: inv.Accounts{Status: st}}
}

func unknownSoftware(reason string) *inv.Software { return &inv.Software{Status: inv.Unknown(reason)} }

func unknownServices(reason string) *inv.Services { return &inv.Services{Status: inv.Unknown(reason)} }

func unknownSecurity(reason string) *inv.Security {
	st := inv.Unknown(reason)
	return &inv.Security{Status: st, Firewall: inv.Firewall{Status: st},
		Updates: inv.Updates{Status: st}, Reboot: inv.Reboot{Status: st}}
}
