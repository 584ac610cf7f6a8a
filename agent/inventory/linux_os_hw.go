//go:build linux

package inventory

import (
	"context"
	"errors"
	"io/fs"
	"strings"

	"github.com/reachdesk/reach/agent/inventory/probe"
	inv "github.com/reachdesk/reach/proto/inventory"
)

// platformOS refines the OS section from os-release(5) and resolv.conf.
func (c *Collector) platformOS(_ context.Context, o *inv.OS) {
	b, err := probe.ReadFile(c.fsys, "etc/os-release", 64<<10)
	if errors.Is(err, fs.ErrNotExist) {
		b, err = probe.ReadFile(c.fsys, "usr/lib/os-release", 64<<10)
	}
	if err != nil {
		o.Status.Reason = why("/etc/os-release", err)
	} else {
		applyOSRelease(o, parseOSRelease(b))
		o.Status.Source = "gopsutil, os-release"
	}
	if _, domain, ok := strings.Cut(o.Hostname, "."); ok {
		o.Domain = clean(domain, inv.MaxName)
	} else if b, err := probe.ReadFile(c.fsys, "etc/resolv.conf", 64<<10); err == nil {
		o.Domain = parseResolvConf(b).Domain
	}
}

// hardware reads SMBIOS data from /sys/class/dmi/id, or from dmidecode
// when sysfs lacks it, and the boot mode from /sys/firmware.
func (c *Collector) hardware(ctx context.Context) *inv.Hardware {
	h, err := c.hardwareSysfs()
	if err != nil {
		out, derr := probe.Run(ctx, 1<<20, "dmidecode", "-t", "0,1,2,3")
		if derr != nil {
			return unknownHardware(why("/sys/class/dmi/id", err) + "; " + why("dmidecode", derr))
		}
		hw := hardwareFromDMIDecode(parseDMIDecode(out))
		hw.Status = inv.Known("dmidecode")
		h = &hw
	}
	h.BIOS.Firmware, h.BIOS.SecureBoot = c.firmwareMode()
	return h
}

func (c *Collector) hardwareSysfs() (*inv.Hardware, error) {
	if _, err := fs.Stat(c.fsys, "sys/class/dmi/id"); err != nil {
		return nil, err
	}
	vals := map[string]string{}
	var denied []string
	for _, f := range sysfsDMIFields {
		v, err := probe.ReadString(c.fsys, "sys/class/dmi/id/"+f)
		switch {
		case err == nil:
			vals[f] = v
		case errors.Is(err, fs.ErrPermission):
			denied = append(denied, f)
		}
	}
	h := hardwareFromSysfs(vals)
	h.Status = inv.Known("sysfs")
	if len(denied) > 0 {
		h.Status.Reason = "readable by root only: " + strings.Join(denied, ", ")
	}
	return &h, nil
}

// efiSecureBoot is the UEFI SecureBoot variable: 4 attribute bytes, then 1
// or 0.
const efiSecureBoot = "sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"

// firmwareMode tells UEFI from legacy BIOS boot by /sys/firmware/efi, and
// reads the Secure Boot state on UEFI. Legacy BIOS has no Secure Boot.
func (c *Collector) firmwareMode() (mode, secureBoot string) {
	if _, err := fs.Stat(c.fsys, "sys/firmware/efi"); err != nil {
		return inv.FirmwareBIOS, inv.SecureBootDisabled
	}
	b, err := probe.ReadFile(c.fsys, efiSecureBoot, 64)
	switch {
	case err != nil || len(b) != 5:
		return inv.FirmwareUEFI, ""
	case b[4] == 1:
		return inv.FirmwareUEFI, inv.SecureBootEnabled
	}
	return inv.FirmwareUEFI, inv.SecureBootDisabled
}

// memorySlots reads the memory devices (SMBIOS type 17) with dmidecode,
// which needs root.
func (c *Collector) memorySlots(ctx context.Context) inv.Slots {
	out, err := probe.Run(ctx, 1<<20, "dmidecode", "-t", "17")
	if err != nil {
		return inv.Slots{Status: inv.Unknown(why("dmidecode", err))}
	}
	s := slotsFromDMIDecode(parseDMIDecode(out))
	if s.Total == 0 {
		return inv.Slots{Status: inv.Unknown("dmidecode found no memory devices")}
	}
	return s
}
