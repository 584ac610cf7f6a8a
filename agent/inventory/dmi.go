package inventory

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"time"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// dmiPlaceholders are values firmware vendors leave in unset SMBIOS strings.
var dmiPlaceholders = map[string]bool{
	"to be filled by o.e.m.": true, "to be filled by oem": true, "default string": true,
	"not specified": true, "not applicable": true, "not available": true, "none": true,
	"system serial number": true, "system product name": true, "system manufacturer": true,
	"system version": true, "base board serial number": true, "chassis serial number": true,
	"0123456789": true, "123456789": true, "oem": true, "o.e.m.": true, "n/a": true,
	"unknown": true, "invalid": true, "not settable": true, "no asset information": true,
	"no asset tag": true, "asset tag": true, "chassis asset tag": true, "type1productconfigid": true, "00000000-0000-0000-0000-000000000000": true,
	"03000200-0400-0500-0006-000700080009": true, "ffffffff-ffff-ffff-ffff-ffffffffffff": true,
}

// dmiValue cleans an SMBIOS string, mapping placeholders to "".
func dmiValue(s string, max int) string {
	s = clean(s, max)
	if dmiPlaceholders[strings.ToLower(s)] {
		return ""
	}
	return s
}

// chassisTypes names SMBIOS chassis types (SMBIOS 3.x, table 17).
var chassisTypes = []string{
	1: "Other", 2: "Unknown", 3: "Desktop", 4: "Low Profile Desktop", 5: "Pizza Box", 6: "Mini Tower",
	7: "Tower", 8: "Portable", 9: "Laptop", 10: "Notebook", 11: "Hand Held", 12: "Docking Station",
	13: "All in One", 14: "Sub Notebook", 15: "Space-saving", 16: "Lunch Box", 17: "Main Server Chassis",
	18: "Expansion Chassis", 19: "SubChassis", 20: "Bus Expansion Chassis", 21: "Peripheral Chassis",
	22: "RAID Chassis", 23: "Rack Mount Chassis", 24: "Sealed-case PC", 25: "Multi-system chassis",
	26: "Compact PCI", 27: "Advanced TCA", 28: "Blade", 29: "Blade Enclosure", 30: "Tablet",
	31: "Convertible", 32: "Detachable", 33: "IoT Gateway", 34: "Embedded PC", 35: "Mini PC", 36: "Stick PC",
}

// chassisType names the chassis type from sysfs's number ("10") or
// dmidecode's name ("Notebook"); unknown numbers stay numeric.
func chassisType(s string) string {
	s = strings.TrimSpace(s)
	n, err := strconv.Atoi(s)
	if err != nil {
		return dmiValue(s, inv.MaxShort)
	}
	n &= 0x7f // bit 7 is the lock flag
	if n > 0 && n < len(chassisTypes) && n != 2 {
		return chassisTypes[n]
	}
	return ""
}

// biosDate turns SMBIOS's MM/DD/YYYY (or MM/DD/YY) into YYYY-MM-DD; other
// forms are kept as they are.
func biosDate(s string) string {
	s = dmiValue(s, inv.MaxShort)
	for _, layout := range []string{"01/02/2006", "01/02/06"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format(time.DateOnly)
		}
	}
	return s
}

// sysfsDMIFields are the files under /sys/class/dmi/id the collector reads.
var sysfsDMIFields = []string{
	"sys_vendor", "product_name", "product_version", "product_serial", "product_uuid", "product_sku",
	"product_family", "bios_vendor", "bios_version", "bios_date", "board_vendor", "board_name",
	"board_version", "board_serial", "board_asset_tag", "chassis_type", "chassis_vendor",
	"chassis_serial", "chassis_asset_tag",
}

// hardwareFromSysfs maps /sys/class/dmi/id attributes to the schema.
func hardwareFromSysfs(v map[string]string) inv.Hardware {
	return inv.Hardware{
		System: inv.System{
			Manufacturer: dmiValue(v["sys_vendor"], inv.MaxName), Model: dmiValue(v["product_name"], inv.MaxName),
			Version: dmiValue(v["product_version"], inv.MaxShort), Serial: dmiValue(v["product_serial"], inv.MaxShort),
			UUID: strings.ToLower(dmiValue(v["product_uuid"], inv.MaxShort)), SKU: dmiValue(v["product_sku"], inv.MaxShort),
			Family: dmiValue(v["product_family"], inv.MaxName),
		},
		BIOS: inv.BIOS{Vendor: dmiValue(v["bios_vendor"], inv.MaxName), Version: dmiValue(v["bios_version"], inv.MaxShort),
			Date: biosDate(v["bios_date"])},
		Board: inv.Board{Manufacturer: dmiValue(v["board_vendor"], inv.MaxName), Model: dmiValue(v["board_name"], inv.MaxName),
			Version: dmiValue(v["board_version"], inv.MaxShort), Serial: dmiValue(v["board_serial"], inv.MaxShort),
			AssetTag: dmiValue(v["board_asset_tag"], inv.MaxShort)},
		Chassis: inv.Chassis{Type: chassisType(v["chassis_type"]), Manufacturer: dmiValue(v["chassis_vendor"], inv.MaxName),
			Serial: dmiValue(v["chassis_serial"], inv.MaxShort), AssetTag: dmiValue(v["chassis_asset_tag"], inv.MaxShort)},
	}
}

// dmiRecord is one structure in dmidecode's output.
type dmiRecord struct {
	Type   int
	Fields map[string]string // "Serial Number" -> "ABC1234"; list items are skipped
}

// parseDMIDecode parses dmidecode's text output: records start with
// "Handle 0x…, DMI type N, …", then a title line, then one tab-indented
// "Key: Value" line per field (list items are indented twice). Lines it
// cannot place are skipped.
func parseDMIDecode(b []byte) []dmiRecord {
	var recs []dmiRecord
	var cur *dmiRecord
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "Handle "); ok {
			_, typ, ok := strings.Cut(rest, "DMI type ")
			n, err := strconv.Atoi(strings.TrimSpace(strings.Split(typ, ",")[0]))
			if !ok || err != nil {
				cur = nil
				continue
			}
			recs = append(recs, dmiRecord{Type: n, Fields: map[string]string{}})
			cur = &recs[len(recs)-1]
			continue
		}
		if cur == nil || !strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "\t\t") {
			continue
		}
		if k, v, ok := strings.Cut(line[1:], ":"); ok {
			cur.Fields[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return recs
}

// hardwareFromDMIDecode maps dmidecode records of types 0-3.
func hardwareFromDMIDecode(recs []dmiRecord) inv.Hardware {
	var h inv.Hardware
	for _, r := range recs {
		f := r.Fields
		switch r.Type {
		case 0:
			h.BIOS.Vendor, h.BIOS.Version = dmiValue(f["Vendor"], inv.MaxName), dmiValue(f["Version"], inv.MaxShort)
			h.BIOS.Date = biosDate(f["Release Date"])
		case 1:
			h.System = inv.System{Manufacturer: dmiValue(f["Manufacturer"], inv.MaxName),
				Model: dmiValue(f["Product Name"], inv.MaxName), Version: dmiValue(f["Version"], inv.MaxShort),
				Serial: dmiValue(f["Serial Number"], inv.MaxShort), UUID: strings.ToLower(dmiValue(f["UUID"], inv.MaxShort)),
				SKU: dmiValue(f["SKU Number"], inv.MaxShort), Family: dmiValue(f["Family"], inv.MaxName)}
		case 2:
			if h.Board.Manufacturer == "" { // first baseboard only
				h.Board = inv.Board{Manufacturer: dmiValue(f["Manufacturer"], inv.MaxName),
					Model: dmiValue(f["Product Name"], inv.MaxName), Version: dmiValue(f["Version"], inv.MaxShort),
					Serial: dmiValue(f["Serial Number"], inv.MaxShort), AssetTag: dmiValue(f["Asset Tag"], inv.MaxShort)}
			}
		case 3:
			if h.Chassis.Type == "" && h.Chassis.Manufacturer == "" {
				h.Chassis = inv.Chassis{Type: chassisType(f["Type"]), Manufacturer: dmiValue(f["Manufacturer"], inv.MaxName),
					Serial: dmiValue(f["Serial Number"], inv.MaxShort), AssetTag: dmiValue(f["Asset Tag"], inv.MaxShort)}
			}
		}
	}
	return h
}

// slotsFromDMIDecode maps dmidecode type 17 (memory device) records: every
// record is a slot; those with a size hold a module.
func slotsFromDMIDecode(recs []dmiRecord) inv.Slots {
	s := inv.Slots{Status: inv.Known("dmidecode"), Modules: []inv.MemoryModule{}}
	for _, r := range recs {
		if r.Type != 17 || s.Total == inv.MaxModules {
			continue
		}
		s.Total++
		f := r.Fields
		size := dmiSize(f["Size"])
		if size == 0 {
			continue
		}
		speed := dmiSpeed(f["Configured Memory Speed"])
		if speed == 0 {
			speed = dmiSpeed(f["Configured Clock Speed"])
		}
		if speed == 0 {
			speed = dmiSpeed(f["Speed"])
		}
		locator := dmiValue(f["Locator"], inv.MaxName)
		if locator == "" {
			locator = "slot " + strconv.Itoa(s.Total)
		}
		s.Modules = append(s.Modules, inv.MemoryModule{
			Locator: locator, SizeBytes: size, Type: dmiValue(f["Type"], inv.MaxShort),
			FormFactor: dmiValue(f["Form Factor"], inv.MaxShort), SpeedMTs: speed,
			Manufacturer: dmiValue(f["Manufacturer"], inv.MaxName), PartNumber: dmiValue(f["Part Number"], inv.MaxName),
			Serial: dmiValue(f["Serial Number"], inv.MaxShort),
		})
	}
	return s
}

// dmiSize parses "8 GB", "16384 MB", "512 kB"; "No Module Installed" and
// anything else is 0.
func dmiSize(s string) uint64 {
	num, unit, ok := strings.Cut(strings.TrimSpace(s), " ")
	n, err := strconv.ParseUint(num, 10, 64)
	if !ok || err != nil {
		return 0
	}
	switch unit {
	case "kB", "KB":
		return n << 10
	case "MB":
		return n << 20
	case "GB":
		return n << 30
	case "TB":
		return n << 40
	}
	return 0
}

// dmiSpeed parses "3200 MT/s" or "3200 MHz"; "Unknown" is 0.
func dmiSpeed(s string) int {
	num, _, _ := strings.Cut(strings.TrimSpace(s), " ")
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || n > 1<<20 {
		return 0
	}
	return n
}
