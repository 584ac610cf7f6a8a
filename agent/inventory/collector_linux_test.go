package inventory

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// fakeRoot is an Alpine laptop as the hand-written collectors see it: files
// under /etc, /sys, /proc, /lib and /var built from the parser fixtures.
func fakeRoot(t *testing.T) fstest.MapFS {
	t.Helper()
	file := func(name string) *fstest.MapFile { return &fstest.MapFile{Data: fixture(t, name)} }
	text := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	link := func(target string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte(target), Mode: fs.ModeSymlink}
	}
	root := fstest.MapFS{
		"etc/os-release":                  file("os-release/alpine319"),
		"etc/passwd":                      file("passwd/passwd"),
		"etc/resolv.conf":                 file("resolv/resolved-stub.conf"),
		"etc/localtime":                   link("../usr/share/zoneinfo/Europe/Paris"),
		"run/systemd/resolve/resolv.conf": file("resolv/plain.conf"),
		"sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c": text("\x06\x00\x00\x00\x01"),
		"sys/block/nvme0n1/size":                  text("1000215216\n"),
		"sys/block/nvme0n1/removable":             text("0\n"),
		"sys/block/nvme0n1/queue/rotational":      text("0\n"),
		"sys/block/nvme0n1/device/model":          text("SAMSUNG MZVL21T0HCLR-00BL7             \n"),
		"sys/block/nvme0n1/device/serial":         text("S64PNX0T123456\n"),
		"sys/block/nvme0n1/device/firmware_rev":   text("GXA7601Q\n"),
		"sys/block/loop0/size":                    text("8\n"),
		"sys/class/drm/card0-eDP-1/status":        text("connected\n"),
		"sys/class/drm/card0-eDP-1/modes":         text("1920x1200\n1600x1200\n"),
		"sys/class/drm/card0-eDP-1/edid":          file("edid/dell.bin"),
		"sys/class/drm/card0-HDMI-A-1/status":     text("disconnected\n"),
		"sys/class/drm/card0/dev":                 text("226:0\n"),
		"sys/bus/pci/devices/0000:00:02.0/class":  text("0x030000\n"),
		"sys/bus/pci/devices/0000:00:02.0/vendor": text("0x8086\n"),
		"sys/bus/pci/devices/0000:00:02.0/device": text("0xa7a1\n"),
		"sys/bus/pci/devices/0000:00:02.0/driver": link("../../../bus/pci/drivers/i915"),
		"sys/bus/pci/devices/0000:00:1f.3/class":  text("0x040380\n"),
		"usr/share/misc/pci.ids":                  file("pci/pci.ids"),
		"sys/class/power_supply/BAT0/uevent":      file("power_supply/BAT0.uevent"),
		"sys/class/power_supply/AC/uevent":        file("power_supply/AC.uevent"),
		"sys/class/net/eth0/operstate":            text("up\n"),
		"sys/class/net/eth0/speed":                text("1000\n"),
		"sys/class/net/eth0/type":                 text("1\n"),
		"sys/class/net/eth0/device/driver":        link("../../../../bus/pci/drivers/e1000e"),
		"proc/net/route":                          file("proc/route"),
		"proc/net/ipv6_route":                     file("proc/ipv6_route"),
		"proc/sys/kernel/osrelease":               text("6.6.14-0-lts\n"),
		"lib/modules/6.6.20-0-lts/modules.dep":    text(""),
		"lib/apk/db/installed":                    file("apk/installed"),
		"var/run/reboot-required":                 text(""),
		"var/run/reboot-required.pkgs":            text("linux-lts\n"),
	}
	dmi, err := os.ReadDir("testdata/dmi/thinkpad")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range dmi {
		root["sys/class/dmi/id/"+e.Name()] = file(filepath.Join("dmi/thinkpad", e.Name()))
	}
	return root
}

// TestCollectFakeRootWithoutTools runs every Linux collector against a
// fake root with no tools in PATH: sysfs and file-based collectors work,
// tool-based ones fall back or say which tool is missing, and the report is
// complete and valid.
func TestCollectFakeRootWithoutTools(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("DISPLAY", "")
	t.Setenv("TZ", "")
	r, err := New(Options{FS: fakeRoot(t)}).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}

	equal(t, "os", [4]string{r.OS.Name, r.OS.VersionID, r.OS.ID, r.OS.Timezone.Name}, [4]string{"Alpine Linux", "3.19.1", "alpine", "Europe/Paris"})
	equal(t, "hardware status", r.Hardware.Status, inv.Known("sysfs"))
	equal(t, "firmware", r.Hardware.BIOS, inv.BIOS{Vendor: "LENOVO", Version: "R2FET51W (1.31 )", Date: "2023-11-22",
		Firmware: inv.FirmwareUEFI, SecureBoot: inv.SecureBootEnabled})
	equal(t, "chassis", r.Hardware.Chassis.Type, "Notebook")
	equal(t, "memory slots", r.Memory.Slots.Status, inv.Unknown("dmidecode not installed"))

	equal(t, "disks status", r.Disks.Status, inv.Status{OK: true, Source: "sysfs", Reason: "lsblk not installed"})
	equal(t, "disks", r.Disks.Disks, []inv.Disk{{Name: "nvme0n1", Model: "SAMSUNG MZVL21T0HCLR-00BL7", Serial: "S64PNX0T123456",
		Firmware: "GXA7601Q", SizeBytes: 1000215216 * 512, Media: inv.MediaSSD,
		SMART: inv.SMART{Status: inv.Unknown("smartctl not installed")}}})

	equal(t, "gateways", r.Network.Routes.Gateways, []inv.Gateway{{Address: "192.0.2.1", Interface: "enp0s31f6"},
		{Address: "192.168.1.1", Interface: "wlp0s20f3"}, {Address: "fe80::1", Interface: "enp0s31f6"}})
	equal(t, "dns", r.Network.DNS, inv.DNS{Status: inv.Known("systemd-resolved"), Servers: []string{"192.0.2.53", "2001:db8::53"}, Search: []string{}})
	for _, i := range r.Network.Interfaces {
		if i.Name == "eth0" {
			equal(t, "eth0", [4]any{i.Kind, i.State, i.SpeedMbps, i.Driver}, [4]any{inv.KindEthernet, "up", 1000, "e1000e"})
		}
	}

	equal(t, "displays", r.Displays, &inv.Displays{Status: inv.Known("drm"), Displays: []inv.Display{{Name: "eDP-1",
		Model: "DELL U2415", Manufacturer: "DEL", Width: 1920, Height: 1200, WidthMM: 530, HeightMM: 300}}})
	equal(t, "gpus", r.GPUs, &inv.GPUs{Status: inv.Known("sysfs"), GPUs: []inv.GPU{{Vendor: "Intel Corporation",
		Model: "Raptor Lake-P [Iris Xe Graphics]", VendorID: "8086", DeviceID: "a7a1", Driver: "i915", Slot: "0000:00:02.0"}}})
	if len(r.Batteries.Batteries) != 1 || r.Batteries.Batteries[0].Name != "BAT0" {
		t.Errorf("batteries: %+v", r.Batteries)
	}
	if len(r.Users.Accounts.Accounts) != 3 {
		t.Errorf("accounts: %+v", r.Users.Accounts)
	}

	equal(t, "software sources", r.Software.Sources, []inv.SourceStatus{{Source: inv.SourceAPK, Status: inv.Status{OK: true,
		Source: "apk", Reason: "skipped 1 malformed records"}}})
	equal(t, "packages", len(r.Software.Packages), 2)
	equal(t, "services", r.Services.Status, inv.Unknown("systemd is not the init system (no /run/systemd/system)"))

	equal(t, "firewall", r.Security.Firewall.Status, inv.Unknown("no firewall tool found (ufw, firewalld, nft, iptables)"))
	equal(t, "updates", r.Security.Updates.Status, inv.Unknown("no supported package manager (apt, dnf, apk)"))
	equal(t, "reboot", r.Security.Reboot, inv.Reboot{Status: inv.Known("reboot-required flag, kernel modules"), Required: true,
		Reasons: []string{"/var/run/reboot-required exists", "requested by linux-lts",
			"running kernel 6.6.14-0-lts is no longer installed (installed: 6.6.20-0-lts)"}})
}

// TestCollectEmptyRoot: with no files and no tools at all, every section
// still comes back, unknown with a reason where nothing could be read.
func TestCollectEmptyRoot(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("DISPLAY", "")
	r, err := New(Options{FS: fstest.MapFS{}}).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	equal(t, "hardware", r.Hardware.Status, inv.Unknown("/sys/class/dmi/id: not found; dmidecode not installed"))
	equal(t, "software", r.Software.Status, inv.Unknown("no known package manager found (dpkg, rpm, apk, flatpak, snap)"))
	equal(t, "disks", r.Disks.Status, inv.Unknown("lsblk not installed; /sys/block: not found"))
	equal(t, "accounts", r.Users.Accounts.Status, inv.Unknown("/etc/passwd: not found"))
	equal(t, "dns", r.Network.DNS.Status, inv.Unknown("/etc/resolv.conf: not found"))
	equal(t, "batteries", r.Batteries.Status, inv.Known("sysfs"))
}
