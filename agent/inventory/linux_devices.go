//go:build linux

package inventory

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/reachdesk/reach/agent/inventory/probe"
	inv "github.com/reachdesk/reach/proto/inventory"
)

// maxSMARTDisks bounds the smartctl runs per collection.
const maxSMARTDisks = 16

// disks lists whole disks with lsblk, or from /sys/block without it, and
// asks smartctl for each one's health.
func (c *Collector) disks(ctx context.Context) *inv.Disks {
	d := &inv.Disks{Status: inv.Known("lsblk")}
	out, err := probe.Run(ctx, 4<<20, "lsblk", "-J", "-b", "-d", "-o", lsblkColumns)
	if err == nil {
		d.Disks, err = parseLSBLK(out)
	}
	if err != nil {
		disks, serr := c.disksSysfs()
		if serr != nil {
			return unknownDisks(why("lsblk", err) + "; " + why("/sys/block", serr))
		}
		d.Disks, d.Status = disks, inv.Status{OK: true, Source: "sysfs", Reason: why("lsblk", err)}
	}
	c.smart(ctx, d.Disks)
	return d
}

// disksSysfs lists whole disks from /sys/block, leaving out loop, RAM,
// device-mapper, md, optical and floppy devices.
func (c *Collector) disksSysfs() ([]inv.Disk, error) {
	entries, err := fs.ReadDir(c.fsys, "sys/block")
	if err != nil {
		return nil, err
	}
	disks := []inv.Disk{}
	for _, e := range entries {
		name := e.Name()
		if hasAnyPrefix(name, "loop", "ram", "zram", "dm-", "md", "sr", "fd") || len(disks) == inv.MaxDisks {
			continue
		}
		dir := "sys/block/" + name
		read := func(f string) string { s, _ := probe.ReadString(c.fsys, dir+"/"+f); return s }
		sectors, _ := strconv.ParseUint(read("size"), 10, 64)
		fw := read("device/firmware_rev")
		if fw == "" {
			fw = read("device/rev")
		}
		disks = append(disks, inv.Disk{Name: clean(name, inv.MaxShort), Model: clean(read("device/model"), inv.MaxName),
			Vendor: clean(read("device/vendor"), inv.MaxName), Serial: clean(read("device/serial"), inv.MaxShort),
			Firmware: clean(fw, inv.MaxShort), WWN: clean(read("device/wwid"), inv.MaxShort), SizeBytes: sectors * 512,
			Media: media(read("queue/rotational")), Removable: read("removable") == "1"})
	}
	return disks, nil
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// smart fills each disk's SMART health from smartctl, when installed.
func (c *Collector) smart(ctx context.Context, disks []inv.Disk) {
	installed := probe.Installed("smartctl")
	for i := range disks {
		switch {
		case !installed:
			disks[i].SMART.Status = inv.Unknown("smartctl not installed")
			continue
		case i >= maxSMARTDisks:
			disks[i].SMART.Status = inv.Unknown(fmt.Sprintf("not queried: only the first %d disks are", maxSMARTDisks))
			continue
		}
		// smartctl reports through its exit status bits; its JSON says more.
		out, err := probe.Run(ctx, 1<<20, "smartctl", "-j", "-H", "-A", "/dev/"+disks[i].Name)
		var exit *probe.ExitError
		if err != nil && !errors.As(err, &exit) {
			disks[i].SMART.Status = inv.Unknown(why("smartctl", err))
			continue
		}
		disks[i].SMART = parseSmartctl(out)
	}
}

// linkDetails adds what sysfs knows about an interface: kind, operational
// state, link speed and driver.
func (c *Collector) linkDetails(i *inv.Interface) {
	if i.Name == "" || strings.ContainsAny(i.Name, "/\x00") || i.Name == "." || i.Name == ".." {
		return
	}
	dir := "sys/class/net/" + i.Name
	if s, err := probe.ReadString(c.fsys, dir+"/operstate"); err == nil {
		i.State = clean(s, inv.MaxShort)
	}
	if s, err := probe.ReadString(c.fsys, dir+"/speed"); err == nil {
		if n := atoiBounded(s); n > 0 {
			i.SpeedMbps = n
		}
	}
	if target, err := fs.ReadLink(c.fsys, dir+"/device/driver"); err == nil {
		i.Driver = clean(path.Base(target), inv.MaxShort)
	}
	exists := func(f string) bool { _, err := fs.Stat(c.fsys, dir+"/"+f); return err == nil }
	switch {
	case i.Kind != "":
	case exists("wireless") || exists("phy80211"):
		i.Kind = inv.KindWiFi
	case exists("bridge"):
		i.Kind = inv.KindBridge
	case !exists("device"):
		i.Kind = inv.KindVirtual
	default:
		if t, _ := probe.ReadString(c.fsys, dir+"/type"); t == "1" { // ARPHRD_ETHER
			i.Kind = inv.KindEthernet
		}
	}
}

// routes reads the default gateways from /proc/net/route and ipv6_route.
func (c *Collector) routes(context.Context) inv.Routes {
	b, err := probe.ReadFile(c.fsys, "proc/net/route", 4<<20)
	if err != nil {
		return inv.Routes{Status: inv.Unknown(why("/proc/net/route", err))}
	}
	gws := parseProcRoute(b)
	if b6, err := probe.ReadFile(c.fsys, "proc/net/ipv6_route", 16<<20); err == nil {
		gws = append(gws, parseProcIPv6Route(b6)...)
	}
	return inv.Routes{Status: inv.Known("procfs"), Gateways: gws[:min(len(gws), inv.MaxResolvers)]}
}

// displays lists the active outputs with xrandr when an X display is
// reachable (positions included), else the connected DRM connectors with
// their preferred mode and EDID (no positions: that needs the X server).
func (c *Collector) displays(ctx context.Context) *inv.Displays {
	var reasons []string
	if os.Getenv("DISPLAY") == "" {
		reasons = append(reasons, "no X display (DISPLAY unset)")
	} else {
		out, err := probe.Run(ctx, 1<<20, "xrandr", "--query")
		if err == nil {
			if d := parseXrandr(out); len(d) > 0 {
				return &inv.Displays{Status: inv.Known("xrandr"), Displays: d}
			}
			err = errors.New("no active outputs")
		}
		reasons = append(reasons, why("xrandr", err))
	}
	d, err := c.drmDisplays()
	if err != nil {
		return unknownDisplays(strings.Join(append(reasons, why("/sys/class/drm", err)), "; "))
	}
	return &inv.Displays{Status: inv.Known("drm"), Displays: d}
}

func (c *Collector) drmDisplays() ([]inv.Display, error) {
	entries, err := fs.ReadDir(c.fsys, "sys/class/drm")
	if err != nil {
		return nil, err
	}
	displays := []inv.Display{}
	for _, e := range entries {
		card, connector, ok := strings.Cut(e.Name(), "-") // "card0-HDMI-A-1"
		if !ok || !strings.HasPrefix(card, "card") || len(displays) == inv.MaxDisplays {
			continue
		}
		dir := "sys/class/drm/" + e.Name()
		if s, _ := probe.ReadString(c.fsys, dir+"/status"); s != "connected" {
			continue
		}
		d := inv.Display{Name: clean(connector, inv.MaxShort)}
		if modes, err := probe.ReadString(c.fsys, dir+"/modes"); err == nil {
			d.Width, d.Height = drmMode(modes)
		}
		if b, err := probe.ReadFile(c.fsys, dir+"/edid", 32<<10); err == nil {
			if e, err := parseEDID(b); err == nil {
				d.Model, d.Manufacturer, d.WidthMM, d.HeightMM = e.Model, e.Manufacturer, e.WidthMM, e.HeightMM
			}
		}
		displays = append(displays, d)
	}
	return displays, nil
}

// pciIDs are where distributions install the PCI ID database.
var pciIDs = []string{"usr/share/misc/pci.ids", "usr/share/hwdata/pci.ids", "usr/share/pci.ids"}

// gpus lists the PCI display controllers (class 0x03) from sysfs, named
// from the PCI ID database when one is installed.
func (c *Collector) gpus(context.Context) *inv.GPUs {
	entries, err := fs.ReadDir(c.fsys, "sys/bus/pci/devices")
	if err != nil {
		return unknownGPUs(why("/sys/bus/pci", err))
	}
	g := &inv.GPUs{Status: inv.Known("sysfs"), GPUs: []inv.GPU{}}
	want := map[pciKey]bool{}
	for _, e := range entries {
		dir := "sys/bus/pci/devices/" + e.Name()
		if class, _ := probe.ReadString(c.fsys, dir+"/class"); !strings.HasPrefix(class, "0x03") || len(g.GPUs) == inv.MaxGPUs {
			continue
		}
		hexID := func(f string) string {
			s, _ := probe.ReadString(c.fsys, dir+"/"+f)
			return strings.ToLower(clean(strings.TrimPrefix(s, "0x"), inv.MaxShort))
		}
		gpu := inv.GPU{VendorID: hexID("vendor"), DeviceID: hexID("device"), Slot: clean(e.Name(), inv.MaxShort)}
		if target, err := fs.ReadLink(c.fsys, dir+"/driver"); err == nil {
			gpu.Driver = clean(path.Base(target), inv.MaxShort)
		}
		want[pciKey{gpu.VendorID, ""}], want[pciKey{gpu.VendorID, gpu.DeviceID}] = true, true
		g.GPUs = append(g.GPUs, gpu)
	}
	if len(g.GPUs) == 0 {
		return g
	}
	for _, db := range pciIDs {
		if b, err := probe.ReadFile(c.fsys, db, 16<<20); err == nil {
			names := lookupPCINames(b, want)
			for i := range g.GPUs {
				g.GPUs[i].Vendor = clean(names[pciKey{g.GPUs[i].VendorID, ""}], inv.MaxName)
				g.GPUs[i].Model = clean(names[pciKey{g.GPUs[i].VendorID, g.GPUs[i].DeviceID}], inv.MaxName)
			}
			return g
		}
	}
	g.Status.Reason = "no PCI ID database: names unknown"
	return g
}

// batteries reads the system batteries from /sys/class/power_supply. A
// system without that class has no batteries the kernel knows of.
func (c *Collector) batteries(context.Context) *inv.Batteries {
	b := &inv.Batteries{Status: inv.Known("sysfs"), Batteries: []inv.Battery{}}
	entries, err := fs.ReadDir(c.fsys, "sys/class/power_supply")
	if errors.Is(err, fs.ErrNotExist) {
		return b
	}
	if err != nil {
		return unknownBatteries(why("/sys/class/power_supply", err))
	}
	for _, e := range entries {
		u, err := probe.ReadFile(c.fsys, "sys/class/power_supply/"+e.Name()+"/uevent", 64<<10)
		if err != nil || len(b.Batteries) == inv.MaxBatteries {
			continue
		}
		if bat, ok := batteryFromUevent(e.Name(), parseUevent(u)); ok {
			b.Batteries = append(b.Batteries, bat)
		}
	}
	return b
}

// accounts reads root and the regular accounts from /etc/passwd.
func (c *Collector) accounts(context.Context) inv.Accounts {
	b, err := probe.ReadFile(c.fsys, "etc/passwd", 16<<20)
	if err != nil {
		return inv.Accounts{Status: inv.Unknown(why("/etc/passwd", err))}
	}
	return inv.Accounts{Status: inv.Known("/etc/passwd"), Accounts: parsePasswd(b)}
}
