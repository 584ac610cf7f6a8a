package inventory

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// The macOS collectors read `system_profiler -json` and a few small tools;
// these parsers are pure so that they are tested on every platform.

// parseSwVers parses `sw_vers`: "ProductName:\tmacOS" lines.
func parseSwVers(b []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok {
			out[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out
}

// applySwVers sets the OS fields sw_vers provides.
func applySwVers(o *inv.OS, v map[string]string) {
	o.Name = clean(v["ProductName"], inv.MaxName)
	o.Version = clean(v["ProductVersion"], inv.MaxShort)
	o.VersionID = clean(v["BuildVersion"], inv.MaxShort)
	o.PrettyName = clean(o.Name+" "+o.Version, inv.MaxName)
	o.ID = "macos"
}

// parseSPHardware parses `system_profiler -json SPHardwareDataType`.
func parseSPHardware(b []byte) (inv.Hardware, error) {
	var doc struct {
		Items []struct {
			MachineName  string `json:"machine_name"`
			MachineModel string `json:"machine_model"`
			Serial       string `json:"serial_number"`
			UUID         string `json:"platform_UUID"`
			BootROM      string `json:"boot_rom_version"`
			ModelNumber  string `json:"model_number"`
		} `json:"SPHardwareDataType"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return inv.Hardware{}, fmt.Errorf("system_profiler JSON: %w", err)
	}
	if len(doc.Items) == 0 {
		return inv.Hardware{}, fmt.Errorf("system_profiler: no hardware entry")
	}
	it := doc.Items[0]
	h := inv.Hardware{
		System: inv.System{Manufacturer: "Apple Inc.", Model: clean(it.MachineModel, inv.MaxName),
			Family: clean(it.MachineName, inv.MaxName), Serial: clean(it.Serial, inv.MaxShort),
			UUID: strings.ToLower(clean(it.UUID, inv.MaxShort)), SKU: clean(it.ModelNumber, inv.MaxShort)},
		BIOS: inv.BIOS{Vendor: "Apple Inc.", Version: clean(it.BootROM, inv.MaxShort)},
	}
	if strings.Contains(it.MachineName, "Book") {
		h.Chassis.Type = "Notebook"
	}
	return h, nil
}

// parseSPDisplays parses `system_profiler -json SPDisplaysDataType`: each
// entry is a GPU with its attached displays.
func parseSPDisplays(b []byte) ([]inv.Display, []inv.GPU, error) {
	var doc struct {
		Items []struct {
			Name     string `json:"_name"`
			Model    string `json:"sppci_model"`
			Vendor   string `json:"spdisplays_vendor"`
			Displays []struct {
				Name       string `json:"_name"`
				Resolution string `json:"_spdisplays_resolution"`
				Pixels     string `json:"_spdisplays_pixels"`
				Main       string `json:"spdisplays_main"`
			} `json:"spdisplays_ndrvs"`
		} `json:"SPDisplaysDataType"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, nil, fmt.Errorf("system_profiler JSON: %w", err)
	}
	displays, gpus := []inv.Display{}, []inv.GPU{}
	for _, g := range doc.Items {
		model := g.Model
		if model == "" {
			model = g.Name
		}
		vendor := strings.TrimPrefix(g.Vendor, "sppci_vendor_")
		if len(gpus) < inv.MaxGPUs {
			gpus = append(gpus, inv.GPU{Vendor: clean(vendor, inv.MaxName), Model: clean(model, inv.MaxName)})
		}
		for _, d := range g.Displays {
			res := d.Pixels // physical pixels; "Resolution" is the scaled one
			if res == "" {
				res = d.Resolution
			}
			w, h := spResolution(res)
			if len(displays) < inv.MaxDisplays {
				displays = append(displays, inv.Display{Name: clean(d.Name, inv.MaxShort), Model: clean(d.Name, inv.MaxName),
					Width: w, Height: h, Primary: d.Main == "spdisplays_yes"})
			}
		}
	}
	return displays, gpus, nil
}

// spResolution parses "2560 x 1664 Retina" or "1920 x 1080 @ 60.00Hz".
func spResolution(s string) (w, h int) {
	f := strings.Fields(s)
	if len(f) < 3 || f[1] != "x" {
		return 0, 0
	}
	return atoiBounded(f[0]), atoiBounded(f[2])
}

// parseSPApplications parses `system_profiler -json -detailLevel mini
// SPApplicationsDataType`. The publisher is Apple for Apple's applications
// and the Developer ID's name for others.
func parseSPApplications(b []byte) (parsed, error) {
	var doc struct {
		Items []struct {
			Name         string    `json:"_name"`
			Version      string    `json:"version"`
			ObtainedFrom string    `json:"obtained_from"`
			LastModified time.Time `json:"lastModified"`
			SignedBy     []string  `json:"signed_by"`
			ArchKind     string    `json:"arch_kind"`
		} `json:"SPApplicationsDataType"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return parsed{}, fmt.Errorf("system_profiler JSON: %w", err)
	}
	var p parsed
	for _, a := range doc.Items {
		if a.Name == "" {
			p.Skipped++
			continue
		}
		pub := ""
		switch {
		case a.ObtainedFrom == "apple":
			pub = "Apple"
		case len(a.SignedBy) > 0 && strings.HasPrefix(a.SignedBy[0], "Developer ID Application: "):
			pub = strings.TrimPrefix(a.SignedBy[0], "Developer ID Application: ")
			if i := strings.LastIndex(pub, " ("); i > 0 { // team ID
				pub = pub[:i]
			}
		}
		p.add(inv.Package{Source: inv.SourceMacOS, Name: clean(a.Name, inv.MaxName), Version: clean(a.Version, inv.MaxShort),
			Arch: clean(strings.TrimPrefix(a.ArchKind, "arch_"), inv.MaxShort), Publisher: clean(pub, inv.MaxName),
			InstallDate: a.LastModified.UTC()})
	}
	return p, nil
}

// socketFilterEnabled parses `socketfilterfw --getglobalstate`: "Firewall
// is enabled. (State = 1)".
func socketFilterEnabled(b []byte) (enabled, ok bool) {
	s := string(b)
	switch {
	case strings.Contains(s, "enabled"):
		return true, true
	case strings.Contains(s, "disabled"):
		return false, true
	}
	return false, false
}

// parseDsclUsers parses `dscl . -list /Users UniqueID`: "name uid" lines;
// root and regular users (uid ≥ 501) are kept, not the "_" service accounts.
func parseDsclUsers(b []byte) []inv.Account {
	accounts := []inv.Account{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 || strings.HasPrefix(f[0], "_") || len(accounts) == inv.MaxAccounts {
			continue
		}
		uid, err := strconv.Atoi(f[1])
		if err != nil || (uid != 0 && uid < 501) {
			continue
		}
		accounts = append(accounts, inv.Account{Name: clean(f[0], inv.MaxShort), ID: f[1]})
	}
	return accounts
}

// parseLaunchctlList parses `launchctl list`: "PID Status Label" lines,
// PID "-" when the job is not running.
func parseLaunchctlList(b []byte) []inv.Service {
	services := []inv.Service{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || len(services) == inv.MaxServices {
			continue
		}
		if _, err := strconv.Atoi(f[0]); err != nil && f[0] != "-" { // header or junk
			continue
		}
		state := "running"
		if f[0] == "-" {
			state = "stopped"
		}
		services = append(services, inv.Service{Name: clean(f[2], inv.MaxName), State: state})
	}
	return services
}

// parseRouteGet parses `route -n get default`: "gateway: 192.168.1.1" and
// "interface: en0" lines.
func parseRouteGet(b []byte) []inv.Gateway {
	var gw inv.Gateway
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "gateway":
			gw.Address = strings.TrimSpace(v)
		case "interface":
			gw.Interface = clean(v, inv.MaxShort)
		}
	}
	a, err := netip.ParseAddr(gw.Address)
	if err != nil {
		return []inv.Gateway{}
	}
	gw.Address = a.WithZone("").String()
	return []inv.Gateway{gw}
}
