package inventory

import "time"

// OS describes the operating system.
type OS struct {
	Status     Status `json:"status"`
	Family     string `json:"family"`                // "linux", "windows", "darwin" (Go's GOOS)
	Name       string `json:"name"`                  // "Debian GNU/Linux", "Windows 11 Pro", "macOS"
	Version    string `json:"version"`               // "12 (bookworm)", "23H2", "14.4.1"
	VersionID  string `json:"version_id,omitempty"`  // machine-readable version: "12", "10.0.22631"
	PrettyName string `json:"pretty_name,omitempty"` // one-line display name
	ID         string `json:"id,omitempty"`          // os-release ID: "debian", "ubuntu", "alpine"
	IDLike     string `json:"id_like,omitempty"`     // os-release ID_LIKE: "rhel fedora"
	Kernel     string `json:"kernel"`                // kernel release: "6.1.0-18-amd64"
	Arch       string `json:"arch"`                  // machine: "x86_64", "aarch64"
	Hostname   string `json:"hostname"`
	Domain     string `json:"domain,omitempty"` // DNS or AD domain, when known
	// BootTime is when the system booted; uptime is CollectedAt - BootTime
	// (it is not stored, so an unchanged system gives an unchanged section).
	BootTime time.Time `json:"boot_time,omitzero"`
	Timezone Timezone  `json:"timezone"`
	// Virtualization is the hypervisor or container runtime the system runs
	// under ("kvm", "vmware", "docker"); empty on bare metal or when unknown.
	Virtualization string `json:"virtualization,omitempty"`
}

// Timezone is the system's time zone.
type Timezone struct {
	Name   string `json:"name,omitempty"` // IANA name: "Europe/Paris"; empty when unknown
	Abbrev string `json:"abbrev"`         // current abbreviation: "CET"
	Offset int    `json:"offset"`         // current offset from UTC, seconds east
}

// Hardware is the system's identity as the firmware (SMBIOS/DMI) reports it.
type Hardware struct {
	Status  Status  `json:"status"`
	System  System  `json:"system"`
	BIOS    BIOS    `json:"bios"`
	Board   Board   `json:"board"`
	Chassis Chassis `json:"chassis"`
}

// System is the SMBIOS system (type 1) record.
type System struct {
	Manufacturer string `json:"manufacturer,omitempty"`
	Model        string `json:"model,omitempty"`
	Version      string `json:"version,omitempty"`
	Serial       string `json:"serial,omitempty"`
	UUID         string `json:"uuid,omitempty"`
	SKU          string `json:"sku,omitempty"`
	Family       string `json:"family,omitempty"`
}

// Firmware modes.
const (
	FirmwareUEFI = "uefi"
	FirmwareBIOS = "bios" // legacy BIOS boot
)

// Secure Boot states.
const (
	SecureBootEnabled  = "enabled"
	SecureBootDisabled = "disabled"
)

// BIOS is the firmware: the SMBIOS type 0 record, the boot mode and Secure
// Boot state.
type BIOS struct {
	Vendor     string `json:"vendor,omitempty"`
	Version    string `json:"version,omitempty"`
	Date       string `json:"date,omitempty"`        // "2023-05-17" when parseable, else as reported
	Firmware   string `json:"firmware,omitempty"`    // FirmwareUEFI, FirmwareBIOS, or "" when unknown
	SecureBoot string `json:"secure_boot,omitempty"` // SecureBootEnabled, SecureBootDisabled, or "" when unknown
}

// Board is the SMBIOS baseboard (type 2) record.
type Board struct {
	Manufacturer string `json:"manufacturer,omitempty"`
	Model        string `json:"model,omitempty"`
	Version      string `json:"version,omitempty"`
	Serial       string `json:"serial,omitempty"`
	AssetTag     string `json:"asset_tag,omitempty"`
}

// Chassis is the SMBIOS enclosure (type 3) record.
type Chassis struct {
	Type         string `json:"type,omitempty"` // SMBIOS chassis type name: "Notebook", "Desktop", "Rack Mount Chassis"
	Manufacturer string `json:"manufacturer,omitempty"`
	Serial       string `json:"serial,omitempty"`
	AssetTag     string `json:"asset_tag,omitempty"`
}

// CPU summarizes the processors.
type CPU struct {
	Status  Status `json:"status"`
	Model   string `json:"model"`   // "AMD EPYC 7B13"
	Vendor  string `json:"vendor"`  // "AuthenticAMD", "GenuineIntel"
	Sockets int    `json:"sockets"` // physical packages
	Cores   int    `json:"cores"`   // physical cores, all sockets
	Threads int    `json:"threads"` // logical processors
	MHz     int    `json:"mhz"`     // maximum (or nominal) frequency
}

// Memory is the physical memory.
type Memory struct {
	Status     Status `json:"status"`
	TotalBytes uint64 `json:"total_bytes"` // usable by the OS
	SwapBytes  uint64 `json:"swap_bytes"`
	Slots      Slots  `json:"slots"`
}

// Slots are the memory slots and the modules in them (SMBIOS type 17).
type Slots struct {
	Status  Status         `json:"status"`
	Total   int            `json:"total"` // slots, including empty ones
	Modules []MemoryModule `json:"modules"`
}

// MemoryModule is one installed memory module.
type MemoryModule struct {
	Locator      string `json:"locator"` // slot: "DIMM 0", "ChannelA-DIMM0"
	SizeBytes    uint64 `json:"size_bytes"`
	Type         string `json:"type,omitempty"`        // "DDR4"
	FormFactor   string `json:"form_factor,omitempty"` // "DIMM", "SODIMM"
	SpeedMTs     int    `json:"speed_mts,omitempty"`   // configured speed, MT/s
	Manufacturer string `json:"manufacturer,omitempty"`
	PartNumber   string `json:"part_number,omitempty"`
	Serial       string `json:"serial,omitempty"`
}

// Disks are the physical (or virtual) block devices.
type Disks struct {
	Status Status `json:"status"`
	Disks  []Disk `json:"disks"`
}

// Disk media.
const (
	MediaHDD = "hdd" // rotational
	MediaSSD = "ssd" // non-rotational
)

// Disk is one whole disk (not a partition).
type Disk struct {
	Name      string `json:"name"` // kernel name: "sda", "nvme0n1"
	Model     string `json:"model,omitempty"`
	Vendor    string `json:"vendor,omitempty"`
	Serial    string `json:"serial,omitempty"`
	Firmware  string `json:"firmware,omitempty"`
	WWN       string `json:"wwn,omitempty"`
	SizeBytes uint64 `json:"size_bytes"`
	Transport string `json:"transport,omitempty"` // "sata", "nvme", "usb", "virtio"
	// Media is MediaHDD or MediaSSD as the kernel reports it (virtual disks
	// report whatever the hypervisor says), or "" when unknown.
	Media     string `json:"media,omitempty"`
	Removable bool   `json:"removable,omitempty"`
	SMART     SMART  `json:"smart"`
}

// SMART is a disk's health as smartctl reports it. Temperature and power-on
// hours are left out: they change on every report.
type SMART struct {
	Status             Status `json:"status"`
	Passed             bool   `json:"passed"`                        // overall-health self-assessment
	ReallocatedSectors int64  `json:"reallocated_sectors,omitempty"` // ATA attribute 5
	PendingSectors     int64  `json:"pending_sectors,omitempty"`     // ATA attribute 197
	MediaErrors        int64  `json:"media_errors,omitempty"`        // NVMe
	PercentUsed        int    `json:"percent_used,omitempty"`        // NVMe endurance used
}

// Filesystems are the mounted local filesystems.
type Filesystems struct {
	Status      Status       `json:"status"`
	Filesystems []Filesystem `json:"filesystems"`
}

// Filesystem is one mounted filesystem.
type Filesystem struct {
	Mount      string `json:"mount"`  // mount point or drive: "/", "C:\"
	Device     string `json:"device"` // "/dev/nvme0n1p2"
	Type       string `json:"type"`   // "ext4", "NTFS", "apfs"
	TotalBytes uint64 `json:"total_bytes"`
	UsedBytes  uint64 `json:"used_bytes"`
	FreeBytes  uint64 `json:"free_bytes"` // available to unprivileged users
	ReadOnly   bool   `json:"read_only,omitempty"`
}

// Network is the network configuration.
type Network struct {
	Status     Status      `json:"status"` // interfaces
	Interfaces []Interface `json:"interfaces"`
	Routes     Routes      `json:"routes"`
	DNS        DNS         `json:"dns"`
}

// Interface kinds.
const (
	KindEthernet = "ethernet"
	KindWiFi     = "wifi"
	KindLoopback = "loopback"
	KindBridge   = "bridge"
	KindVirtual  = "virtual" // tun, veth, bond, vlan and other software devices
)

// Interface is one network interface.
type Interface struct {
	Name      string   `json:"name"`
	MAC       string   `json:"mac,omitempty"`
	MTU       int      `json:"mtu"`
	Kind      string   `json:"kind,omitempty"`  // Kind* constant, "" when unknown
	State     string   `json:"state,omitempty"` // operational state: "up", "down", "unknown", "dormant", …
	SpeedMbps int      `json:"speed_mbps,omitempty"`
	Driver    string   `json:"driver,omitempty"`
	Addresses []string `json:"addresses"` // CIDR: "192.0.2.10/24", "2001:db8::1/64"
}

// Routes are the default gateways.
type Routes struct {
	Status   Status    `json:"status"`
	Gateways []Gateway `json:"gateways"`
}

// Gateway is a default route.
type Gateway struct {
	Address   string `json:"address"`
	Interface string `json:"interface,omitempty"`
}

// DNS is the resolver configuration, in the order the resolver uses it.
type DNS struct {
	Status  Status   `json:"status"`
	Servers []string `json:"servers"`
	Search  []string `json:"search"`
}

// Displays are the monitors attached to the system.
type Displays struct {
	Status   Status    `json:"status"`
	Displays []Display `json:"displays"`
}

// Display is one monitor or output.
type Display struct {
	Name         string `json:"name"`                   // output or connector: "HDMI-1", "eDP-1", "\\.\DISPLAY1"
	Model        string `json:"model,omitempty"`        // monitor name from EDID
	Manufacturer string `json:"manufacturer,omitempty"` // EDID PNP ID: "DEL", "SAM"
	Width        int    `json:"width"`                  // pixels
	Height       int    `json:"height"`
	X            int    `json:"x"` // position in the virtual screen
	Y            int    `json:"y"`
	Primary      bool   `json:"primary,omitempty"`
	WidthMM      int    `json:"width_mm,omitempty"` // physical size
	HeightMM     int    `json:"height_mm,omitempty"`
}

// GPUs are the display controllers.
type GPUs struct {
	Status Status `json:"status"`
	GPUs   []GPU  `json:"gpus"`
}

// GPU is one display controller.
type GPU struct {
	Vendor   string `json:"vendor,omitempty"` // "Intel Corporation", "NVIDIA Corporation"
	Model    string `json:"model,omitempty"`
	VendorID string `json:"vendor_id,omitempty"` // PCI ID, 4 hex digits
	DeviceID string `json:"device_id,omitempty"`
	Driver   string `json:"driver,omitempty"`
	Slot     string `json:"slot,omitempty"` // PCI address: "0000:00:02.0"
}

// Batteries are the system's batteries; an OK status with none means the
// system has none.
type Batteries struct {
	Status    Status    `json:"status"`
	Batteries []Battery `json:"batteries"`
}

// Battery is one battery.
type Battery struct {
	Name              string `json:"name"` // "BAT0"
	Manufacturer      string `json:"manufacturer,omitempty"`
	Model             string `json:"model,omitempty"`
	Serial            string `json:"serial,omitempty"`
	Technology        string `json:"technology,omitempty"` // "Li-ion"
	State             string `json:"state,omitempty"`      // "charging", "discharging", "full", "not charging"
	ChargePercent     int    `json:"charge_percent"`
	DesignCapacityMWh int    `json:"design_capacity_mwh,omitempty"`
	FullCapacityMWh   int    `json:"full_capacity_mwh,omitempty"` // health is Full/Design
	CycleCount        int    `json:"cycle_count,omitempty"`
	DesignVoltageMV   int    `json:"design_voltage_mv,omitempty"`
}

// Users are who is logged in and the local accounts.
type Users struct {
	Status   Status   `json:"status"`
	Sessions Sessions `json:"sessions"`
	Accounts Accounts `json:"accounts"`
}

// Sessions are the logged-in users.
type Sessions struct {
	Status   Status    `json:"status"`
	Sessions []Session `json:"sessions"`
}

// Session is one login session.
type Session struct {
	User     string    `json:"user"`
	Terminal string    `json:"terminal,omitempty"` // "tty1", "pts/0", "console"
	Host     string    `json:"host,omitempty"`     // remote host, for remote logins
	Started  time.Time `json:"started,omitzero"`
}

// Accounts are the local user accounts people log in with: root (or the
// built-in Administrator) and regular users, not system accounts.
type Accounts struct {
	Status   Status    `json:"status"`
	Accounts []Account `json:"accounts"`
}

// Account is one local account.
type Account struct {
	Name     string `json:"name"`
	ID       string `json:"id"` // uid on Unix, SID on Windows
	FullName string `json:"full_name,omitempty"`
	Home     string `json:"home,omitempty"`
	Shell    string `json:"shell,omitempty"`
	Disabled bool   `json:"disabled,omitempty"` // cannot log in (nologin shell, disabled flag)
}

// PackageSource is the package manager or registry a package was found in.
type PackageSource string

// Package sources.
const (
	SourceDpkg    PackageSource = "dpkg"
	SourceRPM     PackageSource = "rpm"
	SourceAPK     PackageSource = "apk"
	SourceFlatpak PackageSource = "flatpak"
	SourceSnap    PackageSource = "snap"
	SourceWindows PackageSource = "windows" // registry uninstall keys
	SourceMacOS   PackageSource = "macos"   // system_profiler applications
)

// Valid reports whether s is a known source.
func (s PackageSource) Valid() bool {
	switch s {
	case SourceDpkg, SourceRPM, SourceAPK, SourceFlatpak, SourceSnap, SourceWindows, SourceMacOS:
		return true
	}
	return false
}

// Software is the installed software.
type Software struct {
	Status Status `json:"status"`
	// Sources are the package managers present on the system, each with its
	// own status; a package manager that is not installed is not listed.
	Sources  []SourceStatus `json:"sources"`
	Packages []Package      `json:"packages"`
}

// SourceStatus says whether one source's packages were read.
type SourceStatus struct {
	Source PackageSource `json:"source"`
	Status Status        `json:"status"`
}

// Package is one installed package or application.
type Package struct {
	Source      PackageSource `json:"source"`
	Name        string        `json:"name"`
	Version     string        `json:"version"`
	Arch        string        `json:"arch,omitempty"`
	Publisher   string        `json:"publisher,omitempty"` // vendor or maintainer, without e-mail address
	InstallDate time.Time     `json:"install_date,omitzero"`
	SizeBytes   uint64        `json:"size_bytes,omitempty"` // installed size
}

// Services are the system services.
type Services struct {
	Status   Status    `json:"status"`
	Manager  string    `json:"manager,omitempty"` // "systemd", "windows"
	Services []Service `json:"services"`
}

// Service is one service.
type Service struct {
	Name        string `json:"name"` // "ssh.service", "wuauserv"
	Description string `json:"description,omitempty"`
	State       string `json:"state"`               // "active", "inactive", "failed", "running", "stopped"
	SubState    string `json:"sub_state,omitempty"` // systemd: "running", "exited", "dead"
	Startup     string `json:"startup,omitempty"`   // "enabled", "disabled", "static", "masked", "auto", "manual"
}

// Security is the device's security posture.
type Security struct {
	Status   Status   `json:"status"`
	Firewall Firewall `json:"firewall"`
	Updates  Updates  `json:"updates"`
	Reboot   Reboot   `json:"reboot"`
}

// Firewall is the host firewall's state.
type Firewall struct {
	Status  Status `json:"status"`
	Backend string `json:"backend,omitempty"` // "ufw", "firewalld", "nftables", "iptables", "windows", "macos"
	Enabled bool   `json:"enabled"`           // filtering is active
	Rules   int    `json:"rules,omitempty"`   // filtering rules, when countable
}

// Updates are the package updates waiting to be installed.
type Updates struct {
	Status   Status   `json:"status"`
	Pending  int      `json:"pending"`
	Security int      `json:"security"` // of Pending, from a security repository
	Packages []string `json:"packages"` // names, at most MaxUpdates
}

// Reboot says whether the system waits for a reboot.
type Reboot struct {
	Status   Status   `json:"status"`
	Required bool     `json:"required"`
	Reasons  []string `json:"reasons"` // what asked for it
}
