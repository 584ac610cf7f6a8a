package inventory

import (
	"fmt"
	"testing"
	"time"
)

var (
	t0   = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	ok   = Status{OK: true, Source: "test", Reason: "fixture"}
	lost = Unknown("dmidecode not installed")
)

// testReport returns a sealed report in which every field has a value, so
// that the reflection-driven tests below reach every string and list.
func testReport(tb testing.TB) *Report {
	tb.Helper()
	r := &Report{
		Header: Header{Schema: SchemaVersion, DeviceID: "dev-1", AgentVersion: "1.0.0", CollectedAt: t0},
		Sections: Sections{
			OS: &OS{Status: ok, Family: "linux", Name: "Debian GNU/Linux", Version: "12 (bookworm)", VersionID: "12",
				PrettyName: "Debian GNU/Linux 12 (bookworm)", ID: "debian", IDLike: "debian", Kernel: "6.1.0-18-amd64",
				Arch: "x86_64", Hostname: "pc-042", Domain: "corp.example", BootTime: t0.Add(-time.Hour),
				Timezone: Timezone{Name: "Europe/Paris", Abbrev: "CET", Offset: 3600}, Virtualization: "kvm"},
			Hardware: &Hardware{Status: ok,
				System: System{Manufacturer: "Dell Inc.", Model: "Latitude 7440", Version: "1", Serial: "ABC1234",
					UUID: "4c4c4544-0042-3510-8052-b4c04f4d3432", SKU: "0C6B", Family: "Latitude"},
				BIOS:    BIOS{Vendor: "Dell Inc.", Version: "1.10.1", Date: "2024-03-05", Firmware: FirmwareUEFI, SecureBoot: SecureBootEnabled},
				Board:   Board{Manufacturer: "Dell Inc.", Model: "0XYZ12", Version: "A00", Serial: "/ABC1234/CN1/", AssetTag: "IT-0042"},
				Chassis: Chassis{Type: "Notebook", Manufacturer: "Dell Inc.", Serial: "ABC1234", AssetTag: "IT-0042"}},
			CPU: &CPU{Status: ok, Model: "13th Gen Intel(R) Core(TM) i7-1365U", Vendor: "GenuineIntel", Sockets: 1, Cores: 10, Threads: 12, MHz: 5200},
			Memory: &Memory{Status: ok, TotalBytes: 16 << 30, SwapBytes: 1 << 30, Slots: Slots{Status: ok, Total: 2,
				Modules: []MemoryModule{{Locator: "DIMM B", SizeBytes: 8 << 30, Type: "DDR5", FormFactor: "SODIMM", SpeedMTs: 5200,
					Manufacturer: "SK Hynix", PartNumber: "HMCG66AGBSA092N", Serial: "12345678"},
					{Locator: "DIMM A", SizeBytes: 8 << 30, Type: "DDR5", FormFactor: "SODIMM", SpeedMTs: 5200,
						Manufacturer: "SK Hynix", PartNumber: "HMCG66AGBSA092N", Serial: "87654321"}}}},
			Disks: &Disks{Status: ok, Disks: []Disk{{Name: "nvme0n1", Model: "PM9A1 NVMe Samsung 512GB", Vendor: "Samsung",
				Serial: "S64ANS0T123456", Firmware: "GXA7801Q", WWN: "eui.002538b111b1a2c3", SizeBytes: 512110190592,
				Transport: "nvme", Media: MediaSSD, Removable: true,
				SMART: SMART{Status: ok, Passed: true, ReallocatedSectors: 1, PendingSectors: 1, MediaErrors: 1, PercentUsed: 3}}}},
			Filesystems: &Filesystems{Status: ok, Filesystems: []Filesystem{{Mount: "/", Device: "/dev/nvme0n1p2", Type: "ext4",
				TotalBytes: 500 << 30, UsedBytes: 120 << 30, FreeBytes: 355 << 30, ReadOnly: true}}},
			Network: &Network{Status: ok,
				Interfaces: []Interface{{Name: "wlp0s20f3", MAC: "3c:21:9c:01:02:03", MTU: 1500, Kind: KindWiFi, State: "up",
					SpeedMbps: 866, Driver: "iwlwifi", Addresses: []string{"fe80::1/64", "192.0.2.10/24"}}},
				Routes: Routes{Status: ok, Gateways: []Gateway{{Address: "192.0.2.1", Interface: "wlp0s20f3"}}},
				DNS:    DNS{Status: ok, Servers: []string{"192.0.2.53", "2001:db8::53"}, Search: []string{"corp.example"}}},
			Displays: &Displays{Status: ok, Displays: []Display{{Name: "eDP-1", Model: "LG Display", Manufacturer: "LGD",
				Width: 1920, Height: 1200, X: 1, Y: 1, Primary: true, WidthMM: 302, HeightMM: 189}}},
			GPUs: &GPUs{Status: ok, GPUs: []GPU{{Vendor: "Intel Corporation", Model: "Raptor Lake-P [Iris Xe Graphics]",
				VendorID: "8086", DeviceID: "a7a1", Driver: "i915", Slot: "0000:00:02.0"}}},
			Batteries: &Batteries{Status: ok, Batteries: []Battery{{Name: "BAT0", Manufacturer: "SMP", Model: "DELL 9JRV011",
				Serial: "1234", Technology: "Li-poly", State: "discharging", ChargePercent: 81, DesignCapacityMWh: 57000,
				FullCapacityMWh: 52000, CycleCount: 120, DesignVoltageMV: 11400}}},
			Users: &Users{Status: ok,
				Sessions: Sessions{Status: ok, Sessions: []Session{{User: "alice", Terminal: "tty2", Host: "192.0.2.7", Started: t0}}},
				Accounts: Accounts{Status: ok, Accounts: []Account{{Name: "alice", ID: "1000", FullName: "Alice Martin",
					Home: "/home/alice", Shell: "/bin/bash", Disabled: true}}}},
			Software: &Software{Status: ok,
				Sources: []SourceStatus{{Source: SourceSnap, Status: lost}, {Source: SourceDpkg, Status: ok}},
				Packages: []Package{{Source: SourceDpkg, Name: "openssh-server", Version: "1:9.2p1-2+deb12u3", Arch: "amd64",
					Publisher: "Debian OpenSSH Maintainers", InstallDate: t0, SizeBytes: 1 << 20}}},
			Services: &Services{Status: ok, Manager: "systemd", Services: []Service{{Name: "ssh.service",
				Description: "OpenBSD Secure Shell server", State: "active", SubState: "running", Startup: "enabled"}}},
			Security: &Security{Status: ok,
				Firewall: Firewall{Status: ok, Backend: "nftables", Enabled: true, Rules: 12},
				Updates:  Updates{Status: ok, Pending: 2, Security: 1, Packages: []string{"b", "a"}},
				Reboot:   Reboot{Status: ok, Required: true, Reasons: []string{"linux-image-6.1.0-20-amd64"}}},
		},
	}
	r.Software.Packages = append(r.Software.Packages, packages(3)...)
	if err := r.Seal(); err != nil {
		tb.Fatal(err)
	}
	return r
}

// packages returns n distinct valid packages.
func packages(n int) []Package {
	p := make([]Package, n)
	for i := range p {
		p[i] = Package{Source: SourceDpkg, Name: fmt.Sprintf("lib-package-%05d", i), Version: "2.36-9+deb12u4",
			Arch: "amd64", Publisher: "Debian Maintainers", InstallDate: t0, SizeBytes: 123456}
	}
	return p
}

func testDiag() *DiagReport {
	return &DiagReport{
		Header: Header{Schema: SchemaVersion, DeviceID: "dev-1", AgentVersion: "1.0.0", CollectedAt: t0},
		Results: []DiagResult{{
			Check: "everything", Status: DiagWarn, Summary: "one result using every detail list", DurationMS: 12,
			Disks:     []DiskUsage{{Mount: "/", TotalBytes: 100, FreeBytes: 5, UsedPercent: 95}},
			TopCPU:    []ProcessUsage{{PID: 42, Name: "chrome", User: "alice", CPUPercent: 150, RSSBytes: 1 << 30}},
			TopMemory: []ProcessUsage{{PID: 42, Name: "chrome", User: "alice", CPUPercent: 150, RSSBytes: 1 << 30}},
			Services:  []Service{{Name: "cups.service", Description: "CUPS", State: "failed", SubState: "failed", Startup: "enabled"}},
			Log:       []LogEntry{{Time: t0, Unit: "kernel", Priority: 3, Message: "ata1: link is slow to respond"}},
			Probes:    []Probe{{Target: "console 127.0.0.1:443", OK: true, LatencyMS: 1, Detail: "connected"}},
			Clock:     &Clock{Synchronized: true, Service: "systemd-timesyncd", OffsetMS: 1, MaxErrorMS: 16},
			Reasons:   []string{"/var/run/reboot-required exists"},
		}},
	}
}
