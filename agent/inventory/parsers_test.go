package inventory

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// fixture reads testdata/name.
func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// equal fails the test with both values when they differ.
func equal[T any](tb testing.TB, what string, got, want T) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func TestOSRelease(t *testing.T) {
	tests := []struct {
		file string
		want inv.OS
	}{
		{"debian12", inv.OS{Name: "Debian GNU/Linux", Version: "12 (bookworm)", VersionID: "12", PrettyName: "Debian GNU/Linux 12 (bookworm)", ID: "debian"}},
		{"ubuntu2204", inv.OS{Name: "Ubuntu", Version: "22.04.4 LTS (Jammy Jellyfish)", VersionID: "22.04", PrettyName: "Ubuntu 22.04.4 LTS", ID: "ubuntu", IDLike: "debian"}},
		{"rhel9", inv.OS{Name: "Red Hat Enterprise Linux", Version: "9.3 (Plow)", VersionID: "9.3", PrettyName: "Red Hat Enterprise Linux 9.3 (Plow)", ID: "rhel", IDLike: "fedora"}},
		{"alpine319", inv.OS{Name: "Alpine Linux", Version: "3.19.1", VersionID: "3.19.1", PrettyName: "Alpine Linux v3.19", ID: "alpine"}},
		{"arch", inv.OS{Name: "Arch Linux", Version: "rolling", PrettyName: "Arch Linux", ID: "arch"}},
		// Unterminated quote keeps the rest, escapes are undone, junk is
		// skipped, control characters become spaces.
		{"malformed", inv.OS{Name: `Weird "Quoted" Linux`, Version: "1.0", VersionID: "1.0", PrettyName: "Tab and  [31mescape", ID: "weird"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var got inv.OS
			applyOSRelease(&got, parseOSRelease(fixture(t, "os-release/"+tt.file)))
			equal(t, "os", got, tt.want)
			got.Status = inv.Known("os-release")
			if err := got.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestHardwareFromSysfs(t *testing.T) {
	vals := map[string]string{}
	for _, f := range sysfsDMIFields {
		b, err := os.ReadFile(filepath.Join("testdata/dmi/thinkpad", f))
		if err == nil {
			vals[f] = strings.TrimSpace(string(b))
		}
	}
	got := hardwareFromSysfs(vals)
	want := inv.Hardware{
		System: inv.System{Manufacturer: "LENOVO", Model: "21HD003QGE", Version: "ThinkPad T14 Gen 4", Serial: "PF4ABCDE",
			UUID: "8f3e2d1c-0000-1111-2222-333344445555", SKU: "LENOVO_MT_21HD_BU_Think_FM_ThinkPad", Family: "ThinkPad T14 Gen 4"},
		BIOS:    inv.BIOS{Vendor: "LENOVO", Version: "R2FET51W (1.31 )", Date: "2023-11-22"},
		Board:   inv.Board{Manufacturer: "LENOVO", Model: "21HD003QGE", Version: "SDK0T76530 WIN", Serial: "L1HF3AB012C"},
		Chassis: inv.Chassis{Type: "Notebook", Manufacturer: "LENOVO", Serial: "PF4ABCDE"},
	}
	equal(t, "hardware", got, want)
}

func TestDMIDecode(t *testing.T) {
	recs := parseDMIDecode(fixture(t, "dmidecode/latitude.txt"))
	equal(t, "hardware", hardwareFromDMIDecode(recs), inv.Hardware{
		System: inv.System{Manufacturer: "Dell Inc.", Model: "Latitude 7440", Serial: "ABC1234",
			UUID: "4c4c4544-0042-3510-8052-b4c04f4d3432", SKU: "0C6B", Family: "Latitude"},
		BIOS:    inv.BIOS{Vendor: "Dell Inc.", Version: "1.10.1", Date: "2024-03-05"},
		Board:   inv.Board{Manufacturer: "Dell Inc.", Model: "0XYZ12", Version: "A00", Serial: "/ABC1234/CN1296343B0123/"},
		Chassis: inv.Chassis{Type: "Notebook", Manufacturer: "Dell Inc.", Serial: "ABC1234", AssetTag: "IT-0042"},
	})
	equal(t, "slots", slotsFromDMIDecode(recs), inv.Slots{Status: inv.Known("dmidecode"), Total: 3, Modules: []inv.MemoryModule{
		{Locator: "DIMM A", SizeBytes: 8 << 30, Type: "LPDDR5", FormFactor: "Row Of Chips", SpeedMTs: 5200,
			Manufacturer: "Micron Technology", PartNumber: "MT62F1G32D2DS-026 WT", Serial: "00000000"},
		{Locator: "DIMM B", SizeBytes: 16 << 30, Type: "DDR5", FormFactor: "SODIMM", SpeedMTs: 4800,
			Manufacturer: "SK Hynix", PartNumber: "HMCG78AGBSA095N", Serial: "12345678"},
	}})

	qemu := parseDMIDecode(fixture(t, "dmidecode/qemu.txt"))
	h := hardwareFromDMIDecode(qemu)
	equal(t, "qemu system", h.System, inv.System{Manufacturer: "QEMU", Model: "Standard PC (Q35 + ICH9, 2009)", Version: "pc-q35-8.0"})
	equal(t, "qemu chassis", h.Chassis, inv.Chassis{Type: "Other", Manufacturer: "QEMU"})
	equal(t, "qemu bios date", h.BIOS.Date, "2014-04-01")

	// Malformed: unparsable handles start no record, placeholders and
	// undecodable bytes are cleaned, absurd sizes give no module.
	bad := parseDMIDecode(fixture(t, "dmidecode/malformed.txt"))
	hw := hardwareFromDMIDecode(bad)
	equal(t, "malformed system", hw.System, inv.System{Model: "\uFFFDBad Bytes"})
	equal(t, "malformed bios", hw.BIOS, inv.BIOS{})
	s := slotsFromDMIDecode(bad)
	if s.Total != 2 || len(s.Modules) != 0 {
		t.Errorf("malformed slots: %+v", s)
	}
	if err := (&inv.Hardware{Status: inv.Known("x"), System: hw.System}).Validate(); err != nil {
		t.Error(err)
	}
}

func TestChassisTypeAndBIOSDate(t *testing.T) {
	for in, want := range map[string]string{"10": "Notebook", "3": "Desktop", "131": "Desktop", "2": "", "99": "", "Tower": "Tower", "Not Specified": ""} {
		equal(t, "chassis "+in, chassisType(in), want)
	}
	for in, want := range map[string]string{"03/05/2024": "2024-03-05", "12/31/99": "1999-12-31", "2024-03-05": "2024-03-05", "garbage": "garbage", "": ""} {
		equal(t, "date "+in, biosDate(in), want)
	}
}

func TestLSBLK(t *testing.T) {
	disks, err := parseLSBLK(fixture(t, "lsblk/laptop.json"))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "laptop", disks, []inv.Disk{
		{Name: "nvme0n1", Model: "PM9A1 NVMe Samsung 512GB", Serial: "S64ANS0T123456", Firmware: "GXA7801Q",
			WWN: "eui.002538b111b1a2c3", SizeBytes: 512110190592, Transport: "nvme", Media: inv.MediaSSD},
		{Name: "sda", Model: "WDC WD20EZBX-00A", Vendor: "ATA", Serial: "WD-WX12A3456789", Firmware: "1A01",
			WWN: "0x50014ee2b1234567", SizeBytes: 2000398934016, Transport: "sata", Media: inv.MediaHDD},
		{Name: "sdb", Model: "Cruzer Blade", Vendor: "SanDisk", Serial: "4C530001234567891234", Firmware: "1.00",
			SizeBytes: 31914983424, Transport: "usb", Media: inv.MediaHDD, Removable: true},
	})
	old, err := parseLSBLK(fixture(t, "lsblk/old-strings.json"))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "old lsblk", old, []inv.Disk{{Name: "vda", Vendor: "0x1af4", SizeBytes: 274877906944, Media: inv.MediaHDD}})
	for _, f := range []string{"lsblk/malformed-type.json", "lsblk/truncated.json"} {
		if _, err := parseLSBLK(fixture(t, f)); err == nil {
			t.Errorf("%s: no error", f)
		}
	}
}

func TestSmartctl(t *testing.T) {
	equal(t, "sata", parseSmartctl(fixture(t, "smartctl/sata-ok.json")),
		inv.SMART{Status: inv.Known("smartctl"), Passed: true, ReallocatedSectors: 8, PendingSectors: 2})
	equal(t, "nvme", parseSmartctl(fixture(t, "smartctl/nvme-failing.json")),
		inv.SMART{Status: inv.Known("smartctl"), Passed: false, MediaErrors: 17, PercentUsed: 104})
	equal(t, "permission", parseSmartctl(fixture(t, "smartctl/permission.json")),
		inv.SMART{Status: inv.Unknown("smartctl: Smartctl open device: /dev/sda failed: Permission denied")})
	equal(t, "virtio", parseSmartctl(fixture(t, "smartctl/virtio.json")),
		inv.SMART{Status: inv.Unknown("smartctl: /dev/vda: Unable to detect device type")})
	if s := parseSmartctl(fixture(t, "smartctl/text.json")); s.Status.OK || !strings.HasPrefix(s.Status.Reason, "smartctl output:") {
		t.Errorf("text output: %+v", s)
	}
}

func TestProcRoute(t *testing.T) {
	equal(t, "ipv4", parseProcRoute(fixture(t, "proc/route")), []inv.Gateway{
		{Address: "192.0.2.1", Interface: "enp0s31f6"}, {Address: "192.168.1.1", Interface: "wlp0s20f3"},
	})
	equal(t, "ipv6", parseProcIPv6Route(fixture(t, "proc/ipv6_route")), []inv.Gateway{{Address: "fe80::1", Interface: "enp0s31f6"}})
	equal(t, "empty", parseProcRoute(nil), []inv.Gateway{})
}

func TestResolvConf(t *testing.T) {
	equal(t, "plain", parseResolvConf(fixture(t, "resolv/plain.conf")),
		resolvConf{Servers: []string{"192.0.2.53", "2001:db8::53"}, Search: []string{"corp.example", "lab.example"}})
	stub := parseResolvConf(fixture(t, "resolv/resolved-stub.conf"))
	equal(t, "stub", stub, resolvConf{Servers: []string{"127.0.0.53"}, Search: []string{}})
	if !onlyStubResolver(stub.Servers) || onlyStubResolver([]string{"127.0.0.53", "192.0.2.1"}) || onlyStubResolver(nil) {
		t.Error("onlyStubResolver")
	}
	equal(t, "malformed", parseResolvConf(fixture(t, "resolv/malformed.conf")),
		resolvConf{Servers: []string{"10.0.0.2"}, Search: []string{"corp.example"}, Domain: "corp.example"})
}

func TestXrandr(t *testing.T) {
	equal(t, "dual", parseXrandr(fixture(t, "xrandr/dual.txt")), []inv.Display{
		{Name: "eDP-1", Primary: true, Width: 1920, Height: 1080, WidthMM: 344, HeightMM: 194},
		{Name: "HDMI-1", Width: 1920, Height: 1080, X: 1920, WidthMM: 527, HeightMM: 296},
		{Name: "DP-3", Width: 1080, Height: 1920, X: -1080, WidthMM: 598, HeightMM: 336},
	})
	equal(t, "xvfb", parseXrandr(fixture(t, "xrandr/xvfb.txt")), []inv.Display{{Name: "screen", Width: 1920, Height: 1080}})
	equal(t, "error", parseXrandr(fixture(t, "xrandr/error.txt")), []inv.Display{})
}

func TestEDID(t *testing.T) {
	e, err := parseEDID(fixture(t, "edid/dell.bin"))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "edid", e, edid{Manufacturer: "DEL", Model: "DELL U2415", WidthMM: 530, HeightMM: 300})
	for _, f := range []string{"edid/bad-checksum.bin", "edid/short.bin"} {
		if _, err := parseEDID(fixture(t, f)); err == nil {
			t.Errorf("%s: no error", f)
		}
	}
	w, h := drmMode("2560x1440\n1920x1080\n")
	equal(t, "drm mode", [2]int{w, h}, [2]int{2560, 1440})
	w, h = drmMode("1920x1080i\n")
	equal(t, "interlaced", [2]int{w, h}, [2]int{1920, 1080})
	w, h = drmMode("")
	equal(t, "no modes", [2]int{w, h}, [2]int{0, 0})
}

func TestPCINames(t *testing.T) {
	want := map[pciKey]bool{{"8086", ""}: true, {"8086", "a7a1"}: true, {"10de", "2684"}: true, {"1234", "1111"}: true}
	equal(t, "names", lookupPCINames(fixture(t, "pci/pci.ids"), want), map[pciKey]string{
		{"8086", ""}: "Intel Corporation", {"8086", "a7a1"}: "Raptor Lake-P [Iris Xe Graphics]", {"10de", "2684"}: "AD102 [GeForce RTX 4090]",
	})
}

func TestBatteries(t *testing.T) {
	b, ok := batteryFromUevent("BAT0", parseUevent(fixture(t, "power_supply/BAT0.uevent")))
	equal(t, "energy", [2]any{b, ok}, [2]any{inv.Battery{Name: "BAT0", Manufacturer: "SMP", Model: "5B10W13975", Serial: "1234",
		Technology: "Li-poly", State: "discharging", ChargePercent: 80, DesignCapacityMWh: 57000, FullCapacityMWh: 52310,
		CycleCount: 123, DesignVoltageMV: 15440}, true})
	b, ok = batteryFromUevent("BAT1", parseUevent(fixture(t, "power_supply/BAT1-charge.uevent")))
	equal(t, "charge", [2]any{b, ok}, [2]any{inv.Battery{Name: "BAT1", Manufacturer: "Hewlett-Packard", Model: "Primary",
		Technology: "Li-ion", State: "charging", ChargePercent: 100, DesignCapacityMWh: 45600, FullCapacityMWh: 39900,
		DesignVoltageMV: 11400}, true})
	for _, f := range []string{"AC", "mouse"} {
		if _, ok := batteryFromUevent(f, parseUevent(fixture(t, "power_supply/"+f+".uevent"))); ok {
			t.Errorf("%s counted as a system battery", f)
		}
	}
}

func TestPasswd(t *testing.T) {
	equal(t, "accounts", parsePasswd(fixture(t, "passwd/passwd")), []inv.Account{
		{Name: "root", ID: "0", FullName: "root", Home: "/root", Shell: "/bin/bash"},
		{Name: "alice", ID: "1000", FullName: "Alice Martin", Home: "/home/alice", Shell: "/bin/bash"},
		{Name: "bob", ID: "1001", Home: "/home/bob", Shell: "/usr/sbin/nologin", Disabled: true},
	})
}

func TestDpkgStatus(t *testing.T) {
	p := parseDpkgStatus(fixture(t, "dpkg/status"))
	if p.Skipped != 1 || len(p.Packages) != 4 {
		t.Fatalf("got %d packages, %d skipped: %+v", len(p.Packages), p.Skipped, p.Packages)
	}
	equal(t, "bash", p.Packages[0], inv.Package{Source: inv.SourceDpkg, Name: "bash", Version: "5.2.15-2+b8", Arch: "amd64",
		Publisher: "Matthias Klose", SizeBytes: 7164 << 10})
	equal(t, "held", p.Packages[3].Name, "held-package")
	equal(t, "status", p.status("dpkg"), inv.Status{OK: true, Source: "dpkg", Reason: "skipped 1 malformed records"})
}

func TestRPM(t *testing.T) {
	p := parseRPM(fixture(t, "rpm/qa.txt"))
	equal(t, "rpm", p.Packages, []inv.Package{
		{Source: inv.SourceRPM, Name: "bash", Version: "5.1.8-9.el9", Arch: "x86_64", Publisher: "Red Hat, Inc.",
			InstallDate: time.Unix(1706271234, 0).UTC(), SizeBytes: 7738634},
		{Source: inv.SourceRPM, Name: "openssl-libs", Version: "1:3.0.7-25.el9_3", Arch: "x86_64", Publisher: "Red Hat, Inc.",
			InstallDate: time.Unix(1706271240, 0).UTC(), SizeBytes: 6374812},
		{Source: inv.SourceRPM, Name: "gpg-pubkey", Version: "3228467c-613798eb", InstallDate: time.Unix(1706271000, 0).UTC()},
		{Source: inv.SourceRPM, Name: "kernel-core", Version: "5.14.0-362.18.1.el9_3", Arch: "x86_64", Publisher: "Red Hat, Inc."},
	})
	bad := parseRPM(fixture(t, "rpm/malformed.txt"))
	if len(bad.Packages) != 0 || bad.Skipped != 4 {
		t.Errorf("malformed rpm: %d packages, %d skipped", len(bad.Packages), bad.Skipped)
	}
}

func TestAPK(t *testing.T) {
	p := parseAPKInstalled(fixture(t, "apk/installed"))
	equal(t, "apk", p, parsed{Packages: []inv.Package{
		{Source: inv.SourceAPK, Name: "musl", Version: "1.2.4_git20230717-r4", Arch: "x86_64", Publisher: "Natanael Copa", SizeBytes: 651264},
		{Source: inv.SourceAPK, Name: "busybox", Version: "1.36.1-r15", Arch: "x86_64", Publisher: "Sören Tempel", SizeBytes: 950272},
	}, Skipped: 1})
	bad := parseAPKInstalled(fixture(t, "apk/malformed"))
	if len(bad.Packages) != 3 || bad.Skipped != 2 || bad.Packages[2].Name != "\uFFFDweird" {
		t.Errorf("malformed apk: %+v", bad)
	}
}

func TestFlatpakAndSnap(t *testing.T) {
	equal(t, "flatpak", parseFlatpakList(fixture(t, "flatpak/list.txt")), parsed{Packages: []inv.Package{
		{Source: inv.SourceFlatpak, Name: "org.mozilla.firefox", Version: "124.0.1", Arch: "x86_64", Publisher: "flathub"},
		{Source: inv.SourceFlatpak, Name: "org.freedesktop.Platform", Version: "23.08", Arch: "x86_64", Publisher: "flathub"},
	}, Skipped: 1})
	equal(t, "snap", parseSnapList(fixture(t, "snap/list.txt")), parsed{Packages: []inv.Package{
		{Source: inv.SourceSnap, Name: "core22", Version: "20240111", Publisher: "canonical"},
		{Source: inv.SourceSnap, Name: "firefox", Version: "124.0.1-1", Publisher: "mozilla"},
		{Source: inv.SourceSnap, Name: "lxd", Version: "5.20-f3dd836", Publisher: "canonical"},
		{Source: inv.SourceSnap, Name: "my-local-snap", Version: "0.1"},
	}, Skipped: 1})
}

func TestSystemd(t *testing.T) {
	want := []inv.Service{
		{Name: "cron.service", Description: "Regular background program processing daemon", State: "active", SubState: "running"},
		{Name: "cups.service", Description: "CUPS Scheduler", State: "failed", SubState: "failed"},
		{Name: "getty@tty1.service", Description: "Getty on tty1", State: "active", SubState: "running"},
		{Name: "nfs-server.service", Description: "nfs-server.service", State: "inactive", SubState: "dead"},
	}
	got, err := parseSystemdUnitsJSON(fixture(t, "systemctl/units.json"))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "json", got, want)
	equal(t, "plain", parseSystemdUnitsPlain(fixture(t, "systemctl/units-plain.txt")), want)
	if _, err := parseSystemdUnitsJSON(fixture(t, "systemctl/truncated.json")); err == nil {
		t.Error("truncated JSON: no error")
	}
	states := parseSystemdUnitFiles(fixture(t, "systemctl/unit-files.txt"))
	for unit, want := range map[string]string{"cron.service": "enabled", "getty@tty1.service": "enabled",
		"ssh.service": "masked", "nfs-server.service": "", "weird@": ""} {
		equal(t, "startup "+unit, startup(states, unit), want)
	}
}

func TestFirewallParsers(t *testing.T) {
	rules, filtering := parseIptablesS(fixture(t, "firewall/iptables-rules.txt"))
	equal(t, "iptables rules", [2]any{rules, filtering}, [2]any{3, true})
	rules, filtering = parseIptablesS(fixture(t, "firewall/iptables-open.txt"))
	equal(t, "iptables open", [2]any{rules, filtering}, [2]any{0, false})
	rules, filtering = parseIptablesS([]byte("-P INPUT ACCEPT\n-A FORWARD -j DOCKER-USER\n"))
	equal(t, "docker only", [2]any{rules, filtering}, [2]any{1, false})

	n, filt, err := parseNftRuleset(fixture(t, "firewall/nft.json"))
	equal(t, "nft", [3]any{n, filt, err}, [3]any{2, true, nil})
	if _, _, err := parseNftRuleset(fixture(t, "firewall/nft-odd.json")); err == nil {
		t.Error("odd nft JSON: no error")
	}
	if !ufwEnabled(fixture(t, "firewall/ufw.conf")) || ufwEnabled([]byte("ENABLED=no\n")) {
		t.Error("ufwEnabled")
	}
}

func TestUpdateParsers(t *testing.T) {
	apt := parseAptSimulate(fixture(t, "updates/apt-simulate.txt"))
	equal(t, "apt", apt, inv.Updates{Status: inv.Known("apt-get -s dist-upgrade"), Pending: 4, Security: 2,
		Packages: []string{"base-files", "bash", "libgcrypt20-dev", "libgcrypt20"}})
	dnf := parseDnfCheckUpdate(fixture(t, "updates/dnf-check-update.txt"))
	equal(t, "dnf", dnf, inv.Updates{Status: inv.Known("dnf check-update"), Pending: 3,
		Packages: []string{"kernel", "openssl-libs", "python3-urllib3"}})
	apk := parseApkVersion(fixture(t, "updates/apk-version.txt"))
	equal(t, "apk", apk, inv.Updates{Status: inv.Known("apk version"), Pending: 3,
		Packages: []string{"busybox", "libcrypto3", "ssl_client"}})
	for _, u := range []inv.Updates{apt, dnf, apk} {
		if err := (&inv.Security{Status: inv.Known("x"), Firewall: inv.Firewall{Status: inv.Known("x")},
			Reboot: inv.Reboot{Status: inv.Known("x")}, Updates: u}).Validate(); err != nil {
			t.Error(err)
		}
	}
}

func TestReboot(t *testing.T) {
	equal(t, "pkgs", rebootPackages([]byte("linux-image-6.1.0-20-amd64\nlibc6\nlibc6\n\n")),
		[]string{"linux-image-6.1.0-20-amd64", "libc6"})
	if !kernelGone("6.1.0-18-amd64", []string{"6.1.0-20-amd64"}) || kernelGone("6.1.0-18-amd64", []string{"6.1.0-18-amd64", "6.1.0-20-amd64"}) ||
		kernelGone("6.1.0-18-amd64", nil) {
		t.Error("kernelGone")
	}
}

func TestWindowsValues(t *testing.T) {
	p, ok := packageFromUninstall(regValues{"DisplayName": "Google Chrome", "DisplayVersion": "123.0.6312.106",
		"Publisher": "Google LLC", "InstallDate": "20240402", "EstimatedSize": uint64(102400)}, "x64")
	equal(t, "chrome", [2]any{p, ok}, [2]any{inv.Package{Source: inv.SourceWindows, Name: "Google Chrome",
		Version: "123.0.6312.106", Arch: "x64", Publisher: "Google LLC",
		InstallDate: time.Date(2024, 4, 2, 0, 0, 0, 0, time.UTC), SizeBytes: 100 << 20}, true})
	for name, v := range map[string]regValues{
		"no name":          {"DisplayVersion": "1"},
		"system component": {"DisplayName": "x", "SystemComponent": uint64(1)},
		"update":           {"DisplayName": "KB5034441", "ParentKeyName": "OperatingSystem"},
		"hotfix":           {"DisplayName": "x", "ReleaseType": "Hotfix"},
	} {
		if _, ok := packageFromUninstall(v, "x64"); ok {
			t.Errorf("%s: listed", name)
		}
	}
	if p, _ := packageFromUninstall(regValues{"DisplayName": "Odd", "InstallDate": "2024-04-02", "EstimatedSize": "12"}, "x86"); !p.InstallDate.IsZero() || p.SizeBytes != 0 {
		t.Errorf("malformed values: %+v", p)
	}

	var o inv.OS
	windowsVersion(&o, regValues{"ProductName": "Windows 10 Pro", "DisplayVersion": "23H2", "CurrentBuildNumber": "22631",
		"CurrentMajorVersionNumber": uint64(10), "CurrentMinorVersionNumber": uint64(0), "UBR": uint64(3447)})
	equal(t, "windows 11", o, inv.OS{Name: "Windows 11 Pro", Version: "23H2", VersionID: "10.0.22631.3447",
		PrettyName: "Windows 11 Pro 23H2", ID: "windows"})

	h := hardwareFromBIOSKey(regValues{"BIOSVendor": "Dell Inc.", "BIOSVersion": "1.10.1", "BIOSReleaseDate": "03/05/2024",
		"SystemManufacturer": "Dell Inc.", "SystemProductName": "Latitude 7440", "BaseBoardProduct": "0XYZ12", "SystemSKU": "Default string"})
	equal(t, "bios key", h, inv.Hardware{System: inv.System{Manufacturer: "Dell Inc.", Model: "Latitude 7440"},
		BIOS: inv.BIOS{Vendor: "Dell Inc.", Version: "1.10.1", Date: "2024-03-05"}, Board: inv.Board{Model: "0XYZ12"}})

	g, ok := gpuFromClassKey(regValues{"DriverDesc": "Intel(R) Iris(R) Xe Graphics", "ProviderName": "Intel Corporation",
		"DriverVersion": "31.0.101.5333", "MatchingDeviceId": `PCI\VEN_8086&DEV_A7A1&SUBSYS_0C0B1028`})
	equal(t, "gpu", [2]any{g, ok}, [2]any{inv.GPU{Vendor: "Intel Corporation", Model: "Intel(R) Iris(R) Xe Graphics",
		VendorID: "8086", DeviceID: "a7a1", Driver: "31.0.101.5333"}, true})

	gws, dns := windowsResolvers([]regValues{
		{"DhcpDefaultGateway": []string{"192.168.1.1"}, "DhcpNameServer": "192.168.1.1 192.168.1.2"},
		{"DefaultGateway": []string{"garbage", "192.168.1.1"}, "NameServer": "10.0.0.53,10.0.0.54"},
	})
	equal(t, "gateways", gws, []inv.Gateway{{Address: "192.168.1.1"}})
	equal(t, "dns", dns, []string{"192.168.1.1", "192.168.1.2", "10.0.0.53", "10.0.0.54"})

	equal(t, "start", [3]string{windowsStartType(2), windowsStartType(4), windowsStartType(9)}, [3]string{"auto", "disabled", ""})
	equal(t, "state", [3]string{windowsServiceState(4), windowsServiceState(1), windowsServiceState(99)}, [3]string{"running", "stopped", "unknown"})
	if !windowsAccountSID("S-1-5-21-1-2-3-1001") || windowsAccountSID("S-1-5-18") {
		t.Error("windowsAccountSID")
	}
}

func TestMacOSParsers(t *testing.T) {
	var o inv.OS
	applySwVers(&o, parseSwVers(fixture(t, "macos/sw_vers.txt")))
	equal(t, "sw_vers", o, inv.OS{Name: "macOS", Version: "14.4.1", VersionID: "23E224", PrettyName: "macOS 14.4.1", ID: "macos"})

	h, err := parseSPHardware(fixture(t, "macos/hardware.json"))
	equal(t, "hardware", [2]any{h, err}, [2]any{inv.Hardware{
		System: inv.System{Manufacturer: "Apple Inc.", Model: "Mac14,2", Family: "MacBook Air", Serial: "C02XG0ABCDEF",
			UUID: "6a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9", SKU: "Z15S000CTD/A"},
		BIOS: inv.BIOS{Vendor: "Apple Inc.", Version: "10151.101.3"}, Chassis: inv.Chassis{Type: "Notebook"}}, nil})

	d, g, err := parseSPDisplays(fixture(t, "macos/displays.json"))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "displays", d, []inv.Display{
		{Name: "Color LCD", Model: "Color LCD", Width: 2940, Height: 1912, Primary: true},
		{Name: "DELL U2415", Model: "DELL U2415", Width: 1920, Height: 1200},
	})
	equal(t, "gpus", g, []inv.GPU{{Vendor: "Apple", Model: "Apple M2"}})

	apps, err := parseSPApplications(fixture(t, "macos/applications.json"))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "apps", apps, parsed{Packages: []inv.Package{
		{Source: inv.SourceMacOS, Name: "Safari", Version: "17.4.1", Arch: "arm_i64", Publisher: "Apple",
			InstallDate: time.Date(2024, 4, 10, 8, 12, 34, 0, time.UTC)},
		{Source: inv.SourceMacOS, Name: "Google Chrome", Version: "123.0.6312.107", Arch: "arm_i64", Publisher: "Google LLC",
			InstallDate: time.Date(2024, 4, 2, 17, 45, 0, 0, time.UTC)},
		{Source: inv.SourceMacOS, Name: "Unsigned Tool", InstallDate: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)},
	}, Skipped: 1})
	for _, f := range []string{"macos/hardware.json", "macos/displays.json", "macos/applications.json"} {
		if _, err := parseSPApplications([]byte(`{"SPApplicationsDataType": 7}`)); err == nil {
			t.Errorf("%s: malformed JSON accepted", f)
		}
	}

	enabled, ok := socketFilterEnabled([]byte("Firewall is enabled. (State = 1)\n"))
	equal(t, "socketfilterfw", [2]bool{enabled, ok}, [2]bool{true, true})
	_, ok = socketFilterEnabled([]byte("garbage"))
	equal(t, "socketfilterfw garbage", ok, false)

	equal(t, "dscl", parseDsclUsers(fixture(t, "macos/dscl.txt")), []inv.Account{{Name: "root", ID: "0"}, {Name: "alice", ID: "501"}, {Name: "bob", ID: "502"}})
	equal(t, "launchctl", parseLaunchctlList(fixture(t, "macos/launchctl.txt")), []inv.Service{
		{Name: "com.apple.SafariHistoryServiceAgent", State: "stopped"}, {Name: "com.apple.Finder", State: "running"},
		{Name: "com.example.crashing", State: "stopped"},
	})
	equal(t, "route", parseRouteGet(fixture(t, "macos/route-get.txt")), []inv.Gateway{{Address: "192.168.1.1", Interface: "en0"}})
	equal(t, "route garbage", parseRouteGet([]byte("gateway: nope")), []inv.Gateway{})
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"  plain  ":              "plain",
		"tab\there":              "tab here",
		"\xff\xfe":               "\uFFFD",
		"esc\x1b[31m":            "esc [31m",
		strings.Repeat("é", 200): strings.Repeat("é", 128), // 256 bytes, cut on a rune boundary
	} {
		equal(t, "clean "+in, clean(in, 256), want)
	}
	equal(t, "clip rune boundary", clip("aé", 2), "a")
}

// TestCommandFormatsMatchParsers keeps the output formats the collectors ask
// for in step with what the parsers read.
func TestCommandFormatsMatchParsers(t *testing.T) {
	if n := strings.Count(rpmQueryFormat, `\t`) + 1; n != 6 || !strings.HasSuffix(rpmQueryFormat, `\n`) {
		t.Errorf("rpm query format has %d fields; parseRPM reads 6 per line", n)
	}
	if n := len(strings.Split(flatpakColumns, ",")); n != 5 {
		t.Errorf("flatpak columns: %d; parseFlatpakList reads 5", n)
	}
	for _, col := range []string{"NAME", "TYPE", "SIZE", "MODEL", "VENDOR", "SERIAL", "REV", "WWN", "ROTA", "TRAN", "RM"} {
		if !strings.Contains(","+lsblkColumns+",", ","+col+",") {
			t.Errorf("lsblk columns lack %s, which parseLSBLK reads", col)
		}
	}
}
