//go:build windows

package inventory

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/kbinani/screenshot"
	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
	"golang.org/x/sys/windows/svc/mgr"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// Registry paths under HKEY_LOCAL_MACHINE.
const (
	regCurrentVersion = `SOFTWARE\Microsoft\Windows NT\CurrentVersion`
	regBIOS           = `HARDWARE\DESCRIPTION\System\BIOS`
	regUninstall      = `SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall`
	regUninstall32    = `SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall`
	regDisplayClass   = `SYSTEM\CurrentControlSet\Control\Class\{4d36e968-e325-11ce-bfc1-08002be10318}`
	regTcpip          = `SYSTEM\CurrentControlSet\Services\Tcpip\Parameters`
	regTimeZone       = `SYSTEM\CurrentControlSet\Control\TimeZoneInformation`
	regProfileList    = `SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList`
	regFirewall       = `SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy`
)

// readKey returns the values of HKLM\path (64-bit view).
func readKey(path string) (regValues, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, path, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if err != nil {
		return nil, fmt.Errorf(`HKLM\%s: %w`, path, err)
	}
	defer k.Close()
	names, err := k.ReadValueNames(0)
	if err != nil {
		return nil, fmt.Errorf(`HKLM\%s: %w`, path, err)
	}
	v := regValues{}
	for _, n := range names {
		if s, _, err := k.GetStringValue(n); err == nil {
			v[n] = s
		} else if ss, _, err := k.GetStringsValue(n); err == nil {
			v[n] = ss
		} else if i, _, err := k.GetIntegerValue(n); err == nil {
			v[n] = i
		}
	}
	return v, nil
}

// subKeys returns the names of HKLM\path's subkeys.
func subKeys(path string) ([]string, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, path, registry.ENUMERATE_SUB_KEYS|registry.WOW64_64KEY)
	if err != nil {
		return nil, fmt.Errorf(`HKLM\%s: %w`, path, err)
	}
	defer k.Close()
	return k.ReadSubKeyNames(0)
}

func (c *Collector) platformOS(_ context.Context, o *inv.OS) {
	if v, err := readKey(regCurrentVersion); err == nil {
		windowsVersion(o, v)
		o.Status.Source = "gopsutil, registry"
	} else {
		o.Status.Reason = why("registry", err)
	}
	if v, err := readKey(regTimeZone); err == nil && v.str("TimeZoneKeyName") != "" {
		o.Timezone.Name = clean(v.str("TimeZoneKeyName"), inv.MaxShort) // a Windows zone ID, not IANA
	}
	if v, err := readKey(regTcpip); err == nil {
		o.Domain = clean(v.str("Domain"), inv.MaxName)
	}
}

func (c *Collector) hardware(context.Context) *inv.Hardware {
	v, err := readKey(regBIOS)
	if err != nil {
		return unknownHardware(why("registry", err))
	}
	h := hardwareFromBIOSKey(v)
	h.Status = inv.Status{OK: true, Source: "registry", Reason: "serial numbers are not in the registry"}
	return &h
}

func (c *Collector) memorySlots(context.Context) inv.Slots {
	return inv.Slots{Status: inv.Unknown(notSupported)}
}

func (c *Collector) disks(context.Context) *inv.Disks { return unknownDisks(notSupported) }

func (c *Collector) linkDetails(i *inv.Interface) {
	if i.Kind == "" && strings.Contains(strings.ToLower(i.Name), "wi-fi") {
		i.Kind = inv.KindWiFi
	}
}

// interfaceKeys reads the per-interface TCP/IP keys.
func interfaceKeys() ([]regValues, error) {
	names, err := subKeys(regTcpip + `\Interfaces`)
	if err != nil {
		return nil, err
	}
	var out []regValues
	for _, n := range names {
		if v, err := readKey(regTcpip + `\Interfaces\` + n); err == nil {
			out = append(out, v)
		}
	}
	return out, nil
}

func (c *Collector) routes(context.Context) inv.Routes {
	ifaces, err := interfaceKeys()
	if err != nil {
		return inv.Routes{Status: inv.Unknown(why("registry", err))}
	}
	gws, _ := windowsResolvers(ifaces)
	return inv.Routes{Status: inv.Known("registry"), Gateways: gws}
}

func (c *Collector) dns(context.Context) inv.DNS {
	ifaces, err := interfaceKeys()
	if err != nil {
		return inv.DNS{Status: inv.Unknown(why("registry", err))}
	}
	_, servers := windowsResolvers(ifaces)
	search := []string{}
	if v, err := readKey(regTcpip); err == nil {
		for _, d := range v.strs("SearchList") {
			if len(search) < inv.MaxResolvers {
				search = append(search, clean(d, inv.MaxName))
			}
		}
	}
	return inv.DNS{Status: inv.Known("registry"), Servers: servers, Search: search}
}

// displays enumerates the active displays and their arrangement.
func (c *Collector) displays(context.Context) *inv.Displays {
	n := screenshot.NumActiveDisplays()
	d := &inv.Displays{Status: inv.Known("screenshot"), Displays: []inv.Display{}}
	for i := 0; i < n && i < inv.MaxDisplays; i++ {
		r := screenshot.GetDisplayBounds(i)
		d.Displays = append(d.Displays, inv.Display{Name: fmt.Sprintf(`\\.\DISPLAY%d`, i+1), Width: r.Dx(), Height: r.Dy(),
			X: r.Min.X, Y: r.Min.Y, Primary: r.Min.X == 0 && r.Min.Y == 0})
	}
	return d
}

func (c *Collector) gpus(context.Context) *inv.GPUs {
	names, err := subKeys(regDisplayClass)
	if err != nil {
		return unknownGPUs(why("registry", err))
	}
	g := &inv.GPUs{Status: inv.Known("registry"), GPUs: []inv.GPU{}}
	for _, n := range names {
		if v, err := readKey(regDisplayClass + `\` + n); err == nil && len(g.GPUs) < inv.MaxGPUs {
			if gpu, ok := gpuFromClassKey(v); ok {
				g.GPUs = append(g.GPUs, gpu)
			}
		}
	}
	return g
}

func (c *Collector) batteries(context.Context) *inv.Batteries { return unknownBatteries(notSupported) }

// accounts lists the accounts with a profile on this machine.
func (c *Collector) accounts(context.Context) inv.Accounts {
	sids, err := subKeys(regProfileList)
	if err != nil {
		return inv.Accounts{Status: inv.Unknown(why("registry", err))}
	}
	a := inv.Accounts{Status: inv.Known("registry profile list"), Accounts: []inv.Account{}}
	for _, sid := range sids {
		if !windowsAccountSID(sid) || len(a.Accounts) == inv.MaxAccounts {
			continue
		}
		v, err := readKey(regProfileList + `\` + sid)
		if err != nil {
			continue
		}
		home := v.str("ProfileImagePath")
		a.Accounts = append(a.Accounts, inv.Account{Name: clean(path.Base(strings.ReplaceAll(home, `\`, "/")), inv.MaxShort),
			ID: clean(sid, inv.MaxShort), Home: clean(home, inv.MaxLong)})
	}
	return a
}

// software reads the Uninstall keys of the 64-bit and 32-bit registry views.
func (c *Collector) software(context.Context) *inv.Software {
	s := &inv.Software{Status: inv.Known("registry"), Packages: []inv.Package{}}
	var failed []string
	for _, view := range []struct{ path, arch string }{{regUninstall, "x64"}, {regUninstall32, "x86"}} {
		names, err := subKeys(view.path)
		if err != nil {
			failed = append(failed, why("registry", err))
			continue
		}
		for _, n := range names {
			v, err := readKey(view.path + `\` + n)
			if err != nil || len(s.Packages) == inv.MaxPackages {
				continue
			}
			if p, ok := packageFromUninstall(v, view.arch); ok {
				s.Packages = append(s.Packages, p)
			}
		}
	}
	st := inv.Known("registry uninstall keys")
	if len(failed) == 2 {
		st = inv.Unknown(strings.Join(failed, "; "))
	}
	s.Sources = []inv.SourceStatus{{Source: inv.SourceWindows, Status: st}}
	return s
}

// Services lists the Win32 services with their state and start type. It
// asks only for query rights, so protected services are listed too.
func (c *Collector) Services(context.Context) *inv.Services {
	h, err := windows.OpenSCManager(nil, nil, windows.SC_MANAGER_CONNECT|windows.SC_MANAGER_ENUMERATE_SERVICE)
	if err != nil {
		return unknownServices(why("service manager", err))
	}
	m := &mgr.Mgr{Handle: h}
	defer m.Disconnect()
	names, err := m.ListServices()
	if err != nil {
		return unknownServices(why("service manager", err))
	}
	s := &inv.Services{Status: inv.Known("service manager"), Manager: "windows", Services: []inv.Service{}}
	for _, name := range names {
		if len(s.Services) == inv.MaxServices {
			break
		}
		p, err := windows.UTF16PtrFromString(name)
		if err != nil {
			continue
		}
		sh, err := windows.OpenService(h, p, windows.SERVICE_QUERY_STATUS|windows.SERVICE_QUERY_CONFIG)
		if err != nil {
			continue
		}
		svc := &mgr.Service{Name: name, Handle: sh}
		entry := inv.Service{Name: clean(name, inv.MaxName), State: "unknown"}
		if st, err := svc.Query(); err == nil {
			entry.State = windowsServiceState(uint32(st.State))
		}
		if cfg, err := svc.Config(); err == nil {
			entry.Description = clean(cfg.DisplayName, inv.MaxName)
			entry.Startup = windowsStartType(cfg.StartType)
		}
		svc.Close()
		s.Services = append(s.Services, entry)
	}
	return s
}

// firewall reads the Windows Firewall profiles; it counts as enabled when
// every profile is.
func (c *Collector) firewall(context.Context) inv.Firewall {
	f := inv.Firewall{Status: inv.Known("registry"), Backend: "windows", Enabled: true}
	var off []string
	for _, profile := range []string{"DomainProfile", "StandardProfile", "PublicProfile"} {
		v, err := readKey(regFirewall + `\` + profile)
		if err != nil {
			return inv.Firewall{Status: inv.Unknown(why("registry", err))}
		}
		if n, _ := v.num("EnableFirewall"); n == 0 {
			f.Enabled = false
			off = append(off, profile)
		}
	}
	if len(off) > 0 {
		f.Status.Reason = "disabled in " + strings.Join(off, ", ")
	}
	return f
}

// Reboot checks the registry flags Windows Update and component servicing
// set when they need a restart, and pending file renames.
func (c *Collector) Reboot(context.Context) inv.Reboot {
	r := inv.Reboot{Status: inv.Known("registry"), Reasons: []string{}}
	for _, k := range []struct{ path, reason string }{
		{`SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending`, "component servicing"},
		{`SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired`, "Windows Update"},
	} {
		key, err := registry.OpenKey(registry.LOCAL_MACHINE, k.path, registry.QUERY_VALUE|registry.WOW64_64KEY)
		if err == nil {
			key.Close()
			r.Required = true
			r.Reasons = append(r.Reasons, k.reason+" requested a restart")
		} else if !errors.Is(err, registry.ErrNotExist) {
			return inv.Reboot{Status: inv.Unknown(why("registry", err))}
		}
	}
	if v, err := readKey(`SYSTEM\CurrentControlSet\Control\Session Manager`); err == nil && len(v.strs("PendingFileRenameOperations")) > 0 {
		r.Required = true
		r.Reasons = append(r.Reasons, "file renames are pending until restart")
	}
	return r
}

func (c *Collector) updatesKey() string { return "" }

func (c *Collector) checkUpdates(context.Context) inv.Updates {
	return inv.Updates{Status: inv.Unknown("pending Windows updates need the Windows Update Agent API: not implemented")}
}
