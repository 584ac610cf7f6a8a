// Package glpi converts a Reach inventory into GLPI's native inventory
// format (the JSON that glpi-agent sends, specified by inventory.schema.json
// in github.com/glpi-project/inventory_format), so that sites running GLPI
// can ingest Reach inventories.
//
// Only fields with a GLPI counterpart are mapped. GLPI has no notion of an
// unknown value: a section Reach could not collect is left out, and the
// inventory is then marked partial so that GLPI keeps what it knew instead of
// deleting it.
package glpi

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// Inventory is a GLPI native inventory document.
type Inventory struct {
	DeviceID string  `json:"deviceid"`
	Content  Content `json:"content"`
	ItemType string  `json:"itemtype"` // always "Computer"
	Action   string  `json:"action"`   // always "inventory"
	Partial  bool    `json:"partial,omitempty"`
	Tag      string  `json:"tag,omitempty"`
}

// Content holds the inventory's sections, named as GLPI names them.
type Content struct {
	VersionClient   string           `json:"versionclient"`
	AccessLog       *AccessLog       `json:"accesslog,omitempty"`
	Hardware        *Hardware        `json:"hardware,omitempty"`
	BIOS            *BIOS            `json:"bios,omitempty"`
	OperatingSystem *OperatingSystem `json:"operatingsystem,omitempty"`
	CPUs            []CPU            `json:"cpus,omitempty"`
	Memories        []Memory         `json:"memories,omitempty"`
	Storages        []Storage        `json:"storages,omitempty"`
	Drives          []Drive          `json:"drives,omitempty"`
	Networks        []Network        `json:"networks,omitempty"`
	Videos          []Video          `json:"videos,omitempty"`
	Monitors        []Monitor        `json:"monitors,omitempty"`
	Batteries       []Battery        `json:"batteries,omitempty"`
	Users           []User           `json:"users,omitempty"`
	LocalUsers      []LocalUser      `json:"local_users,omitempty"`
	Softwares       []Software       `json:"softwares,omitempty"`
	Firewalls       []Firewall       `json:"firewalls,omitempty"`
}

// AccessLog records when the inventory was taken.
type AccessLog struct {
	LogDate string `json:"logdate"`
}

// Hardware is GLPI's computer summary.
type Hardware struct {
	Name           string `json:"name,omitempty"`
	UUID           string `json:"uuid,omitempty"`
	Memory         int64  `json:"memory,omitempty"` // MB
	Swap           int64  `json:"swap,omitempty"`   // MB
	ChassisType    string `json:"chassis_type,omitempty"`
	DefaultGateway string `json:"defaultgateway,omitempty"`
	DNS            string `json:"dns,omitempty"` // servers separated by "/"
	Workgroup      string `json:"workgroup,omitempty"`
	VMSystem       string `json:"vmsystem,omitempty"` // "Physical" or the hypervisor
	LastLoggedUser string `json:"lastloggeduser,omitempty"`
}

// BIOS is GLPI's firmware, system and board identity.
type BIOS struct {
	AssetTag        string `json:"assettag,omitempty"`
	BDate           string `json:"bdate,omitempty"`
	BManufacturer   string `json:"bmanufacturer,omitempty"`
	BVersion        string `json:"bversion,omitempty"`
	MManufacturer   string `json:"mmanufacturer,omitempty"`
	MModel          string `json:"mmodel,omitempty"`
	MSN             string `json:"msn,omitempty"`
	SKUNumber       string `json:"skunumber,omitempty"`
	SManufacturer   string `json:"smanufacturer,omitempty"`
	SModel          string `json:"smodel,omitempty"`
	SSN             string `json:"ssn,omitempty"`
	EnclosureSerial string `json:"enclosureserial,omitempty"`
	SecureBoot      string `json:"secure_boot,omitempty"` // enabled, disabled, unsupported
}

// OperatingSystem is GLPI's operating system.
type OperatingSystem struct {
	Arch          string    `json:"arch,omitempty"`
	BootTime      string    `json:"boot_time,omitempty"`
	DNSDomain     string    `json:"dns_domain,omitempty"`
	FQDN          string    `json:"fqdn,omitempty"`
	FullName      string    `json:"full_name,omitempty"`
	KernelName    string    `json:"kernel_name,omitempty"`
	KernelVersion string    `json:"kernel_version,omitempty"`
	Name          string    `json:"name,omitempty"`
	Version       string    `json:"version,omitempty"`
	Timezone      *Timezone `json:"timezone,omitempty"`
}

// Timezone is an abbreviation and a "+hhmm" offset.
type Timezone struct {
	Name   string `json:"name"`
	Offset string `json:"offset"`
}

// CPU is one processor package.
type CPU struct {
	Name         string `json:"name,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Arch         string `json:"arch,omitempty"`
	Core         int    `json:"core,omitempty"`
	CoreCount    int    `json:"corecount,omitempty"`
	Thread       int    `json:"thread,omitempty"` // per core
	Speed        int    `json:"speed,omitempty"`  // MHz
}

// Memory is one memory module.
type Memory struct {
	Capacity     int64  `json:"capacity"` // MB
	Caption      string `json:"caption,omitempty"`
	Description  string `json:"description,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	SerialNumber string `json:"serialnumber,omitempty"`
	Model        string `json:"model,omitempty"`
	Speed        string `json:"speed,omitempty"`
	Type         string `json:"type,omitempty"`
	NumSlots     int    `json:"numslots,omitempty"`
}

// Storage is one physical disk.
type Storage struct {
	Name         string `json:"name,omitempty"`
	Description  string `json:"description,omitempty"`
	DiskSize     int64  `json:"disksize,omitempty"` // MB
	Firmware     string `json:"firmware,omitempty"`
	Interface    string `json:"interface,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Model        string `json:"model,omitempty"`
	Serial       string `json:"serial,omitempty"`
	Type         string `json:"type,omitempty"`
	WWN          string `json:"wwn,omitempty"`
}

// Drive is one mounted filesystem.
type Drive struct {
	Type       string `json:"type,omitempty"` // mount point on Unix
	Letter     string `json:"letter,omitempty"`
	FileSystem string `json:"filesystem,omitempty"`
	Volumn     string `json:"volumn,omitempty"` // device (GLPI's spelling)
	Total      int64  `json:"total"`            // MB
	Free       int64  `json:"free"`             // MB
}

// Network is one address of one interface (or the interface, when it has no
// address), as glpi-agent reports them.
type Network struct {
	Description string `json:"description"`
	MAC         string `json:"mac,omitempty"`
	Status      string `json:"status,omitempty"`
	Type        string `json:"type,omitempty"`
	VirtualDev  bool   `json:"virtualdev,omitempty"`
	Speed       string `json:"speed,omitempty"`
	MTU         int    `json:"mtu,omitempty"`
	Driver      string `json:"driver,omitempty"`
	IPAddress   string `json:"ipaddress,omitempty"`
	IPMask      string `json:"ipmask,omitempty"`
	IPSubnet    string `json:"ipsubnet,omitempty"`
	IPGateway   string `json:"ipgateway,omitempty"`
	IPAddress6  string `json:"ipaddress6,omitempty"`
	IPMask6     string `json:"ipmask6,omitempty"`
	IPSubnet6   string `json:"ipsubnet6,omitempty"`
}

// Video is one display controller.
type Video struct {
	Name    string `json:"name,omitempty"`
	Chipset string `json:"chipset,omitempty"`
	PCISlot string `json:"pcislot,omitempty"`
}

// Monitor is one display.
type Monitor struct {
	Caption      string `json:"caption,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Name         string `json:"name,omitempty"`
	Port         string `json:"port,omitempty"`
}

// Battery is one battery.
type Battery struct {
	Name         string `json:"name,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Serial       string `json:"serial,omitempty"`
	Chemistry    string `json:"chemistry,omitempty"`
	Capacity     int    `json:"capacity,omitempty"`      // design, mWh
	RealCapacity int    `json:"real_capacity,omitempty"` // mWh
	Voltage      int    `json:"voltage,omitempty"`       // mV
}

// User is a logged-in user.
type User struct {
	Login string `json:"login"`
}

// LocalUser is a local account.
type LocalUser struct {
	ID    string `json:"id"`
	Login string `json:"login,omitempty"`
	Name  string `json:"name,omitempty"`
	Home  string `json:"home,omitempty"`
	Shell string `json:"shell,omitempty"`
}

// Software is one installed package.
type Software struct {
	Name        string `json:"name"`
	Version     string `json:"version,omitempty"`
	Publisher   string `json:"publisher,omitempty"`
	Arch        string `json:"arch,omitempty"`
	InstallDate string `json:"install_date,omitempty"`
	From        string `json:"from,omitempty"`
	FileSize    uint64 `json:"filesize,omitempty"`
}

// Firewall is the host firewall's state.
type Firewall struct {
	Status      string `json:"status"` // "on" or "off"
	Description string `json:"description,omitempty"`
}

// Options adjust the conversion.
type Options struct {
	// DeviceID is the GLPI agent ID. Empty means the report's device id,
	// or, before enrollment, "<hostname>-<collection time>" as glpi-agent
	// forms it.
	DeviceID string
	// Tag is the GLPI agent tag used by entity rules; empty sends none.
	Tag string
}

// GLPI formats.
const (
	dateTime = "2006-01-02 15:04:05"
	date     = "2006-01-02"
)

var (
	isoDate = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	cpuArch = regexp.MustCompile(`^(mips|mips64|alpha|sparc|sparc64|m68k|i\d86|x86_64|powerpc|powerpc64|arm.*|aarch64)$`)
)

// Convert maps a report to a GLPI inventory.
func Convert(r *inv.Report, opts Options) *Inventory {
	g := &Inventory{DeviceID: opts.DeviceID, ItemType: "Computer", Action: "inventory", Tag: opts.Tag,
		Content: Content{VersionClient: "Reach-Agent_v" + r.AgentVersion,
			AccessLog: &AccessLog{LogDate: r.CollectedAt.UTC().Format(dateTime)}}}
	if g.DeviceID == "" {
		g.DeviceID = r.DeviceID
	}
	if g.DeviceID == "" {
		host := "unknown"
		if r.OS != nil && r.OS.Hostname != "" {
			host = r.OS.Hostname
		}
		g.DeviceID = host + "-" + r.CollectedAt.UTC().Format("2006-01-02-15-04-05")
	}
	c := &g.Content
	known := func(st inv.Status) bool {
		if !st.OK {
			g.Partial = true
		}
		return st.OK
	}
	c.Hardware = hardware(r)
	if r.Hardware != nil && known(r.Hardware.Status) {
		c.BIOS = bios(r.Hardware)
	}
	if r.OS != nil && known(r.OS.Status) {
		c.OperatingSystem = operatingSystem(r.OS)
	}
	if r.CPU != nil && known(r.CPU.Status) {
		c.CPUs = cpus(r.CPU, r.OS)
	}
	if r.Memory != nil && known(r.Memory.Slots.Status) {
		for i, m := range r.Memory.Slots.Modules {
			speed := ""
			if m.SpeedMTs > 0 {
				speed = fmt.Sprintf("%d MT/s", m.SpeedMTs)
			}
			c.Memories = append(c.Memories, Memory{Capacity: mb(m.SizeBytes), Caption: m.Locator, Description: m.FormFactor,
				Manufacturer: m.Manufacturer, SerialNumber: m.Serial, Model: m.PartNumber, Speed: speed, Type: m.Type, NumSlots: i + 1})
		}
	}
	if r.Disks != nil && known(r.Disks.Status) {
		for _, d := range r.Disks.Disks {
			c.Storages = append(c.Storages, Storage{Name: d.Name, Description: strings.ToUpper(d.Media), DiskSize: mb(d.SizeBytes),
				Firmware: d.Firmware, Interface: strings.ToUpper(d.Transport), Manufacturer: d.Vendor, Model: d.Model,
				Serial: d.Serial, Type: "disk", WWN: d.WWN})
		}
	}
	if r.Filesystems != nil && known(r.Filesystems.Status) {
		for _, f := range r.Filesystems.Filesystems {
			d := Drive{FileSystem: f.Type, Volumn: f.Device, Total: mb(f.TotalBytes), Free: mb(f.FreeBytes), Type: f.Mount}
			if len(f.Mount) <= 3 && strings.HasSuffix(strings.TrimSuffix(f.Mount, `\`), ":") { // Windows drive
				d.Letter, d.Type = strings.TrimSuffix(f.Mount, `\`), ""
			}
			c.Drives = append(c.Drives, d)
		}
	}
	if r.Network != nil && known(r.Network.Status) {
		c.Networks = networks(r.Network)
	}
	if r.GPUs != nil && known(r.GPUs.Status) {
		for _, v := range r.GPUs.GPUs {
			c.Videos = append(c.Videos, Video{Name: firstOf(v.Model, v.Vendor), Chipset: v.Vendor, PCISlot: v.Slot})
		}
	}
	if r.Displays != nil && known(r.Displays.Status) {
		for _, d := range r.Displays.Displays {
			c.Monitors = append(c.Monitors, Monitor{Caption: firstOf(d.Model, d.Name), Manufacturer: d.Manufacturer, Name: d.Model, Port: d.Name})
		}
	}
	if r.Batteries != nil && known(r.Batteries.Status) {
		for _, b := range r.Batteries.Batteries {
			c.Batteries = append(c.Batteries, Battery{Name: firstOf(b.Model, b.Name), Manufacturer: b.Manufacturer, Serial: b.Serial,
				Chemistry: b.Technology, Capacity: b.DesignCapacityMWh, RealCapacity: b.FullCapacityMWh, Voltage: b.DesignVoltageMV})
		}
	}
	if r.Users != nil {
		if known(r.Users.Sessions.Status) {
			seen := map[string]bool{}
			for _, s := range r.Users.Sessions.Sessions {
				if !seen[s.User] {
					seen[s.User] = true
					c.Users = append(c.Users, User{Login: s.User})
				}
			}
		}
		if known(r.Users.Accounts.Status) {
			for _, a := range r.Users.Accounts.Accounts {
				c.LocalUsers = append(c.LocalUsers, LocalUser{ID: a.ID, Login: a.Name, Name: a.FullName, Home: a.Home, Shell: a.Shell})
			}
		}
	}
	if r.Software != nil && known(r.Software.Status) {
		for _, s := range r.Software.Sources {
			known(s.Status)
		}
		for _, p := range r.Software.Packages {
			sw := Software{Name: p.Name, Version: p.Version, Publisher: p.Publisher, Arch: p.Arch, From: from(p.Source), FileSize: p.SizeBytes}
			if !p.InstallDate.IsZero() {
				sw.InstallDate = p.InstallDate.UTC().Format(date)
			}
			c.Softwares = append(c.Softwares, sw)
		}
	}
	if r.Security != nil && known(r.Security.Firewall.Status) {
		status := "off"
		if r.Security.Firewall.Enabled {
			status = "on"
		}
		c.Firewalls = []Firewall{{Status: status, Description: r.Security.Firewall.Backend}}
	}
	return g
}

// hardware gathers GLPI's summary from several Reach sections.
func hardware(r *inv.Report) *Hardware {
	h := &Hardware{}
	if r.OS != nil && r.OS.Status.OK {
		h.Name, h.Workgroup = r.OS.Hostname, r.OS.Domain
		h.VMSystem = "Physical"
		if r.OS.Virtualization != "" {
			h.VMSystem = r.OS.Virtualization
		}
	}
	if r.Hardware != nil && r.Hardware.Status.OK {
		h.UUID, h.ChassisType = r.Hardware.System.UUID, r.Hardware.Chassis.Type
	}
	if r.Memory != nil && r.Memory.Status.OK {
		h.Memory, h.Swap = mb(r.Memory.TotalBytes), mb(r.Memory.SwapBytes)
	}
	if r.Network != nil {
		for _, gw := range r.Network.Routes.Gateways {
			if a, err := netip.ParseAddr(gw.Address); err == nil && a.Is4() {
				h.DefaultGateway = gw.Address
				break
			}
		}
		h.DNS = strings.Join(r.Network.DNS.Servers, "/")
	}
	if r.Users != nil && len(r.Users.Sessions.Sessions) > 0 {
		last := r.Users.Sessions.Sessions[0]
		for _, s := range r.Users.Sessions.Sessions[1:] {
			if s.Started.After(last.Started) {
				last = s
			}
		}
		h.LastLoggedUser = last.User
	}
	return h
}

func bios(hw *inv.Hardware) *BIOS {
	b := &BIOS{AssetTag: firstOf(hw.Chassis.AssetTag, hw.Board.AssetTag), BManufacturer: hw.BIOS.Vendor, BVersion: hw.BIOS.Version,
		MManufacturer: hw.Board.Manufacturer, MModel: hw.Board.Model, MSN: hw.Board.Serial, SKUNumber: hw.System.SKU,
		SManufacturer: hw.System.Manufacturer, SModel: hw.System.Model, SSN: hw.System.Serial, EnclosureSerial: hw.Chassis.Serial}
	if isoDate.MatchString(hw.BIOS.Date) {
		b.BDate = hw.BIOS.Date
	}
	switch {
	case hw.BIOS.Firmware == inv.FirmwareBIOS:
		b.SecureBoot = "unsupported"
	case hw.BIOS.SecureBoot != "":
		b.SecureBoot = hw.BIOS.SecureBoot
	}
	return b
}

func operatingSystem(o *inv.OS) *OperatingSystem {
	out := &OperatingSystem{Arch: o.Arch, DNSDomain: o.Domain, FullName: firstOf(o.PrettyName, o.Name), KernelVersion: o.Kernel,
		Name: o.Name, Version: firstOf(o.VersionID, o.Version), KernelName: o.Family, FQDN: o.Hostname}
	if o.Family == "windows" {
		out.KernelName = "MSWin32" // as glpi-agent names it
	}
	if o.Domain != "" && !strings.Contains(o.Hostname, ".") {
		out.FQDN = o.Hostname + "." + o.Domain
	}
	if !o.BootTime.IsZero() {
		out.BootTime = o.BootTime.UTC().Format(dateTime)
	}
	if o.Timezone.Abbrev != "" {
		off := o.Timezone.Offset
		sign := '+'
		if off < 0 {
			sign, off = '-', -off
		}
		out.Timezone = &Timezone{Name: o.Timezone.Abbrev, Offset: fmt.Sprintf("%c%02d%02d", sign, off/3600, off%3600/60)}
	}
	return out
}

// cpus reports one entry per socket, as GLPI expects.
func cpus(c *inv.CPU, o *inv.OS) []CPU {
	sockets := max(c.Sockets, 1)
	cpu := CPU{Name: c.Model, Manufacturer: vendor(c.Vendor), Speed: c.MHz, Core: c.Cores / sockets, CoreCount: c.Cores / sockets}
	if c.Cores > 0 {
		cpu.Thread = c.Threads / c.Cores
	}
	if o != nil && cpuArch.MatchString(o.Arch) {
		cpu.Arch = o.Arch
	}
	out := make([]CPU, sockets)
	for i := range out {
		out[i] = cpu
	}
	return out
}

func vendor(id string) string {
	switch id {
	case "GenuineIntel":
		return "Intel"
	case "AuthenticAMD":
		return "AMD"
	}
	return id
}

// networks emits one entry per IPv4 address, then one per IPv6 address, or
// one bare entry for an interface without addresses.
func networks(n *inv.Network) []Network {
	gateway := map[string]string{}
	for _, g := range n.Routes.Gateways {
		if a, err := netip.ParseAddr(g.Address); err == nil && a.Is4() && gateway[g.Interface] == "" {
			gateway[g.Interface] = g.Address
		}
	}
	var out []Network
	for _, i := range n.Interfaces {
		base := Network{Description: i.Name, MAC: i.MAC, MTU: i.MTU, Driver: i.Driver,
			VirtualDev: i.Kind == inv.KindVirtual || i.Kind == inv.KindLoopback}
		switch i.Kind {
		case inv.KindEthernet, inv.KindWiFi, inv.KindLoopback, inv.KindBridge:
			base.Type = i.Kind
		}
		switch i.State {
		case "up", "down", "dormant", "notpresent", "lowerlayerdown", "unknown", "testing":
			base.Status = i.State
		}
		if i.SpeedMbps > 0 {
			base.Speed = fmt.Sprint(i.SpeedMbps)
		}
		emitted := false
		for _, s := range i.Addresses {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				continue
			}
			e := base
			if p.Addr().Is4() {
				e.IPAddress, e.IPSubnet, e.IPGateway = p.Addr().String(), p.Masked().Addr().String(), gateway[i.Name]
				e.IPMask = mask(4, p.Bits()).String()
			} else {
				e.IPAddress6, e.IPSubnet6 = p.Addr().String(), p.Masked().Addr().String()
				e.IPMask6 = mask(16, p.Bits()).String()
			}
			out, emitted = append(out, e), true
		}
		if !emitted {
			out = append(out, base)
		}
	}
	return out
}

// mask returns the netmask of a prefix length for an address of size bytes.
func mask(size, bits int) netip.Addr {
	m := make([]byte, size)
	for i := 0; i < bits && i < size*8; i++ {
		m[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(m)
	return a
}

// from names a package source the way glpi-agent does.
func from(s inv.PackageSource) string {
	switch s {
	case inv.SourceDpkg:
		return "deb"
	case inv.SourceWindows:
		return "registry"
	case inv.SourceMacOS:
		return "application"
	}
	return string(s)
}

func mb(bytes uint64) int64 { return int64(bytes >> 20) }

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
