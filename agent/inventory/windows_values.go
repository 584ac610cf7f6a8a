package inventory

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// regValues holds a registry key's values as the Windows collectors read
// them: strings (REG_SZ, REG_EXPAND_SZ), []string (REG_MULTI_SZ) and uint64
// (REG_DWORD, REG_QWORD). These mappings are pure so that they are tested on
// every platform.
type regValues map[string]any

func (v regValues) str(name string) string {
	s, _ := v[name].(string)
	return s
}

func (v regValues) num(name string) (uint64, bool) {
	n, ok := v[name].(uint64)
	return n, ok
}

func (v regValues) strs(name string) []string {
	switch x := v[name].(type) {
	case []string:
		return x
	case string: // some drivers store lists as one comma- or space-separated string
		return strings.FieldsFunc(x, func(r rune) bool { return r == ',' || r == ' ' })
	}
	return nil
}

// packageFromUninstall maps an Uninstall registry key. It returns false for
// entries Programs and Features hides: no display name, system components,
// and updates attached to a parent product.
func packageFromUninstall(v regValues, arch string) (inv.Package, bool) {
	name := clean(v.str("DisplayName"), inv.MaxName)
	if name == "" || v.str("ParentKeyName") != "" {
		return inv.Package{}, false
	}
	if n, _ := v.num("SystemComponent"); n == 1 {
		return inv.Package{}, false
	}
	if rt := v.str("ReleaseType"); rt == "Update" || rt == "Hotfix" || rt == "Security Update" {
		return inv.Package{}, false
	}
	p := inv.Package{Source: inv.SourceWindows, Name: name, Version: clean(v.str("DisplayVersion"), inv.MaxShort),
		Arch: arch, Publisher: clean(v.str("Publisher"), inv.MaxName)}
	if t, err := time.Parse("20060102", strings.TrimSpace(v.str("InstallDate"))); err == nil {
		p.InstallDate = t
	}
	if kb, ok := v.num("EstimatedSize"); ok && kb < 1<<40 {
		p.SizeBytes = kb << 10
	}
	return p, true
}

// hardwareFromBIOSKey maps HKLM\HARDWARE\DESCRIPTION\System\BIOS, which
// Windows fills from SMBIOS at boot (serial numbers are not in it).
func hardwareFromBIOSKey(v regValues) inv.Hardware {
	return inv.Hardware{
		System: inv.System{Manufacturer: dmiValue(v.str("SystemManufacturer"), inv.MaxName),
			Model: dmiValue(v.str("SystemProductName"), inv.MaxName), Version: dmiValue(v.str("SystemVersion"), inv.MaxShort),
			SKU: dmiValue(v.str("SystemSKU"), inv.MaxShort), Family: dmiValue(v.str("SystemFamily"), inv.MaxName)},
		BIOS: inv.BIOS{Vendor: dmiValue(v.str("BIOSVendor"), inv.MaxName), Version: dmiValue(v.str("BIOSVersion"), inv.MaxShort),
			Date: biosDate(v.str("BIOSReleaseDate"))},
		Board: inv.Board{Manufacturer: dmiValue(v.str("BaseBoardManufacturer"), inv.MaxName),
			Model: dmiValue(v.str("BaseBoardProduct"), inv.MaxName), Version: dmiValue(v.str("BaseBoardVersion"), inv.MaxShort)},
	}
}

// windowsVersion maps HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion.
// Windows 11 still calls itself "Windows 10" in ProductName; build 22000
// and later is Windows 11.
func windowsVersion(o *inv.OS, v regValues) {
	name := v.str("ProductName")
	build := v.str("CurrentBuildNumber")
	if build == "" {
		build = v.str("CurrentBuild")
	}
	if n := atoiBounded(build); n >= 22000 {
		name = strings.Replace(name, "Windows 10", "Windows 11", 1)
	}
	o.Name = clean(name, inv.MaxName)
	o.Version = clean(v.str("DisplayVersion"), inv.MaxShort)
	if o.Version == "" {
		o.Version = clean(v.str("ReleaseId"), inv.MaxShort)
	}
	major, okMajor := v.num("CurrentMajorVersionNumber")
	minor, _ := v.num("CurrentMinorVersionNumber")
	ubr, okUBR := v.num("UBR")
	if okMajor && build != "" {
		o.VersionID = fmt.Sprintf("%d.%d.%s", major, minor, build)
		if okUBR {
			o.VersionID += fmt.Sprintf(".%d", ubr)
		}
		o.VersionID = clean(o.VersionID, inv.MaxShort)
	}
	o.PrettyName = strings.TrimSpace(o.Name + " " + o.Version)
	o.ID = "windows"
}

// gpuFromClassKey maps a display adapter's driver key under
// HKLM\SYSTEM\CurrentControlSet\Control\Class\{4d36e968-…}: the driver's
// description and provider, and the PCI IDs from MatchingDeviceId
// ("pci\ven_8086&dev_a7a1&…").
func gpuFromClassKey(v regValues) (inv.GPU, bool) {
	desc := clean(v.str("DriverDesc"), inv.MaxName)
	if desc == "" {
		return inv.GPU{}, false
	}
	g := inv.GPU{Model: desc, Vendor: clean(v.str("ProviderName"), inv.MaxName), Driver: clean(v.str("DriverVersion"), inv.MaxShort)}
	id := strings.ToLower(v.str("MatchingDeviceId"))
	if _, rest, ok := strings.Cut(id, "ven_"); ok && len(rest) >= 4 {
		g.VendorID = rest[:4]
	}
	if _, rest, ok := strings.Cut(id, "dev_"); ok && len(rest) >= 4 {
		g.DeviceID = rest[:4]
	}
	return g, true
}

// windowsResolvers collects the gateways and DNS servers from the per-interface
// keys under HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters\Interfaces:
// static values first, then those DHCP supplied.
func windowsResolvers(ifaces []regValues) (gateways []inv.Gateway, servers []string) {
	gateways, servers = []inv.Gateway{}, []string{}
	seen := map[string]bool{}
	for _, v := range ifaces {
		for _, key := range []string{"DefaultGateway", "DhcpDefaultGateway"} {
			for _, s := range v.strs(key) {
				if a, err := netip.ParseAddr(strings.TrimSpace(s)); err == nil && !seen["gw"+a.String()] && len(gateways) < inv.MaxResolvers {
					seen["gw"+a.String()] = true
					gateways = append(gateways, inv.Gateway{Address: a.String()})
				}
			}
		}
		for _, key := range []string{"NameServer", "DhcpNameServer"} {
			for _, s := range v.strs(key) {
				if a, err := netip.ParseAddr(strings.TrimSpace(s)); err == nil && !seen["ns"+a.String()] && len(servers) < inv.MaxResolvers {
					seen["ns"+a.String()] = true
					servers = append(servers, a.String())
				}
			}
		}
	}
	return gateways, servers
}

// windowsStartType names a service start type (SERVICE_*_START).
func windowsStartType(t uint32) string {
	switch t {
	case 0:
		return "boot"
	case 1:
		return "system"
	case 2:
		return "auto"
	case 3:
		return "manual"
	case 4:
		return "disabled"
	}
	return ""
}

// windowsServiceState names a service state (SERVICE_STOPPED … SERVICE_PAUSED).
func windowsServiceState(s uint32) string {
	states := []string{1: "stopped", 2: "start pending", 3: "stop pending", 4: "running",
		5: "continue pending", 6: "pause pending", 7: "paused"}
	if int(s) < len(states) && states[s] != "" {
		return states[s]
	}
	return "unknown"
}

// windowsAccountSID reports whether a ProfileList SID is a person's account
// rather than LocalSystem, LocalService or NetworkService.
func windowsAccountSID(sid string) bool {
	return strings.HasPrefix(sid, "S-1-5-21-") || strings.HasPrefix(sid, "S-1-12-1-") // local/domain, Entra ID
}
