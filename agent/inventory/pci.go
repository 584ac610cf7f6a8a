package inventory

import (
	"bufio"
	"bytes"
	"strings"
)

// pciKey is a vendor (device "") or a vendor's device, 4 lowercase hex digits each.
type pciKey struct{ vendor, device string }

// lookupPCINames finds names for the wanted IDs in a pci.ids database:
// vendor lines "8086  Intel Corporation", device lines indented by one tab;
// the device classes that follow the vendors ("C 00 …") end the search.
func lookupPCINames(db []byte, want map[pciKey]bool) map[pciKey]string {
	names := map[pciKey]string{}
	vendor := ""
	sc := bufio.NewScanner(bytes.NewReader(db))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		if strings.HasPrefix(line, "C ") {
			break
		}
		if line[0] != '\t' {
			id, name, ok := strings.Cut(line, "  ")
			vendor = ""
			if ok && len(id) == 4 {
				vendor = strings.ToLower(id)
				if want[pciKey{vendor, ""}] {
					names[pciKey{vendor, ""}] = name
				}
			}
			continue
		}
		if vendor == "" || strings.HasPrefix(line, "\t\t") {
			continue
		}
		id, name, ok := strings.Cut(line[1:], "  ")
		if k := (pciKey{vendor, strings.ToLower(id)}); ok && want[k] {
			names[k] = name
		}
	}
	return names
}
